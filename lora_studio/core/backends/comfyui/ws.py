"""Core/ComfyUI: one websocket per clientId, reconnecting, fanning events out per prompt.

ComfyUI sends a run's events only to the socket whose `clientId` equals the prompt's
`client_id` (docs/protocols.md §1.7), so a job is followed on the id it was queued with — also after
an app restart. The session:
- reconnects with the same clientId, with back-off plus jitter, for as long as it is open;
- sends no Origin header (ComfyUI's origin guard answers 403 to a mismatched one, §1.1);
- after every (re)connect runs `on_connect` (log subscription) and tells every watcher
  `{"type": "_reconnected"}` so it resyncs from /queue + /history — frames sent while we were
  away are gone; `{"type": "_disconnected"}` when the socket drops;
- routes prompt events to a bounded per-prompt `PromptFeed`, created *before* the prompt is
  queued so no early event is lost, and routes `logs` to the prompt currently executing.

Console output (`logs`) carries no prompt id and the server's console is shared by every client,
so it is credited to a prompt only while that prompt provably runs: from its `execution_start`
(or a `/queue` resync showing it running) on *this* connection until it ends. Every connect and
disconnect forgets the running prompt — after a server restart the console belongs to whatever
another client queued, never to a job the server has forgotten.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from lora_studio.core.redact import redact

log = logging.getLogger(__name__)

TERMINAL_TYPES = frozenset({"execution_success", "execution_error", "execution_interrupted"})
RECONNECTED = "_reconnected"
DISCONNECTED = "_disconnected"
OVERFLOW = "_overflow"
WAKE = "_wake"


def websocket_url(base_url: str, client_id: str, params: Mapping[str, str] | None = None) -> str:
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    query = urlencode({"clientId": client_id, **dict(params or {})})
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws", query, ""))


class PromptFeed:
    """Messages for one prompt, bounded: on overflow the oldest are dropped and the consumer is
    told to resync from /history (which has everything that matters)."""

    def __init__(self, prompt_id: str, limit: int = 20_000) -> None:
        self.prompt_id = prompt_id
        self._items: deque[dict[str, Any]] = deque()
        self._limit = limit
        self._event = asyncio.Event()
        self.max_depth = 0  # for benchmarks: how far the consumer fell behind
        self.received = 0

    def put(self, message: dict[str, Any]) -> None:
        if len(self._items) >= self._limit:
            self._items.clear()
            self._items.append({"type": OVERFLOW})
        self._items.append(message)
        self.received += 1
        self.max_depth = max(self.max_depth, len(self._items))
        self._event.set()

    async def get(self, timeout: float) -> dict[str, Any] | None:  # noqa: ASYNC109 - a poll, None at the deadline
        """The next message, or None after `timeout` seconds without one."""
        if not self._items:
            self._event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout)
        return self._items.popleft() if self._items else None

    def __len__(self) -> int:
        return len(self._items)


class WsSession:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        secrets: tuple[str, ...] = (),
        on_connect: Callable[[], Awaitable[None]] | None = None,
        backoff: tuple[float, float] = (0.5, 10.0),
        open_timeout: float = 10.0,
    ) -> None:
        self.client_id = client_id
        self._url = websocket_url(base_url, client_id, params)
        self._headers = dict(headers or {})
        self._secrets = secrets
        self._on_connect = on_connect
        self._backoff = backoff
        self._open_timeout = open_timeout
        self._feeds: dict[str, PromptFeed] = {}
        self._task: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._closed = False
        self._ever_connected = False
        self.running_prompt: str | None = None  # whose console output `logs` events are
        self.last_error: str | None = None
        self.connections = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="comfyui-ws")

    async def wait_connected(self, timeout: float) -> bool:  # noqa: ASYNC109 - a poll, False at the deadline
        self.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout)
        return self.connected

    def watch(self, prompt_id: str) -> PromptFeed:
        feed = self._feeds.get(prompt_id)
        if feed is None:
            feed = self._feeds[prompt_id] = PromptFeed(prompt_id)
        return feed

    def feed(self, prompt_id: str) -> PromptFeed | None:
        """The feed of a watched prompt (for diagnostics and benchmarks)."""
        return self._feeds.get(prompt_id)

    def claim_running(self, prompt_id: str) -> None:
        """Credit console output to `prompt_id` (the server just said it is running), but only
        while connected and watching it; a reconnect forgets the claim."""
        if self.connected and prompt_id in self._feeds:
            self.running_prompt = prompt_id

    def unwatch(self, prompt_id: str) -> None:
        self._feeds.pop(prompt_id, None)
        if self.running_prompt == prompt_id:
            self.running_prompt = None

    def wake(self, prompt_id: str) -> None:
        """Make a watcher look at the server now (e.g. after a cancel)."""
        if prompt_id in self._feeds:
            self._feeds[prompt_id].put({"type": WAKE})

    async def drop_connection(self) -> None:
        """Close the current socket (it reconnects); used when the server seems to have restarted."""
        if self._ws is not None:
            await self._ws.close()

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # -- internals -------------------------------------------------------------------------
    def _broadcast(self, message: dict[str, Any]) -> None:
        for feed in self._feeds.values():
            feed.put(dict(message))

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        data = message.get("data")
        if not isinstance(data, dict):
            return
        if kind == "logs":
            running = self.running_prompt
            if running is not None and running in self._feeds:
                self._feeds[running].put(message)
            return
        prompt_id = data.get("prompt_id")
        if not isinstance(prompt_id, str):
            return
        if kind == "execution_start" or (kind == "executing" and data.get("node") is not None):
            # Run events reach only the socket of the prompt's client: this one is ours. Other
            # prompts of this client id (unwatched, e.g. another window's) still take the
            # console away from ours.
            self.running_prompt = prompt_id
        elif (kind in TERMINAL_TYPES or (kind == "executing" and data.get("node") is None)) and (
            self.running_prompt == prompt_id
        ):
            self.running_prompt = None
        feed = self._feeds.get(prompt_id)
        if feed is not None:
            feed.put(message)

    async def _run(self) -> None:
        failures = 0
        while not self._closed:
            try:
                async with connect(
                    self._url,
                    additional_headers=self._headers,
                    open_timeout=self._open_timeout,
                    max_size=64 * 1024 * 1024,  # preview images arrive as binary frames
                    ping_interval=20,  # keeps idle-killing proxies at bay during long nodes
                    ping_timeout=20,
                ) as ws:
                    self._ws = ws
                    failures = 0
                    self.connections += 1
                    # Whatever ran before the reconnect may be gone (server restart): no console
                    # line is credited to a prompt until the server says again that it runs.
                    self.running_prompt = None
                    self._connected.set()
                    if self._on_connect is not None:
                        await self._safe_on_connect()
                    if self._ever_connected:
                        self._broadcast({"type": RECONNECTED})
                    self._ever_connected = True
                    async for raw in ws:
                        if isinstance(raw, str):
                            self._handle_text(raw)
            except asyncio.CancelledError:
                raise
            except (OSError, ConnectionClosed, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                self.last_error = redact(f"{type(exc).__name__}: {exc}", self._secrets)
                log.info("ComfyUI websocket %s: %s", self.client_id, self.last_error)
            except Exception as exc:  # the reconnect loop must outlive any surprise
                self.last_error = redact(f"{type(exc).__name__}: {exc}", self._secrets)
                log.warning("ComfyUI websocket %s failed: %s", self.client_id, self.last_error)
            finally:
                self._ws = None
                self.running_prompt = None
                if self._connected.is_set():
                    self._connected.clear()
                    self._broadcast({"type": DISCONNECTED})
            if self._closed:
                break
            failures += 1
            low, high = self._backoff
            await asyncio.sleep(random.uniform(low / 2, min(high, low * 2 ** min(failures, 10))))

    async def _safe_on_connect(self) -> None:
        assert self._on_connect is not None
        try:
            await self._on_connect()
        except Exception as exc:  # a failed log subscription must not kill the event stream
            log.info(
                "ComfyUI websocket on-connect step failed: %s", redact(str(exc), self._secrets)
            )

    def _handle_text(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            log.debug("Ignoring a non-JSON websocket frame")
            return
        if isinstance(message, dict):
            try:
                self._dispatch(message)
            except (TypeError, ValueError, AttributeError) as exc:  # one odd frame, not a reason
                log.debug("Ignoring a websocket frame LoRA Studio cannot read: %s", exc)
