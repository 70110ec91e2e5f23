"""View-model: the Jobs page — job history, the selected job's progress, loss series and logs.

Reads the job store (in the executor, never on the GUI thread) on a one-second refresh, so jobs run
from the command line or re-attached at start-up show up live too. Cancelling goes through an
injected async `cancel_handler(job_id) -> message` supplied by app.py (the backends live there).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from lora_studio.core.errors import LoraStudioError
from lora_studio.core.jobs import (
    Job,
    JobStatus,
    JobStore,
    Progress,
    ProgressSnapshot,
    ProgressTracker,
    format_clock,
)
from lora_studio.core.jobs.records import LogLine, LossPoint
from lora_studio.viewmodels.models.jobs_table_model import JobRow, JobsTableModel
from lora_studio.viewmodels.observable import Observable

log = logging.getLogger(__name__)

CancelHandler = Callable[[str], Awaitable[str]]


@dataclass(frozen=True)
class JobDetail:
    """What the detail panel shows for the selected job, read in one go off the GUI thread."""

    job: Job
    loss: list[LossPoint]
    logs: list[LogLine]


# What one refresh read: the job list and the selected job's detail, or an error sentence.
ReadResult = tuple[list[Job], JobDetail | None] | str


def _row(job: Job) -> JobRow:
    return JobRow(
        job_id=job.id,
        name=job.name,
        backend=job.backend,
        status=job.status.value,
        step=job.progress.step,
        total=job.progress.total,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        cost=job.cost,
        error=job.error,
    )


def format_duration(seconds: float | None) -> str:
    text = format_clock(seconds)
    return "—" if text == "?" else text


class JobsViewModel(QObject):
    error_changed = Signal(str)
    busy_changed = Signal(bool)
    selected_job_id_changed = Signal(str)
    summary_changed = Signal(str)
    progress_text_changed = Signal(str)
    percent_changed = Signal(int)
    logs_text_changed = Signal(str)
    log_filter_changed = Signal(str)
    can_cancel_changed = Signal(bool)
    output_folder_changed = Signal(str)
    loss_changed = Signal(list, list)  # steps, values
    refreshed = Signal()
    cancel_finished = Signal(str)

    error = Observable("")
    busy = Observable(False)
    selected_job_id = Observable("")
    summary = Observable("Select a job to see its progress, loss and logs.")
    progress_text = Observable("")
    percent = Observable(-1)  # -1 = unknown (busy indicator)
    logs_text = Observable("")
    log_filter = Observable("")
    can_cancel = Observable(False)
    output_folder = Observable("")  # folder of the finished LoRA, for "Open folder"

    def __init__(
        self,
        store: JobStore,
        executor: Executor,
        cancel_handler: CancelHandler | None = None,
        refresh_interval_ms: int = 1000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._executor = executor
        self._cancel_handler = cancel_handler
        self.model = JobsTableModel(self)
        self._tasks: set[asyncio.Task[None]] = set()
        self._refreshing = False
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_interval_ms)
        self._timer.timeout.connect(self.refresh)

    # -- public, synchronous -------------------------------------------------------------------

    def start_auto_refresh(self) -> None:
        self.refresh()
        self._timer.start()

    def stop_auto_refresh(self) -> None:
        self._timer.stop()

    def refresh(self) -> None:
        if self._refreshing:
            return  # a slow disk must not pile up refreshes
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # No asyncio loop (self-test, scripts): read synchronously; nothing else is waiting.
            job_id = self.selected_job_id
            self._apply_read(job_id, self._read_all(job_id, self.log_filter))
            return
        self._refreshing = True
        self._spawn(self._run_refresh())

    def select(self, job_id: str) -> None:
        self.selected_job_id = job_id
        if not job_id:
            self.summary = "Select a job to see its progress, loss and logs."
            self.progress_text, self.percent, self.logs_text = "", -1, ""
            self.can_cancel = False
            self.output_folder = ""
            self.loss_changed.emit([], [])
            return
        self.refresh()

    def set_log_filter(self, text: str) -> None:
        self.log_filter = text
        self.refresh()

    def cancel_selected(self) -> None:
        job_id = self.selected_job_id
        if not job_id:
            return
        if self._cancel_handler is None:
            self.error = (
                "Cancelling is not available: no training backend is configured in this window."
            )
            return
        self.busy = True
        self._spawn(self._run_cancel(job_id))

    # -- background work -----------------------------------------------------------------------

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _read_all(self, job_id: str, log_filter: str) -> ReadResult:
        """Everything the page shows, in one go; a store failure becomes its sentence."""
        try:
            jobs = self._store.list(limit=500)
            if not job_id:
                return jobs, None
            job = self._store.get(job_id)
            loss = self._store.loss_series(job_id)
            logs = self._store.logs(job_id, limit=2000, contains=log_filter or None)
        except LoraStudioError as exc:
            return exc.user_message
        return jobs, JobDetail(job, loss, logs)

    async def _run_refresh(self) -> None:
        loop = asyncio.get_running_loop()
        job_id, log_filter = self.selected_job_id, self.log_filter
        try:
            result = await loop.run_in_executor(self._executor, self._read_all, job_id, log_filter)
        finally:
            self._refreshing = False
        self._apply_read(job_id, result)

    def _apply_read(self, job_id: str, result: ReadResult) -> None:
        if isinstance(result, str):
            self.error = result
            return
        jobs, detail = result
        self.model.set_rows([_row(job) for job in jobs])
        if detail is not None and detail.job.id == self.selected_job_id == job_id:
            self._show_detail(detail)
        self.refreshed.emit()

    def _show_detail(self, detail: JobDetail) -> None:
        job = detail.job
        snapshot = self._progress_snapshot(job, detail.loss)
        status = job.status.value.capitalize()
        lines = [f"{job.name} — {status} on {job.backend}"]
        if job.error:
            lines.append(job.error)
        if job.outputs:
            lines.append("Output: " + ", ".join(job.outputs))
        if job.checkpoints:
            steps = ", ".join(str(c.step) for c in job.checkpoints if c.step is not None)
            lines.append(
                f"{len(job.checkpoints)} checkpoint(s)" + (f" at steps {steps}" if steps else "")
            )
        self.summary = "\n".join(lines)
        total = job.progress.total
        if total:
            self.percent = int(100 * min(job.progress.step, total) / total)
        else:
            self.percent = 100 if job.status is JobStatus.COMPLETED else -1
        parts = [f"step {job.progress.step}" + (f" of {total}" if total else "")]
        if snapshot is not None and not job.is_finished:
            if snapshot.speed:
                parts.append(
                    f"{snapshot.speed:.2f} steps/s"
                    if snapshot.speed >= 1
                    else f"{1 / snapshot.speed:.1f} s/step"
                )
            parts.append(f"ETA {format_duration(snapshot.eta_seconds)}")
        if detail.loss:
            finite = [p.value for p in detail.loss if math.isfinite(p.value)]
            if finite:
                parts.append(f"loss {finite[-1]:.4f}")
        self.progress_text = " · ".join(parts)
        self.can_cancel = not job.is_finished
        local = [Path(output) for output in job.outputs if "://" not in output]
        self.output_folder = str(local[0].parent) if local else ""
        self.loss_changed.emit([p.step for p in detail.loss], [p.value for p in detail.loss])
        self.logs_text = "\n".join(
            f"{line.at.astimezone().strftime('%H:%M:%S')} {line.text}" for line in detail.logs
        )

    @staticmethod
    def _progress_snapshot(job: Job, loss: list[LossPoint]) -> ProgressSnapshot | None:
        """Speed and ETA from the timestamps of the recorded loss points (one per step)."""
        if not loss:
            return None
        tracker = ProgressTracker(clock=time.time)
        for point in loss[-400:]:
            tracker.feed(Progress(point.step, job.progress.total), at=point.at.timestamp())
        if job.progress.step > tracker.step:
            tracker.feed(
                Progress(job.progress.step, job.progress.total), at=loss[-1].at.timestamp()
            )
        return tracker.snapshot(time.time())

    async def _run_cancel(self, job_id: str) -> None:
        assert self._cancel_handler is not None
        try:
            message = await self._cancel_handler(job_id)
        except LoraStudioError as exc:
            self.error = exc.user_message
            message = ""
        finally:
            self.busy = False
        if message:
            self.cancel_finished.emit(message)
        self.refresh()
