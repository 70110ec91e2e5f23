"""View-model support: what the Jobs page shows of a job, computed from live events and records.

`LiveJob` keeps, for one job this process follows, the `ProgressTracker` (speed and ETA from the
backend's own figures) and the loss points and log lines that arrived since the page last drew —
the GUI thread only appends to lists here; a ≤ 10 Hz timer in the view-model drains them.
`progress_text` and `summary_lines` turn a job (and its tracker) into the sentences the page
shows, including what a Lost job means and what to do about it. Plain Python, no Qt.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lora_studio.core.jobs import (
    Checkpoint,
    Failed,
    Finished,
    Job,
    JobEvent,
    JobStatus,
    Log,
    Loss,
    Progress,
    ProgressSnapshot,
    ProgressTracker,
    Sample,
    StatusChanged,
    format_clock,
)
from lora_studio.core.jobs.records import LogLine

LOST_ADVICE = (
    "The backend no longer knows this job (most likely its server restarted while it ran), so "
    "nothing more will come of it. Use Retry to start the same training again."
)


def format_duration(seconds: float | None) -> str:
    text = format_clock(seconds)
    return "—" if text == "?" else text


def format_speed(speed: float | None) -> str:
    if not speed:
        return ""
    return f"{speed:.2f} steps/s" if speed >= 1 else f"{1 / speed:.1f} s/step"


@dataclass
class LiveJob:
    """Live state of one followed job, fed on the GUI thread."""

    tracker: ProgressTracker = field(default_factory=lambda: ProgressTracker(clock=time.monotonic))
    new_steps: list[int] = field(default_factory=list)
    new_values: list[float] = field(default_factory=list)
    new_logs: list[LogLine] = field(default_factory=list)
    last_loss: float | None = None
    status_changed: bool = False
    ended: JobEvent | None = None

    def feed(self, event: JobEvent, at: datetime) -> None:
        self.tracker.feed(event)
        if isinstance(event, Loss):
            self.new_steps.append(event.step)
            self.new_values.append(event.value)
            if math.isfinite(event.value):
                self.last_loss = event.value
        elif isinstance(event, Log):
            self.new_logs.append(LogLine(at, event.stream, event.text))
        elif isinstance(event, Failed):
            self.new_logs.append(LogLine(at, "lorastudio", event.message))
        if isinstance(event, StatusChanged | Finished | Failed | Checkpoint | Sample):
            self.status_changed = True
        if isinstance(event, Finished | Failed) or (
            isinstance(event, StatusChanged) and event.status.is_terminal
        ):
            self.ended = event

    def take_loss(self) -> tuple[list[int], list[float]]:
        steps, values = self.new_steps, self.new_values
        self.new_steps, self.new_values = [], []
        return steps, values

    def take_logs(self) -> list[LogLine]:
        lines, self.new_logs = self.new_logs, []
        return lines


def seed_tracker(job: Job) -> ProgressTracker:
    """A tracker for a job read from the store (followed by another process, or just selected):
    its recorded step and total; speed and ETA only from what arrives from now on."""
    tracker = ProgressTracker(clock=time.monotonic)
    if job.progress.total or job.progress.step:
        tracker.feed(Progress(job.progress.step, job.progress.total))
    return tracker


def percent_of(job: Job, snapshot: ProgressSnapshot | None) -> int:
    """0–100, or -1 for "running, amount unknown" (the only case the bar may look busy)."""
    if job.status is JobStatus.COMPLETED:
        return 100
    step = snapshot.step if snapshot is not None else job.progress.step
    total = (snapshot.total if snapshot is not None else None) or job.progress.total
    if total:
        return int(100 * min(step, total) / total)
    return -1 if job.status is JobStatus.RUNNING else 0


def progress_text(job: Job, snapshot: ProgressSnapshot | None, loss: float | None) -> str:
    step = snapshot.step if snapshot is not None else job.progress.step
    total = (snapshot.total if snapshot is not None else None) or job.progress.total
    if job.status is JobStatus.QUEUED and not step:
        parts = ["waiting for the backend to start it"]
    else:
        parts = [f"step {step}" + (f" of {total}" if total else "")]
        epoch = epoch_text(job, step, total)
        if epoch:
            parts.append(epoch)
    if snapshot is not None and not job.is_finished:
        speed = format_speed(snapshot.speed)
        if speed:
            parts.append(speed)
        if snapshot.stalled:
            parts.append("no progress for a while")
        elif snapshot.total:
            parts.append(f"{format_duration(snapshot.eta_seconds)} left")
    if job.is_finished and job.duration_seconds:
        parts.append(f"took {format_duration(job.duration_seconds)}")
    if loss is not None:
        parts.append(f"loss {loss:.4f}")
    return " · ".join(parts)


def epoch_text(job: Job, step: int, total: int | None) -> str:
    """The "epoch 4 of 10" of a running job — the unit checkpoints are saved in, which OneTrainer and
    kohya's console show beside the step. Only when the length came from the epochs (no
    `max_steps`): the steps are then spread evenly over them (buckets make the real edges differ
    by a step or so)."""
    epochs = job.config.get("epochs")
    if job.is_finished or not total or job.config.get("max_steps"):
        return ""
    if not isinstance(epochs, int) or epochs < 2:
        return ""
    current = min(epochs, max(0, step) * epochs // total + 1)
    return f"epoch {current} of {epochs}"


def summary_lines(job: Job) -> list[str]:
    lines = [f"{job.name} — {job.status.value.capitalize()} on {job.backend}"]
    if job.status is JobStatus.LOST:
        lines.append(LOST_ADVICE)
        reason = job.error or next(
            (t.message for t in reversed(job.history) if t.to_status is JobStatus.LOST), ""
        )
        if reason:
            lines.append(f"What LoRA Studio saw: {reason}")
    elif job.error:
        lines.append(job.error)
    if job.outputs:
        lines.append("Output: " + ", ".join(job.outputs))
    if job.checkpoints:
        steps = ", ".join(str(c.step) for c in job.checkpoints if c.step is not None)
        count = len(job.checkpoints)
        noun = "checkpoint" if count == 1 else "checkpoints"
        lines.append(f"{count} {noun}" + (f" at steps {steps}" if steps else ""))
    return lines


def output_folder(job: Job) -> str:
    local = [Path(output) for output in job.outputs if "://" not in output]
    return str(local[0].parent) if local else ""


def output_file(job: Job) -> str:
    local = [output for output in job.outputs if "://" not in output]
    return local[0] if local else ""
