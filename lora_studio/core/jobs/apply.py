"""Core: how a backend's typed events change a job — pure logic, no storage.

`apply_events` mutates a `Job` and returns the rows that belong in the append-only tables (loss
points, log lines), so the store can write a whole batch of events in one transaction.

Rules that keep a live stream from corrupting a record:
- Progress on a queued job means it has started: the job moves to running.
- Finished on a queued job (e.g. a cloud run that completed while the app was closed) passes
  through running, so the history stays a legal path.
- A status event for a job that is already finished (a Failed arriving after the artist
  cancelled, a Finished sent twice on re-attach) is not an error: the job keeps its status and the
  event is written to the log, because the stream cannot know what the artist did meanwhile.
- A repeated status (running → running) is a no-op.
- Any other illegal move raises JobError from `Job.transition`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from lora_studio.core.jobs.events import (
    Checkpoint,
    Failed,
    Finished,
    JobEvent,
    Log,
    Loss,
    Progress,
    Sample,
    StatusChanged,
)
from lora_studio.core.jobs.job import CheckpointRef, Job, SampleRef
from lora_studio.core.jobs.records import LogLine, LossPoint
from lora_studio.core.jobs.status import JobStatus
from lora_studio.core.redact import redact

MAX_LOG_LINE_CHARS = 8_000
NOTE_STREAM = "lorastudio"  # log lines written by LoRA Studio itself, not by the backend
_ENDED_BADLY = frozenset({JobStatus.FAILED, JobStatus.LOST})


@dataclass
class AppliedEvents:
    """Rows produced by a batch of events, for the append-only tables."""

    loss_points: list[LossPoint] = field(default_factory=list)
    log_lines: list[LogLine] = field(default_factory=list)


def _clip(text: str) -> str:
    if len(text) <= MAX_LOG_LINE_CHARS:
        return text
    return text[:MAX_LOG_LINE_CHARS] + f"… [{len(text) - MAX_LOG_LINE_CHARS} characters cut]"


def _move(job: Job, new: JobStatus, message: str, at: datetime, out: AppliedEvents) -> bool:
    """Transition unless it is a repeat or the job already ended; True if the status changed."""
    if job.status is new:
        return False
    if job.status.is_terminal:
        note = f"Ignored a late '{new.value}' report: the job had already {job.status.value}."
        if message:
            note += f" Backend said: {message}"
        out.log_lines.append(LogLine(at, NOTE_STREAM, _clip(redact(note))))
        return False
    job.transition(new, message, at)
    return True


def apply_event(job: Job, event: JobEvent, at: datetime, out: AppliedEvents) -> None:
    """Apply one event to `job`, appending any loss/log rows to `out`."""
    if isinstance(event, Progress):
        if event.total is not None:
            job.progress.total = max(0, event.total)
        job.progress.step = max(0, event.step)
        if job.status is JobStatus.QUEUED:
            _move(job, JobStatus.RUNNING, "", at, out)
    elif isinstance(event, Loss):
        value = float(event.value)
        out.loss_points.append(
            LossPoint(event.step, value if math.isfinite(value) else math.nan, at)
        )
    elif isinstance(event, Log):
        out.log_lines.append(LogLine(at, event.stream, _clip(redact(event.text))))
    elif isinstance(event, Checkpoint):
        if all(ref.location != event.location for ref in job.checkpoints):
            job.checkpoints.append(
                CheckpointRef(location=event.location, step=event.step, epoch=event.epoch, at=at)
            )
    elif isinstance(event, Sample):
        if all(ref.path != event.path for ref in job.samples):
            job.samples.append(
                SampleRef(
                    step=event.step,
                    prompt=event.prompt,
                    path=event.path,
                    with_lora=event.with_lora,
                    at=at,
                )
            )
    elif isinstance(event, StatusChanged):
        if event.status is JobStatus.COMPLETED and job.status is JobStatus.QUEUED:
            _move(job, JobStatus.RUNNING, "", at, out)
        moved = _move(job, event.status, event.message, at, out)
        if moved and event.message and not job.error and event.status in _ENDED_BADLY:
            job.error = event.message  # "lost: the server was restarted…" is the reason
    elif isinstance(event, Finished):
        _apply_finished(job, event, at, out)
    elif isinstance(event, Failed):
        if not job.status.is_terminal:
            job.error = event.message
        _move(job, JobStatus.FAILED, event.message, at, out)
        if event.detail:
            # The detail (often a stderr tail) belongs with the logs, where the artist reads it.
            out.log_lines.append(LogLine(at, "stderr", _clip(redact(event.detail))))
    else:  # pragma: no cover - the JobEvent union is closed; a new event type must be handled
        raise TypeError(f"Unknown job event {event!r}")


def _apply_finished(job: Job, event: Finished, at: datetime, out: AppliedEvents) -> None:
    if job.status.is_terminal and job.status is not JobStatus.COMPLETED:
        _move(job, JobStatus.COMPLETED, "", at, out)  # only logs the late report
        return
    for location in event.outputs:
        if location not in job.outputs:
            job.outputs.append(location)
    if job.status is JobStatus.QUEUED:
        _move(job, JobStatus.RUNNING, "", at, out)
    if _move(job, JobStatus.COMPLETED, "", at, out) and job.progress.total:
        # A finished run did all its steps even if the last Progress was never sent.
        job.progress.step = job.progress.total


def apply_events(job: Job, events: list[JobEvent], at: datetime) -> AppliedEvents:
    """Apply `events` in order; all share the timestamp `at` (they arrive as one batch)."""
    out = AppliedEvents()
    for event in events:
        apply_event(job, event, at, out)
    return out
