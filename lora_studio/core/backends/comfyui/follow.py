"""Core/ComfyUI: follow one queued prompt to its end, turning server traffic into job events.

Sources, best first: websocket events for the prompt (`progress` on newer servers, tqdm lines from
`logs` on 0.3.64, node-level `executing` otherwise) and, as the authority, `/history/{id}` plus
`/queue` (docs/protocols.md §1.8). A resync from history+queue happens at start, after every
reconnect or feed overflow, when a terminal event arrives, on a slow timer while connected, and
on a faster one while the socket is down (polling fallback). A prompt absent from both queue
and history for `lost_grace` seconds is lost (the server restarted) — unless the file it was
going to write exists, which means it finished before the restart.

Yields `JobEvent`s and finally one `PromptOutcome`.
"""

from __future__ import annotations

import ast
import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from lora_studio.core.backends.comfyui.client import ComfyClient
from lora_studio.core.backends.comfyui.state import ChunkRecord, ComfyJobState
from lora_studio.core.backends.comfyui.ws import (
    DISCONNECTED,
    OVERFLOW,
    RECONNECTED,
    WAKE,
    PromptFeed,
    WsSession,
)
from lora_studio.core.backends.progress.comfyui import (
    TrainingLogTracker,
    is_training_bar,
    parse_tqdm,
    split_console_chunks,
)
from lora_studio.core.errors import BackendUnavailableError
from lora_studio.core.jobs.events import (
    NOTICE_STREAM,
    JobEvent,
    Log,
    Loss,
    Progress,
    StatusChanged,
)
from lora_studio.core.jobs.status import JobStatus


@dataclass(frozen=True)
class FollowTimings:
    poll_interval: float = 3.0  # /history polling while the websocket is down
    resync_interval: float = 30.0  # safety-net resync while connected (frames can be missed)
    lost_grace: float = 15.0  # absent from queue and history this long → lost
    unreachable_timeout: float = 600.0  # server silent this long → BackendUnavailableError
    terminal_confirm: float = 2.0  # wait this long for /history after a terminal ws event


@dataclass
class PromptOutcome:
    kind: str  # "success" | "error" | "interrupted" | "cancelled" | "lost"
    message: str = ""
    detail: str = ""
    losses: list[float] | None = None  # raw per-iteration losses from PreviewAny
    note: str = ""  # something worth a log line (e.g. a tolerated LossGraph error)
    loss_graph: tuple[str, str] | None = None  # (file name, subfolder) of the PNG in temp


@dataclass
class StepTracker:
    """Progress/loss bookkeeping across all chunks of one job; emits only what is new."""

    total: int
    last_step: int = 0
    rate: float | None = None
    loss_steps: set[int] = field(default_factory=set)
    started: bool = False

    def step(
        self, step: int, rate: float | None = None, chunk_left: float | None = None, end: int = 0
    ) -> Progress | None:
        """`chunk_left`: seconds the backend expects the running prompt (ending at step `end`)
        still needs; the steps of later chunks are added at the backend's own rate."""
        if rate is not None:
            self.rate = rate
        if step <= self.last_step and rate is None and self.started:
            return None
        self.started = True
        self.last_step = max(self.last_step, step)
        eta = None
        if chunk_left is not None and self.rate:
            eta = chunk_left + max(0, self.total - max(end, self.last_step)) / self.rate
        return Progress(self.last_step, self.total, self.rate, eta)

    def loss(self, step: int, value: float) -> Loss | None:
        if step in self.loss_steps:
            return None
        self.loss_steps.add(step)
        return Loss(step, value)


def parse_losses(output: Any) -> list[float] | None:
    """PreviewAny's `{"text": ["{\\"loss\\": [...]}"]}` → the loss list (JSON or Python repr)."""
    texts = output.get("text") if isinstance(output, dict) else None
    if not texts:
        return None
    raw = str(texts[0])
    try:
        data = json.loads(raw)
    except ValueError:
        try:
            data = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return None
    values = data.get("loss") if isinstance(data, dict) else None
    if not isinstance(values, list):
        return None
    return [float(v) for v in values if isinstance(v, int | float)]


