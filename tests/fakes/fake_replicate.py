"""Test fake: Replicate's trainings API (aiohttp, 127.0.0.1:0), from docs/protocols.md §3.

Two listeners: the API (`url`, with `/v1`) and a file host on another port standing in for
replicate.delivery (`weights` URLs point there, behind a redirect). The file host refuses any
request carrying an Authorization header and records it, so tests can prove the token never
leaves the API.

Trainings advance with wall-clock time: `starting` for `starting_s`, then `processing` at
`steps_per_second` with the log growing one bar line per step, then `succeeded` with a tar of a
real safetensors LoRA. Fault injection (`Faults`): 429 + Retry-After, 5xx on GETs, a create whose
reply is lost after the training was created (the connection is cut), 413 uploads, failures,
`aborted`, a damaged or path-escaping tar. Runs in its own thread and loop like `fake_comfyui`.

    with FakeReplicate() as fake:
        backend = ReplicateBackend(fake.url, headers={"Authorization": f"Bearer {fake.token}"})
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import fake_replicate_trainer as trainer

TOKEN = "r8_FakeToken0123456789abcdefABCDEF"
TRAINER = "ostris/flux-dev-lora-trainer"
TRAINER_VERSION = "b6af14222e6bd9be257cbc1ea4afda3cd0503e1133083b9d1de0364d8568e6ef"


@dataclass
class Faults:
    rate_limited: int = 0  # next N API requests: 429 + Retry-After: 1
    get_errors: int = 0  # next N GETs of /trainings…: 5xx (alternating 503 and 500)
    drop_gets: int = 0  # next N GETs of /trainings/{id}: the connection is cut, no reply
    drop_create_reply: int = 0  # next N creates: created, then the connection is cut
    slow_create: float = 0.0  # seconds a create takes before the training exists
    file_limit: int = 100 * 1000 * 1000  # bigger uploads get 413
    fail_with: str | None = None  # trainings fail with this error after some steps
    abort: bool = False  # trainings end `aborted` while starting
    corrupt_weights: bool = False
    evil_tar: bool = False  # the tar has a ../ member
    no_metrics: bool = False


@dataclass
class Training:
    id: str
    version: str
    destination: str
    input: dict[str, Any]
    created: float
    created_at: str
    steps: int
    dataset: trainer.ExtractedDataset | None = None
    invalid: str | None = None
    canceled_at: float | None = None
    done: dict[str, Any] = field(default_factory=dict)  # frozen terminal fields


def iso(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).isoformat().replace("+00:00", "Z")


def problem(status: int, detail: str, title: str | None = None) -> web.Response:
    body: dict[str, Any] = {"detail": detail, "status": status}
    if title:
        body["title"] = title
    return web.json_response(body, status=status, content_type="application/problem+json")


class FakeReplicate:
    def __init__(
        self,
        *,
        username: str = "alice",
        starting_s: float = 0.6,
        steps_per_second: float = 400.0,
        billed_seconds_per_step: float = 1.5,
        page_size: int = 100,
    ) -> None:
        self.token, self.username = TOKEN, username
        self.starting_s, self.steps_per_second = starting_s, steps_per_second
        self.billed_seconds_per_step, self.page_size = billed_seconds_per_step, page_size
        self.faults = Faults()
        self.models: dict[str, dict[str, Any]] = {
            TRAINER: self._model_object(TRAINER, "public", TRAINER_VERSION)
        }
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.trainings: dict[str, Training] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.host_requests: list[tuple[str, dict[str, str]]] = []
        self.host_auth_seen: list[str] = []
        self.created_models: list[dict[str, Any]] = []
        self.port = self.host_port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> FakeReplicate:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def host_url(self) -> str:
        return f"http://127.0.0.1:{self.host_port}"

    def start(self) -> None:
        self._thread.start()
        self.call(self._start_sites())

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.call(self._runner.cleanup())
            self.call(self._host_runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def call(self, coro: Awaitable[Any], timeout: float = 15.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)  # type: ignore[arg-type]

    def add_model(self, ref: str, visibility: str = "private") -> None:
        self.models[ref] = self._model_object(ref, visibility, None)

    def training_status(self, training_id: str) -> str:
        return str(self._view(self.trainings[training_id])["status"])

    async def _start_sites(self) -> None:
        api = web.Application(middlewares=[self._api_middleware], client_max_size=300 * 1024**2)
        r = api.router
        r.add_get("/v1/account", self._account)
        r.add_get("/v1/hardware", self._hardware)
        r.add_post("/v1/models", self._create_model)
        r.add_get("/v1/models/{owner}/{name}", self._get_model)
        r.add_post("/v1/files", self._upload)
        r.add_get("/v1/files/{id}", self._get_file)
        r.add_delete("/v1/files/{id}", self._delete_file)
        r.add_post("/v1/models/{owner}/{name}/versions/{version}/trainings", self._create)
        r.add_get("/v1/trainings", self._list)
        r.add_get("/v1/trainings/{id}", self._get_training)
        r.add_post("/v1/trainings/{id}/cancel", self._cancel)
        self._runner = web.AppRunner(api, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

        host = web.Application(middlewares=[self._host_middleware])
        host.router.add_get("/pbxt/{id}/trained_model.tar", self._weights_redirect)
        host.router.add_get("/delivery/{id}/trained_model.tar", self._weights)
        self._host_runner = web.AppRunner(host, handle_signals=False, access_log=None)
        await self._host_runner.setup()
        await web.TCPSite(self._host_runner, "127.0.0.1", 0).start()
        self.host_port = self._host_runner.addresses[0][1]

    # -- middleware -------------------------------------------------------------------------
    @web.middleware
    async def _api_middleware(self, request: web.Request, handler: Callable[..., Any]) -> Any:
        self.requests.append((request.method, request.path_qs, dict(request.headers)))
        auth = request.headers.get("Authorization", "")
        if not auth:
            return problem(401, "You did not pass an authentication token", "Unauthenticated")
        if auth != f"Bearer {self.token}":
            return problem(401, "You did not pass a valid authentication token", "Unauthenticated")
        if self.faults.rate_limited > 0:
            self.faults.rate_limited -= 1
            response = problem(429, "Request was throttled. Expected available in 1 second.")
            response.headers["Retry-After"] = "1"
            return response
        if (
            request.method == "GET"
            and request.path.startswith("/v1/trainings/")
            and self.faults.drop_gets > 0
        ):
            self.faults.drop_gets -= 1
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        if (
            request.method == "GET"
            and request.path.startswith("/v1/trainings")
            and self.faults.get_errors > 0
        ):
            self.faults.get_errors -= 1
            code = 503 if self.faults.get_errors % 2 == 0 else 500
            return problem(code, "Internal server error" if code == 500 else "Service Unavailable")
        return await handler(request)

    @web.middleware
    async def _host_middleware(self, request: web.Request, handler: Callable[..., Any]) -> Any:
        self.host_requests.append((request.path_qs, dict(request.headers)))
        if "Authorization" in request.headers:
            self.host_auth_seen.append(request.headers["Authorization"])
            return web.Response(status=400, text="no credentials expected on the file host")
        return await handler(request)

    # -- account / models -------------------------------------------------------------------
    def _model_object(self, ref: str, visibility: str, version: str | None) -> dict[str, Any]:
        owner, name = ref.split("/", 1)
        latest = (
            {"id": version, "created_at": iso(time.time()), "cog_version": "0.9.6"}
            if version
            else None
        )
        return {
            "url": f"https://replicate.com/{ref}",
            "owner": owner,
            "name": name,
            "description": None,
            "visibility": visibility,
            "run_count": 0,
            "latest_version": latest,
        }

    async def _account(self, request: web.Request) -> web.Response:
        return web.json_response({"type": "user", "username": self.username, "name": "Alice"})

    async def _hardware(self, request: web.Request) -> web.Response:
        return web.json_response(
            [{"name": "CPU", "sku": "cpu"}, {"name": "Nvidia T4 GPU", "sku": "gpu-t4"}]
        )

    async def _get_model(self, request: web.Request) -> web.Response:
        ref = f"{request.match_info['owner']}/{request.match_info['name']}"
        if ref not in self.models:
            return problem(404, "Not found")
        return web.json_response(self.models[ref])

    async def _create_model(self, request: web.Request) -> web.Response:
        body = await request.json()
        missing = [k for k in ("owner", "name", "visibility", "hardware") if not body.get(k)]
        if missing:
            return problem(422, f"Missing required fields: {', '.join(missing)}")
        if body["owner"] != self.username:
            return problem(403, "You cannot create models for this owner")
        ref = f"{body['owner']}/{body['name']}"
        if ref in self.models:
            return problem(409, "A model with that name already exists")
        self.models[ref] = self._model_object(ref, body["visibility"], None)
        self.created_models.append(body)
        return web.json_response(self.models[ref], status=201)

    # -- files ------------------------------------------------------------------------------
    async def _upload(self, request: web.Request) -> web.Response:
        reader = await request.multipart()
        content, filename, content_type, metadata = b"", "file", "application/octet-stream", {}
        async for part in reader:
            if part.name == "content":  # type: ignore[union-attr]
                filename = part.filename or filename  # type: ignore[union-attr]
                content_type = part.headers.get("Content-Type", content_type)  # type: ignore[union-attr]
                content = bytes(await part.read())  # type: ignore[union-attr]
            elif part.name == "metadata":  # type: ignore[union-attr]
                metadata = json.loads(await part.text())  # type: ignore[union-attr]
        if len(content) >= self.faults.file_limit:
            return problem(413, "Files must be less than 100MB in size")
        file_id = secrets.token_hex(13)
        now = time.time()
        obj = {
            "id": file_id,
            "name": filename,
            "content_type": content_type,
            "size": len(content),
            "etag": secrets.token_hex(8),
            "checksums": {"sha256": hashlib.sha256(content).hexdigest()},
            "metadata": metadata,
            "created_at": iso(now),
            "expires_at": iso(now + 3600),
            "urls": {"get": f"{self.url}/files/{file_id}"},
        }
        self.files[file_id] = (obj, content)
        return web.json_response(obj, status=201)

    async def _get_file(self, request: web.Request) -> web.Response:
        entry = self.files.get(request.match_info["id"])
        return web.json_response(entry[0]) if entry else problem(404, "File not found")

    async def _delete_file(self, request: web.Request) -> web.Response:
        if self.files.pop(request.match_info["id"], None) is None:
            return problem(404, "File not found")
        return web.Response(status=204)

    # -- trainings --------------------------------------------------------------------------
    async def _create(self, request: web.Request) -> web.StreamResponse:
        owner, name = request.match_info["owner"], request.match_info["name"]
        ref, version = f"{owner}/{name}", request.match_info["version"]
        model = self.models.get(ref)
        if model is None or not model["latest_version"] or model["latest_version"]["id"] != version:
            return problem(
                422,
                "The specified version does not exist (or perhaps you don't have permission to "
                "use it?)",
                "Invalid version or not permitted",
            )
        body = await request.json()
        if self.faults.slow_create:
            await asyncio.sleep(self.faults.slow_create)
        destination = body.get("destination") or ""
        if destination not in self.models:
            return problem(404, "The specified training destination does not exist")
        inputs = body.get("input")
        if not isinstance(inputs, dict):
            return problem(422, "input is required")
        now = time.time()
        training = Training(
            id=secrets.token_hex(13),
            version=version,
            destination=destination,
            input=inputs,
            created=now,
            created_at=iso(now),
            steps=int(inputs.get("steps", 1000)),
        )
        self.trainings[training.id] = training
        if self.faults.drop_create_reply > 0:
            self.faults.drop_create_reply -= 1
            # Created, but the reply never arrives: cut the connection under the client.
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        view = self._view(training)
        view["urls"] = {  # the spec's create example oddly shows prediction URLs
            "get": f"{self.url}/predictions/{training.id}",
            "cancel": f"{self.url}/predictions/{training.id}/cancel",
        }
        return web.json_response(view, status=201)

    def _dataset_of(
        self, inputs: dict[str, Any]
    ) -> tuple[trainer.ExtractedDataset | None, str | None]:
        url = inputs.get("input_images")
        if not isinstance(url, str) or not url:
            return None, "input_images must be provided"
        file_id = url.rstrip("/").rsplit("/", 1)[-1]
        entry = self.files.get(file_id) if url.startswith(self.url + "/files/") else None
        if entry is None:
            return None, f"Failed to download {url}"
        try:
            return trainer.read_zip(entry[1]), None
        except trainer.InvalidZipError as exc:
            return None, str(exc)

    async def _list(self, request: web.Request) -> web.Response:
        newest = sorted(self.trainings.values(), key=lambda t: t.created, reverse=True)
        start = int(request.query.get("cursor", "0"))
        page = newest[start : start + self.page_size]
        following = start + self.page_size
        views = []
        for training in page:
            view = self._view(training)
            view.pop("logs", None)  # lists omit the logs
            view["destination"] = None  # "may be absent/null in list responses"
            views.append(view)
        return web.json_response(
            {
                "previous": None,
                "next": f"{self.url}/trainings?cursor={following}"
                if following < len(newest)
                else None,
                "results": views,
            }
        )

    async def _get_training(self, request: web.Request) -> web.Response:
        training = self.trainings.get(request.match_info["id"])
        if training is None:
            return problem(404, "Not found")
        return web.json_response(self._view(training))

    async def _cancel(self, request: web.Request) -> web.Response:
        training = self.trainings.get(request.match_info["id"])
        if training is None:
            return problem(404, "Not found")
        view = self._view(training)
        if view["status"] not in ("succeeded", "failed", "canceled", "aborted"):
            training.canceled_at = time.time()
            view["status"] = "processing" if view["status"] == "processing" else "starting"
        return web.json_response(view)  # may still read processing briefly (§3.5)

    # -- the simulated run ------------------------------------------------------------------
    def _view(self, t: Training) -> dict[str, Any]:
        if t.done:
            return {**self._base(t), **t.done}
        now = time.time()
        started = t.created + self.starting_s
        base = self._base(t)
        cancel_effective = t.canceled_at is not None and now >= t.canceled_at + 0.3
        if self.faults.abort and now >= started:
            return self._finish(t, "aborted", [], now, None, error=None, ran=False)
        if cancel_effective and t.canceled_at is not None and t.canceled_at < started:
            return self._finish(t, "canceled", [], now, None, error=None, ran=False)
        if now < started and not cancel_effective:
            return {**base, "status": "starting", "logs": ""}
        if t.dataset is None and t.invalid is None:
            # The worker fetches `input_images` when it starts (an expired file fails here).
            t.dataset, t.invalid = self._dataset_of(t.input)
        if t.invalid:
            return self._finish(
                t, "failed", [], now, None, error=f"Prediction input failed validation: {t.invalid}"
            )
        assert t.dataset is not None
        lines = trainer.preamble(t.dataset, t.steps)
        run_end = t.canceled_at + 0.3 if t.canceled_at is not None else now
        progress = max(0.0, min(now, run_end) - started)
        step = min(t.steps, int(progress * self.steps_per_second))
        fail_step = t.steps // 3 if self.faults.fail_with else None
        if fail_step is not None:
            step = min(step, fail_step)
        lr = float(t.input.get("learning_rate", 4e-4))
        rate = self.steps_per_second
        lines += [trainer.bar(s, t.steps, lr, s / rate, rate) for s in range(1, step + 1)]
        if cancel_effective:
            return self._finish(t, "canceled", lines, now, step, error=None)
        if fail_step is not None and step >= fail_step:
            lines.append("torch.OutOfMemoryError: CUDA out of memory.")
            return self._finish(t, "failed", lines, now, step, error=self.faults.fail_with)
        if step >= t.steps:
            lines += ["Saving at step 1000", "Training done"]
            output = {
                "version": f"{t.destination}:{secrets.token_hex(32)}",
                "weights": f"{self.host_url}/pbxt/{t.id}/trained_model.tar",
            }
            return self._finish(t, "succeeded", lines, now, step, error=None, output=output)
        return {
            **base,
            "status": "processing",
            "started_at": iso(started),
            "logs": "\n".join(lines) + "\n",
        }

    def _base(self, t: Training) -> dict[str, Any]:
        return {
            "id": t.id,
            "model": TRAINER,
            "version": t.version,
            "destination": t.destination,
            "source": "api",
            "status": "starting",
            "input": t.input,
            "output": None,
            "logs": "",
            "error": None,
            "metrics": {},
            "created_at": t.created_at,
            "started_at": None,
            "completed_at": None,
            "urls": {
                "get": f"{self.url}/trainings/{t.id}",
                "cancel": f"{self.url}/trainings/{t.id}/cancel",
                "web": f"https://replicate.com/p/{t.id}",
            },
        }

    def _finish(
        self,
        t: Training,
        status: str,
        lines: list[str],
        now: float,
        step: int | None,
        *,
        error: str | None,
        output: dict[str, Any] | None = None,
        ran: bool = True,
    ) -> dict[str, Any]:
        billed = (step or 0) * self.billed_seconds_per_step if ran else 0.0
        metrics = (
            {} if self.faults.no_metrics else {"predict_time": billed, "total_time": billed + 40}
        )
        t.done = {
            "status": status,
            "logs": ("\n".join(lines) + "\n") if lines else "",
            "error": error,
            "output": output,
            "metrics": metrics,
            "started_at": iso(t.created + self.starting_s) if ran else None,
            "completed_at": iso(now),
        }
        return {**self._base(t), **t.done}

    # -- file host --------------------------------------------------------------------------
    async def _weights_redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/delivery/{request.match_info['id']}/trained_model.tar")

    async def _weights(self, request: web.Request) -> web.Response:
        training = self.trainings.get(request.match_info["id"])
        if training is None or training.dataset is None:
            return web.Response(status=404, text="Not found")
        rank = int(training.input.get("lora_rank", 16))
        body = trainer.weights_tar(
            rank,
            training.dataset,
            corrupt=self.faults.corrupt_weights,
            evil=self.faults.evil_tar,
        )
        return web.Response(body=body, content_type="application/x-tar")
