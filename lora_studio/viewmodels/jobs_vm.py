"""View-model: the Jobs page — job history, the selected job's live progress, loss and logs, and
what the artist can do with a job (cancel, retry, duplicate and edit, inspect the file, delete).

Live, pushed, never on the GUI thread:
- jobs this process follows arrive as events from the training service (`events.subscribe`): the
  GUI thread only appends them to per-job buffers (`LiveJob`); a 10 Hz timer draws what changed —
  new loss points are *appended* to the chart, new log lines appended, speed and ETA from the
  backend's own figures. No polling for them.
- jobs another process follows (a `lora-studio train` in a terminal) are re-read from the store
  on a slow timer, and only while such a job exists.
- every store read and write goes through the store's own thread (`JobStore.worker`); background
  work runs through `BackgroundWork`, whose one error path puts expected failures in `error` and
  sends bugs to the crash dialog.
Confirmations are requests the view answers (`cancel_requested`, `delete_requested`); a job that
ends emits `job_ended` for the desktop notification.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from lora_studio.core.jobs import Job, JobEvent, JobStore
from lora_studio.core.jobs.records import LogLine, LossPoint
from lora_studio.viewmodels.background import BackgroundWork, has_running_loop
from lora_studio.viewmodels.jobs_live import (
    LiveJob,
    format_duration,
    output_file,
    output_folder,
    percent_of,
    progress_text,
    seed_tracker,
    summary_lines,
)
from lora_studio.viewmodels.jobs_vm_actions import JobActionsMixin
from lora_studio.viewmodels.models.jobs_table_model import JobRow, JobsTableModel
from lora_studio.viewmodels.models.samples_model import (
    SampleGrid,
    SamplesModel,
    build_grid,
    load_thumbnails,
)
from lora_studio.viewmodels.observable import Observable
from lora_studio.viewmodels.sample_viewer_vm import SampleViewerViewModel

log = logging.getLogger(__name__)

__all__ = ["JobsViewModel", "format_duration"]

CancelHandler = Callable[[str], Awaitable[str]]
RetryHandler = Callable[[str], Awaitable[str]]  # job id → the new job's id
PromoteHandler = Callable[[str, int], Awaitable[str]]  # job id, step → what happened
STATUS_FILTERS = ("", "queued", "running", "completed", "failed", "cancelled", "lost")


class JobEventSource(Protocol):
    """What the training service offers the monitor (see `TrainingService.subscribe`)."""

    def subscribe(self, listener: Callable[[str, JobEvent], None]) -> Callable[[], None]: ...

    def is_following(self, job_id: str) -> bool: ...


@dataclass(frozen=True)
class JobDetail:
    """What the detail panel shows for the selected job, read in one go off the GUI thread."""

    job: Job
    loss: list[LossPoint]
    logs: list[LogLine]


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


class JobsViewModel(JobActionsMixin, QObject):
    error_changed = Signal(str)
    busy_changed = Signal(bool)
    selected_job_id_changed = Signal(str)
    summary_changed = Signal(str)
    progress_text_changed = Signal(str)
    percent_changed = Signal(int)
    logs_text_changed = Signal(str)
    log_filter_changed = Signal(str)
    status_filter_changed = Signal(str)
    can_cancel_changed = Signal(bool)
    can_retry_changed = Signal(bool)
    can_inspect_changed = Signal(bool)
    output_folder_changed = Signal(str)
    loss_changed = Signal(list, list)  # the whole series of a newly shown job: steps, values
    loss_appended = Signal(list, list)  # points that arrived since the last frame
    overlays_changed = Signal(dict)  # label → (steps, values) of jobs to compare
    logs_appended = Signal(str)
    refreshed = Signal()
    cancel_requested = Signal(str, str)  # job id, what cancelling will and will not stop
    cancel_finished = Signal(str)
    delete_requested = Signal(str, str)  # job id, question
    edit_requested = Signal(str, str, dict)  # dataset folder, preset, config
    inspect_ready = Signal(str, str)  # title, text
    job_ended = Signal(str, str, str)  # title, message, status
    samples_changed = Signal(int)  # how many sample images the selected job has
    promote_requested = Signal(str, int, str)  # job id, step, question
    promote_finished = Signal(str)

    error = Observable("")
    busy = Observable(False)
    selected_job_id = Observable("")
    summary = Observable("Select a job to see its progress, loss and logs.")
    progress_text = Observable("")
    percent = Observable(0)  # -1 only while a running job's amount is unknown (busy bar)
    logs_text = Observable("")
    log_filter = Observable("")
    status_filter = Observable("")
    can_cancel = Observable(False)
    can_retry = Observable(False)
    can_inspect = Observable(False)
    output_folder = Observable("")  # folder of the finished LoRA, for "Open folder"

    def __init__(
        self,
        store: JobStore,
        executor: Executor | None = None,
        cancel_handler: CancelHandler | None = None,
        refresh_interval_ms: int = 5000,
        parent: QObject | None = None,
        *,
        events: JobEventSource | None = None,
        retry_handler: RetryHandler | None = None,
        promote_handler: PromoteHandler | None = None,
        frame_interval_ms: int = 100,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._executor = executor
        self._work = BackgroundWork(executor)
        self._cancel_handler = cancel_handler
        self._retry_handler = retry_handler
        self._events = events
        self._promote_handler = promote_handler
        self.model = JobsTableModel(self)
        self.samples_model = SamplesModel(self)
        self._samples_key: tuple[str, ...] = ()
        self._loss_at: dict[int, float] = {}
        self._jobs: dict[str, Job] = {}
        self._live: dict[str, LiveJob] = {}
        self._selected: Job | None = None
        self._loss_count = 0  # points of the selected job already shown
        self._shown_loss: float | None = None  # its latest finite loss
        self._compare: list[str] = []
        self._refreshing = False
        self._refresh_again = False
        self._unsubscribe = events.subscribe(self._handle_event) if events is not None else None
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(refresh_interval_ms)
        self._poll_timer.timeout.connect(self._poll)
        self._frame_timer = QTimer(self)
        self._frame_timer.setInterval(frame_interval_ms)  # ≤ 10 Hz: one redraw per frame
        self._frame_timer.timeout.connect(self._frame)

    # -- lifecycle -----------------------------------------------------------------------------

    def start_auto_refresh(self) -> None:
        if not has_running_loop():
            return  # the self-test builds the page without an event loop: nothing to read
        self.refresh()
        self._poll_timer.start()
        self._frame_timer.start()

    def stop_auto_refresh(self) -> None:
        self._poll_timer.stop()
        self._frame_timer.stop()

    def sample_viewer(self, row: int, column: int) -> SampleViewerViewModel:
        """One sample large, starting at the grid's cell (row, column), walking the same grid.
        Unparented: the viewer that shows it owns it."""
        viewer = SampleViewerViewModel(self.samples_model, self._executor)
        viewer.open_at(row, column)
        return viewer

    def shutdown(self) -> None:
        self.stop_auto_refresh()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._work.cancel()

    # -- intent --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the job list (and the selected job's record) from the store."""
        if self._refreshing:
            self._refresh_again = True  # a slow disk must not pile up reads
            return
        self._refreshing = True
        self._work.spawn(self._run_refresh(), self._set_error)

    def select(self, job_id: str) -> None:
        if job_id == self.selected_job_id:
            return  # already shown or being read: a second read could race the live lines
        self.selected_job_id = job_id
        self._selected = None
        self._loss_count = 0
        self._shown_loss = None
        self._samples_key = ()
        self._loss_at = {}
        self.samples_model.set_grid(SampleGrid())
        self.samples_changed.emit(0)
        if not job_id:
            self.loss_changed.emit([], [])
            self.summary = "Select a job to see its progress, loss and logs."
            self.progress_text, self.percent, self.logs_text = "", 0, ""
            self.can_cancel = self.can_retry = self.can_inspect = False
            self.output_folder = ""
            return
        self._work.spawn(self._run_load_detail(job_id), self._set_error)

    def set_log_filter(self, text: str) -> None:
        self.log_filter = text
        if self.selected_job_id:
            self._work.spawn(self._run_load_logs(self.selected_job_id, text), self._set_error)

    def set_status_filter(self, status: str) -> None:
        if status not in STATUS_FILTERS:
            raise ValueError(f"unknown status filter {status!r}")
        self.status_filter = status
        self._show_rows()

    def set_compare(self, job_ids: list[str]) -> None:
        """Overlay these jobs' losses on the chart (the selected one is always shown)."""
        self._compare = [job_id for job_id in job_ids if job_id != self.selected_job_id][:6]
        self._work.spawn(self._run_load_overlays(list(self._compare)), self._set_error)

    # -- live events (GUI thread; must stay cheap) ---------------------------------------------

    def _handle_event(self, job_id: str, event: JobEvent) -> None:
        live = self._live.get(job_id)
        if live is None:
            live = self._live[job_id] = LiveJob()
            known = self._jobs.get(job_id)
            if known is not None:
                live.tracker = seed_tracker(known)
        live.feed(event, datetime.now(UTC))

    def _frame(self) -> None:
        """Draw what arrived since the last frame (≤ 10 Hz)."""
        status_changed = False
        for job_id, live in list(self._live.items()):
            if live.status_changed:
                live.status_changed = False
                status_changed = True
            if live.ended is not None:
                ended, live.ended = live.ended, None
                self._announce_end(job_id, ended)
            snapshot = live.tracker.snapshot()
            self.model.update_progress(job_id, snapshot.step, snapshot.total)
            if job_id != self.selected_job_id or self._selected is None:
                live.take_loss()
                live.take_logs()
                continue
            steps, values = live.take_loss()
            if steps:
                self._loss_count += len(steps)
                self._loss_at.update(zip(steps, values, strict=True))
                self.loss_appended.emit(steps, values)
            lines = [line for line in live.take_logs() if self._matches(line)]
            if lines:
                self.logs_appended.emit(_format_logs(lines))
            self._show_progress(self._selected, live)
        if status_changed:
            self.refresh()
        elif self._selected is not None and self.selected_job_id not in self._live:
            self._show_progress(self._selected, None)  # the ETA of a polled job counts down

    def _announce_end(self, job_id: str, event: JobEvent) -> None:
        name = self._jobs[job_id].name if job_id in self._jobs else job_id
        status = getattr(getattr(event, "status", None), "value", "")
        message = getattr(event, "message", "")
        if not status:
            status = "failed" if message else "completed"
        titles = {
            "completed": f"{name} finished",
            "failed": f"{name} failed",
            "cancelled": f"{name} was cancelled",
            "lost": f"{name} was lost",
        }
        text = message or ("The LoRA is ready." if status == "completed" else "")
        self.job_ended.emit(titles.get(status, f"{name}: {status}"), text, status)

    def _matches(self, line: LogLine) -> bool:
        return not self.log_filter or self.log_filter.lower() in line.text.lower()

    def _poll(self) -> None:
        """Slow re-read, only while a job is running that this process does not follow."""
        if self._events is None or any(
            not job.is_finished and not self._events.is_following(job.id)
            for job in self._jobs.values()
        ):
            self.refresh()

    # -- store reads and writes (on the store's thread) ----------------------------------------

    async def _io(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._store.worker.call(fn, *args)

    async def _run_refresh(self) -> None:
        try:
            while True:
                self._refresh_again = False
                job_id = self.selected_job_id
                jobs: list[Job] = await self._io(self._store.list, None, None, 500)
                extra: list[LossPoint] = []
                logs: list[LogLine] | None = None
                polled = job_id and not self._followed(job_id)
                if polled and self._selected is not None:
                    # Followed elsewhere: fetch only the loss points we have not drawn yet.
                    extra = await self._io(self._store.loss_series, job_id, self._loss_count)
                    logs = await self._io(self._store.logs, job_id, 2000, self.log_filter or None)
                self._apply_list(jobs)
                if job_id == self.selected_job_id and job_id in self._jobs:
                    self._apply_selected(self._jobs[job_id], extra, logs)
                self.refreshed.emit()
                if not self._refresh_again:
                    break
        finally:
            self._refreshing = False

    async def _run_load_detail(self, job_id: str) -> None:
        job: Job = await self._io(self._store.get, job_id)
        loss: list[LossPoint] = await self._io(self._store.loss_series, job_id)
        logs: list[LogLine] = await self._io(
            self._store.logs, job_id, 2000, self.log_filter or None
        )
        if job_id != self.selected_job_id:
            return  # the artist already picked another job
        live = self._live.get(job_id)
        if live is not None:
            # Points that arrived while reading: keep those the store did not have yet.
            last = loss[-1].step if loss else -1
            steps, values = live.take_loss()
            kept = [(s, v) for s, v in zip(steps, values, strict=True) if s > last]
            live.new_steps = [s for s, _ in kept] + live.new_steps
            live.new_values = [v for _, v in kept] + live.new_values
            stored = {line.text for line in logs[-200:]}
            live.new_logs = [line for line in live.take_logs() if line.text not in stored]
        self._selected = job
        self._jobs[job_id] = job
        self._loss_count = len(loss)
        self._shown_loss = _last_finite(loss)
        self._loss_at = {p.step: p.value for p in loss}
        self.loss_changed.emit([p.step for p in loss], [p.value for p in loss])
        self.logs_text = _format_logs(logs)
        self._apply_selected(job, [], None)

    async def _run_load_logs(self, job_id: str, text: str) -> None:
        logs = await self._io(self._store.logs, job_id, 2000, text or None)
        if job_id == self.selected_job_id and text == self.log_filter:
            self.logs_text = _format_logs(logs)

    async def _run_load_overlays(self, job_ids: list[str]) -> None:
        series: dict[str, tuple[list[int], list[float]]] = {}
        for job_id in job_ids:
            job: Job = await self._io(self._store.get, job_id)
            loss: list[LossPoint] = await self._io(self._store.loss_series, job_id)
            series[f"{job.name} ({job.id[-6:]})"] = (
                [p.step for p in loss],
                [p.value for p in loss],
            )
        if job_ids == self._compare:
            self.overlays_changed.emit(series)

    # -- applying what was read ----------------------------------------------------------------

    def _followed(self, job_id: str) -> bool:
        return self._events is not None and self._events.is_following(job_id)

    def _apply_list(self, jobs: list[Job]) -> None:
        before = {job_id: job.status for job_id, job in self._jobs.items()}
        self._jobs = {job.id: job for job in jobs}
        for job in jobs:
            old = before.get(job.id)
            # A job followed elsewhere ended: its end was not announced through events.
            if (
                old is not None
                and not old.is_terminal
                and job.is_finished
                and job.id not in self._live
            ):
                self.job_ended.emit(
                    f"{job.name}: {job.status.value}", job.error or "", job.status.value
                )
        self._show_rows()

    def _show_rows(self) -> None:
        wanted = self.status_filter
        rows = [
            _row(job) for job in self._jobs.values() if not wanted or job.status.value == wanted
        ]
        self.model.set_rows(rows)
        for job_id, live in self._live.items():
            snapshot = live.tracker.snapshot()
            self.model.update_progress(job_id, snapshot.step, snapshot.total)

    def _apply_selected(self, job: Job, extra: list[LossPoint], logs: list[LogLine] | None) -> None:
        self._selected = job
        if extra:
            self._loss_count += len(extra)
            self._shown_loss = _last_finite(extra) or self._shown_loss
            self._loss_at.update((p.step, p.value) for p in extra)
            self.loss_appended.emit([p.step for p in extra], [p.value for p in extra])
        if logs is not None:
            self.logs_text = _format_logs(logs)
        self.summary = "\n".join(summary_lines(job))
        self.can_cancel = not job.is_finished
        self.can_retry = job.is_finished and self._retry_handler is not None
        self.output_folder = output_folder(job)
        self.can_inspect = bool(output_file(job))
        self._show_progress(job, self._live.get(job.id))
        self._show_samples(job)

    def _show_samples(self, job: Job) -> None:
        key = tuple(sample.path for sample in job.samples)
        if key == self._samples_key:
            return
        self._samples_key = key
        grid = build_grid(job.samples, self._loss_at)
        self._work.spawn(self._run_thumbnails(job.id, grid), self._set_error)

    async def _run_thumbnails(self, job_id: str, grid: SampleGrid) -> None:
        loaded = await self._work.blocking(load_thumbnails, grid)  # decoding is disk + CPU work
        if job_id == self.selected_job_id:
            self.samples_model.set_grid(loaded)
            self.samples_changed.emit(len(loaded.cells))

    def _show_progress(self, job: Job, live: LiveJob | None) -> None:
        if live is not None and not job.is_finished:
            snapshot = live.tracker.snapshot()
            loss = live.last_loss
        else:
            snapshot, loss = None, None
        if loss is None:
            loss = self._shown_loss
        self.percent = percent_of(job, snapshot)
        self.progress_text = progress_text(job, snapshot, loss)

    def _set_error(self, message: str) -> None:
        self.error = message


def _last_finite(points: list[LossPoint]) -> float | None:
    for point in reversed(points):
        if math.isfinite(point.value):
            return point.value
    return None


def _format_logs(lines: list[LogLine]) -> str:
    return "\n".join(f"{line.at.astimezone().strftime('%H:%M:%S')} {line.text}" for line in lines)