def parse_image(output: Any) -> tuple[str, str] | None:
    """LossGraphNode's `{"images": [{"filename", "subfolder", "type": "temp"}]}` → (name, folder)."""
    images = output.get("images") if isinstance(output, dict) else None
    first = images[0] if isinstance(images, list) and images else None
    if not isinstance(first, dict) or not isinstance(first.get("filename"), str):
        return None
    return first["filename"], str(first.get("subfolder") or "")


def outcome_from_history(entry: dict[str, Any], chunk: ChunkRecord) -> PromptOutcome:
    status = entry.get("status") or {}
    outputs = entry.get("outputs") or {}
    losses = parse_losses(outputs.get(chunk.preview_node)) if chunk.preview_node else None
    messages = {
        m[0]: m[1]
        for m in status.get("messages") or []
        if isinstance(m, list | tuple) and len(m) == 2 and isinstance(m[1], dict)
    }
    if status.get("status_str") == "success":
        cached = messages.get("execution_cached", {}).get("nodes") or []
        if chunk.save_node in cached:
            return PromptOutcome(
                "error",
                "ComfyUI reused a cached result for this training, so "
                "no new LoRA was written. Start the job again.",
            )
        graph = parse_image(outputs.get(chunk.loss_graph_node)) if chunk.loss_graph_node else None
        return PromptOutcome("success", losses=losses, loss_graph=graph)
    if "execution_interrupted" in messages:
        return PromptOutcome("interrupted", losses=losses)
    return outcome_from_error(messages.get("execution_error") or {}, chunk, losses)


def outcome_from_error(
    data: dict[str, Any], chunk: ChunkRecord, losses: list[float] | None
) -> PromptOutcome:
    node_type = str(data.get("node_type", "a node"))
    node_id = str(data.get("node_id", "?"))
    kind = str(data.get("exception_type", "error"))
    text = str(data.get("exception_message", "")).strip()
    executed = [str(n) for n in data.get("executed") or []]
    if node_id not in (chunk.train_node, chunk.save_node) and chunk.save_node in executed:
        # e.g. LossGraphNode's ZeroDivisionError on 1 step: the LoRA was already saved.
        return PromptOutcome(
            "success",
            losses=losses,
            note=f"{node_type} failed after the LoRA was saved ({kind}: {text}).",
        )
    if "OutOfMemory" in kind or "out of memory" in text.lower():
        message = (
            f"ComfyUI ran out of GPU memory in {node_type}. Lower the resolution, batch "
            "size or rank, or enable gradient checkpointing."
        )
    else:
        message = f"ComfyUI failed in node {node_id} ({node_type}): {kind}: {text}"
    traceback = "".join(str(line) for line in data.get("traceback") or [])
    return PromptOutcome("error", message, detail=traceback, losses=losses)


