"""Core/Replicate: follow one training by polling `GET /trainings/{id}` until it ends.

Statuses (docs/protocols.md §3.5): `starting` (queued or booting a GPU — can last many minutes, never
timed out: the artist may cancel) → `processing` → `succeeded` | `failed` | `canceled` | `aborted`
(ended before it ever ran, e.g. a deadline). Unknown statuses are taken as "still going".

Polling backs off: every `queued_interval` while starting, every `interval` while training, and
longer and longer (up to `max_backoff`) while Replicate does not answer — the HTTP client already
honours 429 `Retry-After` and retries 5xx on GETs inside one poll. After `unreachable_timeout`
without an answer the follower gives up with BackendUnavailableError: the job is kept, not failed.

On every terminal state `metrics.predict_time` (billed seconds) × the hardware's price is the
cost; it is recorded in the job's state and said in the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from lora_studio.core.backends.http import HttpStatusError
from lora_studio.core.backends.progress.replicate import LogReader
from lora_studio.core.backends.replicate.client import ReplicateClient
from lora_studio.core.backends.replicate.problems import ServerTroubleError
from lora_studio.core.backends.replicate.state import ReplicateJobState
from lora_studio.core.errors import BackendError, BackendUnavailableError
from lora_studio.core.jobs.events import Failed, Finished, JobEvent, Log, StatusChanged
from lora_studio.core.jobs.status import JobStatus

log = logging.getLogger(__name__)

TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})


@dataclass(frozen=True)
class PollTimings:
    interval: float = 5.0  # while training (3000 requests/min allow far more; 5 s is ample)
    queued_interval: float = 10.0  # while waiting for a GPU
    max_backoff: float = 60.0
    unreachable_timeout: float = 15 * 60.0


def is_transient(exc: BackendError) -> bool:
    """A failure worth polling again for: no answer, a gateway error or a 5xx."""
    if isinstance(exc, ServerTroubleError):
        return True
    if isinstance(exc, HttpStatusError):
        return exc.status >= 500
    return isinstance(exc, BackendUnavailableError) and isinstance(
        exc.__cause__, httpx.TransportError
    )


def record_cost(state: ReplicateJobState, training: Mapping[str, Any], price: float) -> str | None:
    """Billed seconds × price into `state`; a sentence for the log, None when not reported."""
    metrics = training.get("metrics")
    seconds = metrics.get("predict_time") if isinstance(metrics, Mapping) else None
    if not isinstance(seconds, int | float) or seconds < 0:
        return None
    state.billed_seconds = float(seconds)
    state.cost_usd = round(float(seconds) * price, 4)
    return (
        f"Replicate billed {seconds:.0f} s of {state.sku} time: ${state.cost_usd:.2f} "
        f"(at ${price:.6f}/s)."
    )


def failure_message(training: Mapping[str, Any], training_id: str) -> str:
    error = str(training.get("error") or "").strip()
    hint = ""
    lowered = error.lower()
    if "out of memory" in lowered or "cuda oom" in lowered:
        hint = " The GPU ran out of memory: lower the batch size or the resolution."
    elif any(word in lowered for word in ("zip", "input_images", "download", "expired")):
        hint = " The dataset upload was not usable; start the training again to re-upload it."
    elif "validation" in lowered:
        hint = " A setting was refused by the trainer; check the settings it names."
    reason = f": {error}" if error else " without saying why"
    return f"The training {training_id} failed on Replicate{reason}.{hint}"


def terminal_event(training: Mapping[str, Any], state: ReplicateJobState) -> JobEvent | None:
    status = str(training.get("status") or "")
    tid = state.training_id
    if status == "succeeded":
        output = training.get("output")
        weights = output.get("weights") if isinstance(output, Mapping) else None
        if not isinstance(weights, str) or not weights:
            return Failed(
                f"The training {tid} succeeded on Replicate but its result names no weights "
                "file; open it on replicate.com to download it."
            )
        state.weights_url = weights
        version = output.get("version") if isinstance(output, Mapping) else None
        state.output_version = version if isinstance(version, str) else ""
        return Finished((weights,))
    if status == "failed":
        return Failed(failure_message(training, tid), str(training.get("error") or ""))
    if status == "canceled":
        return StatusChanged(JobStatus.CANCELLED, f"The training {tid} was cancelled on Replicate.")
    if status == "aborted":
        return Failed(
            f"Replicate aborted the training {tid} before it ran (for example a deadline passed "
            "while it waited for a GPU); nothing was trained. Start it again."
        )
    return None


class TrainingFollower:
    """Polls one training; yields job events; ends after one terminal event."""

    def __init__(
        self,
        client: ReplicateClient,
        state: ReplicateJobState,
        reader: LogReader,
        *,
        price_per_second: float,
        timings: PollTimings,
        on_state: Callable[[], None],
        cancel_requested: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.state, self.reader = client, state, reader
        self.price, self.timings = price_per_second, timings
        self.on_state, self.clock = on_state, clock
        self.cancel_requested = cancel_requested
        self.announced: set[str] = set()
        self.cancel_sent = False

    async def run(self, status: JobStatus) -> AsyncIterator[JobEvent]:
        tid = self.state.training_id
        backoff = self.timings.interval
        last_answer = self.clock()
        while True:
            try:
                training = await self.client.get_training(tid)
            except BackendError as exc:
                if not is_transient(exc):
                    raise
                silent = self.clock() - last_answer
                if silent >= self.timings.unreachable_timeout:
                    raise BackendUnavailableError(
                        f"Replicate has not answered for {silent / 60:.0f} minutes while "
                        f"following the training {tid}; it keeps running there, and the job is "
                        "kept — follow it again later.",
                        detail=exc.user_message,
                    ) from exc
                backoff = min(self.timings.max_backoff, backoff * 2)
                log.info("Polling %s failed (%s); next try in %.0fs", tid, exc, backoff)
                await asyncio.sleep(backoff)
                continue
            last_answer = self.clock()
            if training is None:
                yield StatusChanged(
                    JobStatus.LOST,
                    f"Replicate no longer knows the training {tid} (HTTP 404); it may have been "
                    "deleted, or this API token belongs to another account.",
                )
                return
            for event in self._events(training, status):
                if isinstance(event, StatusChanged) and not event.status.is_terminal:
                    status = event.status
                yield event
                if _is_end(event):
                    return
            await self._cancel_if_asked()
            backoff = (
                self.timings.queued_interval
                if self.state.status == "starting"
                else self.timings.interval
            )
            await asyncio.sleep(backoff)

    async def _cancel_if_asked(self) -> None:
        """A cancel recorded while the training was being created (or by another process that
        could not reach it) is carried out here, once."""
        if self.cancel_sent or self.state.status in TERMINAL or not self.cancel_requested():
            return
        self.cancel_sent = True
        try:
            await self.client.cancel_training(self.state.training_id)
        except BackendError as exc:
            self.cancel_sent = False  # try again at the next poll
            log.info("Cancelling %s failed: %s", self.state.training_id, exc)

    def _events(self, training: Mapping[str, Any], status: JobStatus) -> list[JobEvent]:
        events: list[JobEvent] = []
        replicate_status = str(training.get("status") or "")
        changed = replicate_status != self.state.status
        self.state.status = replicate_status
        if replicate_status == "starting" and "starting" not in self.announced:
            self.announced.add("starting")
            events.append(
                Log(
                    "Queued on Replicate, waiting for a GPU (status “starting”). This can take "
                    "many minutes; waiting is not billed.",
                    "lorastudio",
                )
            )
        if replicate_status == "processing" and status is not JobStatus.RUNNING:
            events.append(StatusChanged(JobStatus.RUNNING, "Training on Replicate."))
        logs = training.get("logs")
        if isinstance(logs, str):
            events.extend(self.reader.feed(logs))
        if replicate_status in TERMINAL:
            cost = record_cost(self.state, training, self.price)
            if cost:
                events.append(Log(cost, "lorastudio"))
            end = terminal_event(training, self.state)
            if end is not None:
                events.append(end)
        elif replicate_status not in ("starting", "processing") and changed:
            events.append(Log(f"Replicate reports status “{replicate_status}”.", "lorastudio"))
        if changed or replicate_status in TERMINAL:
            self.on_state()
        return events


def _is_end(event: JobEvent) -> bool:
    return isinstance(event, Finished | Failed) or (
        isinstance(event, StatusChanged) and event.status.is_terminal
    )
