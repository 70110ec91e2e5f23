"""Test fake: a ComfyUI 0.3.64 server (aiohttp, 127.0.0.1:0) replaying recorded behaviour.

Runs in a background thread with its own event loop, so it serves plain `asyncio.run` tests and
pytest-qt tests on a qasync loop alike. Routes are registered as `/X` and `/api/X` like ComfyUI.
Behaviour comes from `fake_comfyui_engine` (fixtures); this module adds the server, websocket
client-id routing, the execution worker and fault injection (see `Faults`):
die mid-job (listener closed, connections cut), websocket drop, restart that forgets queue and
history, truncated downloads, malformed JSON replies, slow replies, 502 HTML from a proxy,
403 from the origin guard (always on, as in ComfyUI), a missing log route, a proxy token.

    with FakeComfyUI(tmp_path) as fake:
        backend = ComfyUIBackend(fake.url)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import threading
import time
import urllib.parse
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from . import fake_comfyui_engine as engine

HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 "
    "Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
CONSOLE = engine.console_lines_by_class()
CHECKPOINTS = ["random_sd15.safetensors", "random_sd15_tiny.safetensors"]


@dataclass
class Faults:
    slow_response: float = 0.0  # seconds added to every HTTP reply
    proxy_502: int = 0  # the next N HTTP requests get a proxy's 502 HTML page
    malformed_json_paths: set[str] = field(default_factory=set)  # e.g. {"/queue"}
    malformed_json_count: int = 0  # only the next N replies on those paths (0: every one)
    trickle_downloads: float = 0.0  # /view sends this many bytes per second (0: full speed)
    truncate_downloads: int = 0  # the next N /view replies stop halfway (Content-Length full)
    rate_limited: int = 0  # the next N HTTP requests get 429 with Retry-After: 1
    corrupt_saved_files: bool = False  # SaveLoRA writes a truncated file
    logs_route: bool = True  # False: /internal/logs/* answer 404 (older/locked-down servers)
    progress_events: bool | None = None  # per-step `progress` events; default: newer node set
    # Training steps count like the saved file names do: including an existing_lora's steps.
    die_at_step: int | None = None  # server process dies when training reaches this step
    drop_ws_at_step: int | None = None  # all websockets are cut at this step
    restart_at_step: int | None = None  # server restarts (forgets queue + history) at this step
    raise_in_node: dict[str, tuple[str, str]] = field(default_factory=dict)  # class → (type, msg)
    reject_inputs: dict[tuple[str, str], str] = field(default_factory=dict)
    require_token: str | None = None  # proxy: "Authorization: Bearer X" or ?token=X
    # POST /prompt queues the prompt, then holds its reply this long (a client killed meanwhile
    # never learns the prompt was accepted).
    hold_prompt_reply: float = 0.0


class NodeInterruptedError(Exception):
    def __init__(self, node_id: str) -> None:
        self.node_id = node_id


class NodeFailureError(Exception):
    def __init__(self, node_id: str, exc: BaseException) -> None:
        self.node_id, self.exc = node_id, exc


class FakeComfyUI:
    def __init__(
        self,
        root: Path,
        *,
        node_set: str = "0.3.64",
        steps_per_second: float = 400.0,
        node_delay: float = 0.002,
        lora_bytes: int = 64 * 1024,
        gpu: bool = True,
    ) -> None:
        self.root = Path(root)
        self.input_dir, self.output_dir = self.root / "input", self.root / "output"
        self.temp_dir = self.root / "temp"
        for folder in (self.input_dir, self.output_dir / "loras", self.temp_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.node_set, self.steps_per_second, self.node_delay = (
            node_set,
            steps_per_second,
            node_delay,
        )
        self.lora_bytes, self.gpu = lora_bytes, gpu
        self.faults = Faults()
        self.port = 0
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.ws_connects: list[tuple[str, dict[str, str]]] = []
        self.bar_sent: dict[tuple[str, int], float] = {}
        self.messages_sent = 0
        self.dead = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._reset_state()

    # -- lifecycle (called from the test thread) -------------------------------------------
    def __enter__(self) -> FakeComfyUI:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        self.call(self._start_site())

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def call(self, coro: Awaitable[Any], timeout: float = 15.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)  # type: ignore[arg-type]

    def die(self) -> None:
        self.call(self._die())

    def revive(self) -> None:
        self.call(self._revive())

    def restart(self) -> None:
        self.call(self._die())
        self.call(self._revive())

    def drop_websockets(self) -> None:
        self.call(self._drop_websockets())

    def lora_files(self) -> list[str]:
        return sorted(p.name for p in (self.output_dir / "loras").glob("*.safetensors"))

    # -- state -----------------------------------------------------------------------------
    def _reset_state(self) -> None:
        """What a restart forgets (files on disk stay)."""
        self.pending: list[dict[str, Any]] = []
        self.running: dict[str, Any] | None = None
        self.history: dict[str, Any] = {}
        self.cache: dict[str, tuple[list[Any], Any]] = {}
        self.sockets: dict[str, set[web.WebSocketResponse]] = {}
        self.log_subscribers: set[str] = set()
        self.log_buffer: deque[dict[str, str]] = deque(maxlen=300)
        self.interrupt_requested = False
        self.number = 0
        self._worker: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    def object_info(self) -> dict[str, Any]:
        info = engine.build_object_info(self.node_set)
        folders = sorted(
            str(p.relative_to(self.input_dir)).replace("\\", "/")
            for p in self.input_dir.rglob("*")
            if p.is_dir()
        )
        loras = sorted(p.name for p in (self.output_dir / "loras").glob("*.safetensors"))
        for name in (
            "LoadImageTextSetFromFolderNode",
            "LoadImageSetFromFolderNode",
            "LoadImageTextDataSetFromFolder",
        ):
            if name in info:
                engine.set_combo(info[name]["input"]["required"]["folder"], folders)
        if "TrainLoraNode" in info:
            engine.set_combo(
                info["TrainLoraNode"]["input"]["required"]["existing_lora"], [*loras, "[None]"]
            )
        engine.set_combo(
            info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"], list(CHECKPOINTS)
        )
        if "LoraLoaderModelOnly" in info:  # models/loras and output/loras, as on the real server
            engine.set_combo(info["LoraLoaderModelOnly"]["input"]["required"]["lora_name"], loras)
        return info

    # -- server ----------------------------------------------------------------------------
    async def _start_site(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=100 * 1024**2)
        for prefix in ("", "/api"):
            r = app.router
            r.add_get(prefix + "/system_stats", self._system_stats)
            r.add_get(prefix + "/object_info", self._object_info)
            r.add_get(prefix + "/object_info/{name}", self._object_info_one)
            r.add_get(prefix + "/features", self._features)
            r.add_get(prefix + "/prompt", self._prompt_info)
            r.add_post(prefix + "/prompt", self._post_prompt)
            r.add_get(prefix + "/queue", self._get_queue)
            r.add_post(prefix + "/queue", self._post_queue)
            r.add_post(prefix + "/interrupt", self._interrupt)
            r.add_get(prefix + "/history", self._get_history_all)
            r.add_get(prefix + "/history/{pid}", self._get_history)
            r.add_post(prefix + "/upload/image", self._upload)
            r.add_get(prefix + "/view", self._view)
            r.add_patch(prefix + "/internal/logs/subscribe", self._logs_subscribe)
            r.add_get(prefix + "/internal/logs/raw", self._logs_raw)
            r.add_get(prefix + "/ws", self._ws)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await self._revive()

    async def _revive(self) -> None:
        self._reset_state()
        self.dead = False
        self._wake = asyncio.Event()
        self._worker = asyncio.get_running_loop().create_task(self._work())
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()
        self.port = self._runner.addresses[0][1]

    async def _die(self) -> None:
        """The process vanishes: no listener, connections cut, running work abandoned."""
        if self.dead:
            return
        self.dead = True
        if self._worker is not None and self._worker is not asyncio.current_task():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self._site.stop()
        server = self._runner.server
        if server is not None:
            for connection in server.connections:
                connection.force_close()

    async def _shutdown(self) -> None:
        await self._die()
        await self._runner.cleanup()

    async def _drop_websockets(self) -> None:
        for sockets in list(self.sockets.values()):
            for ws in list(sockets):
                await ws.close(code=1001, message=b"proxy idle timeout")

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[..., Any]) -> Any:
        self.requests.append((request.method, request.path, dict(request.headers)))
        token = self.faults.require_token
        if (
            token
            and request.headers.get("Authorization") != f"Bearer {token}"
            and (request.query.get("token") != token)
        ):
            return web.Response(status=401, text="401: Unauthorized")
        host, origin = request.headers.get("Host"), request.headers.get("Origin")
        # ComfyUI's origin-only middleware: a mismatched Origin on a loopback host → bare 403.
        if host and origin and urllib.parse.urlparse(origin).netloc.lower() != host.lower():
            return web.Response(status=403)
        if self.faults.rate_limited > 0:
            self.faults.rate_limited -= 1
            return web.Response(status=429, headers={"Retry-After": "1"}, text="slow down")
        if self.faults.proxy_502 > 0:
            self.faults.proxy_502 -= 1
            return web.Response(status=502, text=HTML_502, content_type="text/html")
        if self.faults.slow_response:
            await asyncio.sleep(self.faults.slow_response)
        return await handler(request)

    def _json(self, request: web.Request, data: Any) -> web.Response:
        path = request.path.removeprefix("/api")
        if path in self.faults.malformed_json_paths:
            if self.faults.malformed_json_count > 0:
                self.faults.malformed_json_count -= 1
                if self.faults.malformed_json_count == 0:
                    self.faults.malformed_json_paths = set()
            return web.Response(
                text='{"prompt_id": "x", "number": ', content_type="application/json"
            )
        return web.json_response(data)

    # -- simple routes ---------------------------------------------------------------------
    async def _system_stats(self, request: web.Request) -> web.Response:
        stats = engine.load_fixture_json("system_stats.json")
        stats["system"]["comfyui_version"] = "0.3.64" if self.node_set != "newer" else "0.3.75"
        if self.gpu:
            stats["devices"] = [
                {
                    "name": "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync",
                    "type": "cuda",
                    "index": 0,
                    "vram_total": 25390809088,
                    "vram_free": 24000000000,
                    "torch_vram_total": 0,
                    "torch_vram_free": 0,
                }
            ]
        return self._json(request, stats)

    async def _object_info(self, request: web.Request) -> web.Response:
        return self._json(request, self.object_info())

    async def _object_info_one(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        info = self.object_info()
        return self._json(request, {name: info[name]} if name in info else {})

    async def _features(self, request: web.Request) -> web.Response:
        return self._json(
            request, {"supports_preview_metadata": True, "max_upload_size": 104857600}
        )

    async def _prompt_info(self, request: web.Request) -> web.Response:
        remaining = len(self.pending) + (1 if self.running else 0)
        return self._json(request, {"exec_info": {"queue_remaining": remaining}})

    def _queue_item(self, item: dict[str, Any]) -> list[Any]:
        return [
            item["number"],
            item["prompt_id"],
            item["prompt"],
            item["extra_data"],
            item["outputs"],
        ]

    async def _get_queue(self, request: web.Request) -> web.Response:
        pending = list(reversed(self.pending))  # a heap copy: not in run order
        return self._json(
            request,
            {
                "queue_running": [self._queue_item(self.running)] if self.running else [],
                "queue_pending": [self._queue_item(i) for i in pending],
            },
        )

    async def _post_queue(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clear"):
            self.pending.clear()
        ids = set(body.get("delete") or [])
        self.pending = [i for i in self.pending if i["prompt_id"] not in ids]
        return web.Response()

    async def _interrupt(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        wanted = body.get("prompt_id") if isinstance(body, dict) else None
        if self.running and (wanted is None or wanted == self.running["prompt_id"]):
            self.interrupt_requested = True
        return web.Response()

    async def _get_history_all(self, request: web.Request) -> web.Response:
        return self._json(request, self.history)

    async def _get_history(self, request: web.Request) -> web.Response:
        pid = request.match_info["pid"]
        return self._json(request, {pid: self.history[pid]} if pid in self.history else {})

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        image = form.get("image")
        if image is None or not getattr(image, "filename", None):
            return web.Response(status=400)
        subfolder = str(form.get("subfolder", ""))
        # type=output with subfolder=loras lands in output/loras, a registered LoRA folder: how
        # `lora-studio render` puts a LoRA from elsewhere onto the server (docs/protocols.md §1.6).
        bases = {"input": self.input_dir, "temp": self.temp_dir, "output": self.output_dir}
        base = bases.get(str(form.get("type", "input")))
        if base is None:
            return web.Response(status=400)
        folder = (base / subfolder).resolve()
        if base.resolve() not in (folder, *folder.parents):
            return web.Response(status=400)
        folder.mkdir(parents=True, exist_ok=True)
        data = image.file.read()  # type: ignore[union-attr]
        name = image.filename  # type: ignore[union-attr]
        target = folder / name
        if (
            target.exists()
            and str(form.get("overwrite")) not in ("true", "1")
            and (target.read_bytes() != data)
        ):
            stem, suffix, i = target.stem, target.suffix, 1
            while (folder / f"{stem} ({i}){suffix}").exists():
                i += 1
            name = f"{stem} ({i}){suffix}"
            target = folder / name
        target.write_bytes(data)
        return self._json(request, {"name": name, "subfolder": subfolder, "type": "input"})

    async def _view(self, request: web.Request) -> web.StreamResponse:
        name = request.query.get("filename")
        if name is None:
            return web.Response(status=404)
        if not name or name.startswith("/") or ".." in name:
            return web.Response(status=400)
        kind = request.query.get("type", "output")
        bases = {"output": self.output_dir, "input": self.input_dir, "temp": self.temp_dir}
        if kind not in bases:
            return web.Response(status=400)
        folder = (bases[kind] / request.query.get("subfolder", "")).resolve()
        if bases[kind].resolve() not in (folder, *folder.parents):
            return web.Response(status=403)
        path = folder / name
        if not path.is_file():
            return web.Response(status=404)
        if self.faults.trickle_downloads:
            return await self._trickle(request, path)
        if self.faults.truncate_downloads <= 0:
            return web.FileResponse(path, headers={"Content-Disposition": f'filename="{name}"'})
        self.faults.truncate_downloads -= 1
        size = path.stat().st_size
        response = web.StreamResponse(
            headers={"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        )
        response.content_length = size
        await response.prepare(request)
        with path.open("rb") as handle:
            await response.write(handle.read(size // 2))
        assert request.transport is not None
        request.transport.close()  # the proxy/connection dies mid-body
        return response

    async def _trickle(self, request: web.Request, path: Path) -> web.StreamResponse:
        """A proxy that passes the body on a few bytes at a time (and honours Range)."""
        data = await asyncio.to_thread(path.read_bytes)
        start = 0
        ranged = request.headers.get("Range", "")
        if ranged.startswith("bytes=") and ranged[6:].rstrip("-").isdigit():
            start = int(ranged[6:].rstrip("-"))
        response = web.StreamResponse(
            status=206 if start else 200,
            headers={"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"},
        )
        response.content_length = len(data) - start
        await response.prepare(request)
        rate = self.faults.trickle_downloads
        piece = max(1, int(rate / 10))
        for offset in range(start, len(data), piece):
            await response.write(data[offset : offset + piece])
            await asyncio.sleep(piece / rate)
        return response

    async def _logs_subscribe(self, request: web.Request) -> web.Response:
        if not self.faults.logs_route:
            return web.Response(status=404, text="404: Not Found")
        body = await request.json()
        if body.get("enabled"):
            self.log_subscribers.add(body["clientId"])
        else:
            self.log_subscribers.discard(body["clientId"])
        return web.Response()

    async def _logs_raw(self, request: web.Request) -> web.Response:
        if not self.faults.logs_route:
            return web.Response(status=404, text="404: Not Found")
        return self._json(
            request, {"entries": list(self.log_buffer), "size": {"cols": 80, "rows": 24}}
        )

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client_id = request.query.get("clientId") or uuid.uuid4().hex
        self.ws_connects.append((client_id, dict(request.headers)))
        self.sockets.setdefault(client_id, set()).add(ws)
        await ws.send_json(
            {
                "type": "status",
                "data": {
                    "status": {
                        "exec_info": {
                            "queue_remaining": len(self.pending) + (1 if self.running else 0)
                        }
                    },
                    "sid": client_id,
                },
            }
        )
        try:
            async for message in ws:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            self.sockets.get(client_id, set()).discard(ws)
        return ws

    # -- sending ---------------------------------------------------------------------------
    async def send(self, client_id: str | None, kind: str, data: dict[str, Any]) -> None:
        targets = (
            self.sockets.get(client_id, set())
            if client_id is not None
            else {ws for group in self.sockets.values() for ws in group}
        )
        for ws in list(targets):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json({"type": kind, "data": data})
                self.messages_sent += 1

    async def console(self, text: str) -> None:
        entry = {"t": datetime.datetime.now().isoformat(), "m": text}
        self.log_buffer.append(entry)
        for client_id in list(self.log_subscribers):
            await self.send(client_id, "logs", {"entries": [entry], "size": None})

    async def broadcast_status(self) -> None:
        remaining = len(self.pending) + (1 if self.running else 0)
        await self.send(None, "status", {"status": {"exec_info": {"queue_remaining": remaining}}})

    # -- POST /prompt and the worker ---------------------------------------------------------
    async def _post_prompt(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
        except ValueError:
            return web.Response(
                status=500,
                text="500 Internal Server Error\n\nServer got itself in trouble",
                content_type="text/plain",
            )
        status, reply, outputs = engine.validate_prompt(
            body, self.object_info(), self.faults.reject_inputs
        )
        if status != 200:
            return web.json_response(reply, status=status)
        self.number += 1
        pid = str(body.get("prompt_id") or uuid.uuid4())
        client_id = body.get("client_id")
        extra = {
            **(body.get("extra_data") or {}),
            **({"client_id": client_id} if client_id else {}),
        }
        self.pending.append(
            {
                "number": self.number,
                "prompt_id": pid,
                "prompt": body["prompt"],
                "extra_data": extra,
                "outputs": outputs,
            }
        )
        await self.console("got prompt\n")
        await self.broadcast_status()
        assert self._wake is not None
        self._wake.set()
        if self.faults.hold_prompt_reply:
            await asyncio.sleep(self.faults.hold_prompt_reply)
        return self._json(request, {"prompt_id": pid, "number": self.number, **reply})

    async def _work(self) -> None:
        from .fake_comfyui_runner import execute

        assert self._wake is not None
        while True:
            if not self.pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            self.pending.sort(key=lambda i: i["number"])
            self.running = self.pending.pop(0)
            try:
                await execute(self, self.running)
            finally:
                self.running = None
                self.interrupt_requested = False

    def trigger(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run a fault (die/restart) from inside the worker without cancelling itself first."""
        asyncio.get_running_loop().create_task(action())

    async def restart_inside(self) -> None:
        await self._die()
        await self._revive()

    def now_ms(self) -> int:
        return int(time.time() * 1000)