class PromptFollower:
    def __init__(
        self,
        client: ComfyClient,
        session: WsSession,
        state: ComfyJobState,
        chunk: ChunkRecord,
        progress: StepTracker,
        timings: FollowTimings,
        *,
        cancel_requested: Callable[[], bool],
        on_log: Callable[[str], None],
    ) -> None:
        self.client, self.session, self.state, self.chunk = client, session, state, chunk
        self.progress, self.t = progress, timings
        self.cancel_requested, self.on_log = cancel_requested, on_log
        self.start_step = chunk.end_step - chunk.steps
        self.tracker = TrainingLogTracker(grad_accumulation=state.grad_accumulation)
        self.ws_terminal: PromptOutcome | None = None
        self.ws_losses: list[float] | None = None
        self.ws_loss_graph: tuple[str, str] | None = None
        self.missing_since: float | None = None
        self.unreachable_since: float | None = None
        self.progress_clock: tuple[float, int] | None = None
        self.announced_train = False
        self.said_offline = False

    async def run(self) -> AsyncIterator[JobEvent | PromptOutcome]:
        feed = self.session.watch(self.chunk.prompt_id)
        try:
            async for item in self._loop(feed):
                yield item
                if isinstance(item, PromptOutcome):
                    return
        finally:
            self.session.unwatch(self.chunk.prompt_id)

    async def _loop(self, feed: PromptFeed) -> AsyncIterator[JobEvent | PromptOutcome]:
        resync_due = 0.0  # resync immediately on start
        while True:
            if time.monotonic() >= resync_due:
                async for item in self._resync():
                    yield item
                    if isinstance(item, PromptOutcome):
                        return
                fast = not self.session.connected or self.missing_since is not None
                resync_due = time.monotonic() + (
                    self.t.poll_interval if fast else self.t.resync_interval
                )
            message = await feed.get(timeout=max(0.01, resync_due - time.monotonic()))
            if message is None:
                continue
            kind = message.get("type")
            if kind in (RECONNECTED, OVERFLOW, WAKE):
                resync_due = 0.0
            elif kind == DISCONNECTED:
                resync_due = min(resync_due, time.monotonic() + self.t.poll_interval)
            else:
                for event in self._handle(message):
                    yield event
                if self.ws_terminal is not None:
                    resync_due = 0.0

    # -- websocket messages ----------------------------------------------------------------
    def _handle(self, message: dict[str, Any]) -> list[JobEvent]:
        kind, data = message.get("type"), message.get("data") or {}
        events: list[JobEvent] = []
        if kind == "execution_start":
            events.append(StatusChanged(JobStatus.RUNNING, self._label("started")))
        elif kind == "executing":
            if data.get("node") == self.chunk.train_node and not self.announced_train:
                self.announced_train = True
                steps = f"steps {self.start_step + 1}–{self.chunk.end_step}"
                events.append(
                    Log(self._label(f"is training {steps}", f"Training {steps}"), "server")
                )
                node_level = self.progress.step(self.start_step)
                if node_level is not None:
                    events.append(node_level)
            elif data.get("node") is None and self.ws_terminal is None:
                self.ws_terminal = PromptOutcome("success", losses=self.ws_losses)
        elif kind == "progress" and str(data.get("node")) == self.chunk.train_node:
            events.extend(self._native_progress(data))
        elif kind == "logs":
            events.extend(self._logs(data))
        elif kind == "executed" and str(data.get("node")) == self.chunk.preview_node:
            self.ws_losses = parse_losses(data.get("output"))
        elif kind == "executed" and str(data.get("node")) == self.chunk.loss_graph_node:
            self.ws_loss_graph = parse_image(data.get("output"))
        elif kind == "execution_success":
            self.ws_terminal = PromptOutcome(
                "success", losses=self.ws_losses, loss_graph=self.ws_loss_graph
            )
        elif kind == "execution_interrupted":
            self.ws_terminal = PromptOutcome("interrupted", losses=self.ws_losses)
        elif kind == "execution_error":
            self.ws_terminal = outcome_from_error(data, self.chunk, self.ws_losses)
        elif kind == "execution_cached" and self.chunk.save_node in (data.get("nodes") or []):
            self.ws_terminal = PromptOutcome(
                "error",
                "ComfyUI reused a cached result for this training, so no new LoRA was "
                "written. Start the job again.",
            )
        return events

    def _native_progress(self, data: dict[str, Any]) -> list[JobEvent]:
        value = int(data.get("value") or 0)
        now = time.monotonic()
        rate = None
        if self.progress_clock is not None and value > self.progress_clock[1]:
            rate = (value - self.progress_clock[1]) / max(1e-6, now - self.progress_clock[0])
        self.progress_clock = (now, value)
        left = None
        if rate:  # this chunk's steps still to do, at the rate the server's events show
            left = max(0, self.chunk.end_step - (self.start_step + value)) / rate
        event = self.progress.step(self.start_step + value, rate, left, self.chunk.end_step)
        return [event] if event is not None else []

    def _logs(self, data: dict[str, Any]) -> list[JobEvent]:
        events: list[JobEvent] = []
        for entry in data.get("entries") or []:
            text = str(entry.get("m", "")) if isinstance(entry, dict) else ""
            for line in split_console_chunks(text):
                update = parse_tqdm(line) if is_training_bar(line) else None
                if update is None:
                    self.on_log(line)
                    events.append(Log(line, "server"))
                    continue
                step, loss = self.tracker.feed(update)
                if loss is not None:
                    event = self.progress.loss(self.start_step + loss[0], loss[1])
                    if event is not None:
                        events.append(event)
                if step is not None:
                    progress = self.progress.step(
                        self.start_step + step,
                        self.tracker.rate,
                        self.tracker.remaining,
                        self.chunk.end_step,
                    )
                    if progress is not None:
                        events.append(progress)
        return events

    # -- resync from /history + /queue -------------------------------------------------------
    async def _resync(self) -> AsyncIterator[JobEvent | PromptOutcome]:
        pid = self.chunk.prompt_id
        try:
            entry = await self.client.history(pid)
            if entry is None and self.ws_terminal is not None:
                # The terminal event can arrive a moment before history is written.
                deadline = time.monotonic() + self.t.terminal_confirm
                while entry is None and time.monotonic() < deadline:
                    await asyncio.sleep(min(0.1, self.t.terminal_confirm / 10))
                    entry = await self.client.history(pid)
            queue = None if entry is not None else await self.client.queue()
        except BackendUnavailableError as exc:
            now = time.monotonic()
            self.unreachable_since = self.unreachable_since or now
            if now - self.unreachable_since >= self.t.unreachable_timeout:
                raise
            if not self.said_offline:
                self.said_offline = True
                minutes = max(1, round(self.t.unreachable_timeout / 60))
                yield Log(
                    f"{exc.user_message} Still trying for up to {minutes} min; the job is kept "
                    "whatever happens.",
                    NOTICE_STREAM,
                )
            return
        if self.unreachable_since is not None:
            self.unreachable_since, self.said_offline = None, False
            yield Log(f"{self.client.where} is answering again.", NOTICE_STREAM)
        if entry is not None:
            yield outcome_from_history(entry, self.chunk)
            return
        if self.ws_terminal is not None:
            yield self.ws_terminal
            return
        assert queue is not None
        position = queue.position(pid)
        if position is not None:
            self.missing_since = None
            if position == 0:
                # The server says our prompt is the one running now, on this connection:
                # its console lines are ours until the prompt ends or the socket drops.
                self.session.claim_running(pid)
                yield StatusChanged(JobStatus.RUNNING, self._label("is running"))
            return
        if self.cancel_requested():
            yield PromptOutcome("cancelled")
            return
        now = time.monotonic()
        self.missing_since = self.missing_since or now
        if now - self.missing_since < self.t.lost_grace:
            return
        if await self.client.output_exists(self.chunk.file, "loras"):
            yield PromptOutcome(
                "success",
                note=f"{self.client.where} has no record of this "
                "prompt (it restarted) but its LoRA file is there.",
            )
            return
        yield PromptOutcome(
            "lost",
            f"{self.client.where} no longer knows this training — it was most likely restarted "
            "while the job ran — and its result file is not there, so the job cannot be "
            "recovered. Start it again (Retry on the Jobs page, or `lora-studio train`).",
        )

    def _label(self, what: str, single: str | None = None) -> str:
        if self.state.chunked:
            return f"Chunk {self.chunk.index} of {len(self.state.plan)} {what}"
        return single or f"Training {what} on ComfyUI"
