"""Core: run one job on one backend while recording everything in the job store.

The job is recorded *before* submission (so a crash during upload still leaves a record), every
backend event is written in small batches (a backend may send 50 events a second), the backend's
re-attach state is persisted as it changes, and when the backend says Finished the weights are
downloaded, verified and stamped with our metadata before the job is marked completed. The CLI's
`train`/`jobs attach` and the GUI's job monitor both use this one class.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from lora_studio.core.backends.base import (
    CancelOutcome,
    CancelResult,
    EffectiveSettings,
    SaveState,
    TrainingBackend,
)
from lora_studio.core.config.training_config import TrainingConfig, config_from_dict
from lora_studio.core.errors import BackendError, JobError, LoraStudioError
from lora_studio.core.jobs import (
    Checkpoint,
    Failed,
    Finished,
    Job,
    JobEvent,
    JobStatus,
    JobStore,
    Log,
    Sample,
    StatusChanged,
)
from lora_studio.core.training.dataset_input import TrainingDataset, load_training_dataset
from lora_studio.core.training.job_lock import JobLock
from lora_studio.core.training.metadata import stamp_metadata
from lora_studio.core.training.samples import make_placer, make_session

log = logging.getLogger(__name__)

T = TypeVar("T")

EventCallback = Callable[[JobEvent], None]
_KEEPS_CHECKPOINT = frozenset({JobStatus.CANCELLED, JobStatus.FAILED, JobStatus.LOST})
_DOWNLOAD_FAILED = "but the LoRA could not be downloaded"  # in `_collect`'s Failed message


def is_terminal(event: JobEvent) -> bool:
    return isinstance(event, Finished | Failed) or (
        isinstance(event, StatusChanged) and event.status.is_terminal
    )


class JobRunner:
    """Submits and follows jobs of one backend, keeping the job store up to date."""

    def __init__(
        self,
        store: JobStore,
        backend: TrainingBackend,
        *,
        flush_interval_s: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.backend = backend
        self._flush_interval_s = flush_interval_s
        self._clock = clock

    async def submit(self, job: Job, dataset: TrainingDataset) -> Job:
        """Record `job` (queued), upload and start it on the backend; returns the stored job.

        The backend reports what it needs to find its work again through `save_state` before
        each request that creates work; it is written here, durably, before the request goes
        out (see `core.backends.base`). The job lock is held meanwhile, so `jobs attach` in
        another process waits for this one instead of judging a half-submitted job.
        """
        job = await self._io(self.store.add, job)
        lock = JobLock(job.id, self.store.locks_dir)
        locked = lock.acquire()
        try:
            config = typed_config(job)
            await self.backend.submit(job, config, dataset.summary, self.state_saver(job))
        except LoraStudioError as exc:
            await self._io(
                self.store.record_event, job.id, Failed(exc.user_message, exc.detail or "")
            )
            raise
        except BaseException:
            # Ctrl-C or a bug during upload: the record must not stay "queued" forever.
            await self._io(
                self.store.record_event,
                job.id,
                Failed("Submission was interrupted before it finished."),
            )
            raise
        finally:
            if locked:
                lock.release()
        return await self._io(self.store.get, job.id)

    async def _io(self, fn: Callable[..., T], /, *args: Any) -> T:
        """Job-store I/O on the store's own thread: never on the event loop (the GUI thread)."""
        return await self.store.worker.call(fn, *args)

    def state_saver(self, job: Job) -> SaveState:
        """The `save_state` callback for `job`: the store first, then the in-memory job."""

        async def save(state: Mapping[str, Any], backend_job_id: str | None) -> None:
            snapshot = dict(state)

            def remember(stored: Job) -> None:
                stored.backend_state = snapshot
                if backend_job_id is not None:
                    stored.backend_job_id = backend_job_id

            # A small SQLite write (WAL, synchronous) — it must be on disk before the request.
            await self._io(self.store.modify, job.id, remember)
            job.backend_state = dict(snapshot)
            if backend_job_id is not None:
                job.backend_job_id = backend_job_id

        return save

    async def follow(
        self,
        job: Job,
        out_dir: Path,
        *,
        dataset: TrainingDataset | None = None,
        on_event: EventCallback | None = None,
    ) -> Job:
        """Record the backend's events for `job` until it ends; download the LoRA on success.

        Works for a job submitted by this process or re-attached after a restart. Raises
        BackendUnavailableError when the backend cannot be reached (the job stays as it was).
        """
        lock = JobLock(job.id, self.store.locks_dir)
        if not lock.acquire():
            raise JobError(
                f"Job {job.id} is already being followed by another LoRA Studio window or "
                "command; its progress shows up there and in the job list."
            )
        try:
            if job.status is JobStatus.QUEUED and not job.backend_state and not job.backend_job_id:
                return await self._never_submitted(job, on_event)
            return await self._follow_locked(job, out_dir, dataset, on_event)
        finally:
            lock.release()

    async def _never_submitted(self, job: Job, on_event: EventCallback | None) -> Job:
        """A queued job with nothing on record: its submitting process stopped before the
        backend was asked for anything (the state is saved before every request)."""
        event = Failed(
            f"Job {job.id} never reached {job.backend}: LoRA Studio stopped while preparing "
            "it, before anything was sent. Start the training again."
        )
        if on_event is not None:
            on_event(event)
        return await self._io(self.store.record_event, job.id, event)

    async def _follow_locked(
        self,
        job: Job,
        out_dir: Path,
        dataset: TrainingDataset | None,
        on_event: EventCallback | None,
    ) -> Job:
        pending: list[JobEvent] = []
        last_flush = self._clock()
        saved_state = dict(job.backend_state)
        worker = self.store.worker
        # Writes queued on the store's thread; the follow loop does not wait for them (a busy
        # database must not hold up the stream) except at the end and when the backlog is large.
        writes: list[Future[Job]] = []

        def emit_samples(events: list[JobEvent]) -> None:
            # Renders finish in the background, possibly after the job itself has ended.
            for event in events:
                if on_event is not None:
                    on_event(event)
            worker.record_later(job.id, events)

        config = typed_config(job)  # what the backend reads; the record keeps the JSON
        samples = make_session(self.backend, job, job.config, out_dir, emit_samples)
        placer = make_placer(job.config, out_dir)  # samples the engine renders itself

        async def flush(wait: bool = False) -> None:
            nonlocal last_flush, saved_state
            if pending:
                future = worker.record_later(job.id, pending)
                pending.clear()
                if future not in writes:
                    writes.append(future)
            if job.backend_state != saved_state:
                state = dict(job.backend_state)
                writes.append(worker.submit(self.store.modify, job.id, _with_state(state)))
                saved_state = state
            wait = wait or worker.backlog > worker.max_backlog
            while writes and (wait or writes[0].done()):
                stored = await asyncio.wrap_future(writes.pop(0))  # a write error raises here
                if stored.backend_state.get("cancel_requested") and not job.backend_state.get(
                    "cancel_requested"
                ):
                    # `jobs cancel` in another process asked to stop between chunks.
                    job.backend_state = {**job.backend_state, "cancel_requested": True}
                    saved_state = {**saved_state, "cancel_requested": True}
            last_flush = self._clock()

        try:
            async for event in self.backend.events(job, config, self.state_saver(job)):
                if isinstance(event, Finished):
                    await flush(wait=True)
                    finished = await self._collect(job, out_dir, dataset)
                    if on_event is not None:
                        on_event(finished)
                    await self._io(self.store.record_event, job.id, finished)
                    if samples is not None:
                        samples.update(job.backend_state)  # the final file's samples
                    break
                if placer is not None and isinstance(event, Sample):
                    event = await asyncio.to_thread(placer.place, event)
                if on_event is not None:
                    on_event(event)
                if samples is not None and isinstance(event, Checkpoint):
                    samples.update(job.backend_state)
                pending.append(event)
                if is_terminal(event) or self._clock() - last_flush >= self._flush_interval_s:
                    await flush(wait=is_terminal(event))
                if is_terminal(event):
                    break
            if samples is not None:
                await samples.finish()
        finally:
            if samples is not None:
                samples.cancel()  # no-op when finished; stops renders when following stops
            await flush(wait=True)
        final = await self._io(self.store.get, job.id)
        # Lost too: a server restart forgets the prompt, not the checkpoints it already saved.
        if final.status in _KEEPS_CHECKPOINT and final.checkpoints:
            final = await self._keep_last_checkpoint(final, job, out_dir, dataset, on_event)
        await self._io(self._record_speed, final)
        return final

    async def _keep_last_checkpoint(
        self,
        final: Job,
        job: Job,
        out_dir: Path,
        dataset: TrainingDataset | None,
        on_event: EventCallback | None,
    ) -> Job:
        """A cancelled, failed or lost chunked job keeps what it learned: its last checkpoint."""
        result = await self._collect(job, out_dir, dataset)
        if isinstance(result, Failed):
            note: JobEvent = Log(f"The last checkpoint could not be kept: {result.message}")
            events: list[JobEvent] = [note]
        else:
            step = final.checkpoints[-1].step
            events = [Log(f"Kept the checkpoint of step {step}: {path}") for path in result.outputs]
            events += [Checkpoint(path, step=step) for path in result.outputs]
        for event in events:
            if on_event is not None:
                on_event(event)
        return await self._io(self.store.record_events, job.id, events)

    async def fetch(self, job: Job, out_dir: Path) -> Job:
        """Download an ended job's LoRA again (`jobs download`): the final one of a finished
        training, else the last kept checkpoint. A job that failed only because its download
        failed becomes completed. Raises the download's error (the record is unchanged)."""
        lock = JobLock(job.id, self.store.locks_dir)
        if not lock.acquire():
            raise JobError(
                f"Job {job.id} is being followed by another LoRA Studio window or command; it "
                "downloads the LoRA itself when the training ends."
            )
        try:
            result = await self._collect(job, out_dir, None)
            if isinstance(result, Failed):
                raise BackendError(result.message, detail=result.detail or None)
            paths = list(result.outputs)

            def record(stored: Job) -> None:
                if only_download_failed(stored):
                    stored.transition(JobStatus.COMPLETED, "Downloaded with `jobs download`.")
                    stored.error = None
                if stored.status is JobStatus.COMPLETED:
                    stored.outputs.extend(p for p in paths if p not in stored.outputs)

            stored = await self._io(self.store.modify, job.id, record)
            events: list[JobEvent] = [Log(f"Downloaded again: {path}") for path in paths]
            if stored.status is not JobStatus.COMPLETED:  # a kept checkpoint, not the result
                step = stored.checkpoints[-1].step if stored.checkpoints else None
                events += [Checkpoint(path, step=step) for path in paths]
            return await self._io(self.store.record_events, job.id, events)
        finally:
            lock.release()

    async def _collect(
        self, job: Job, out_dir: Path, dataset: TrainingDataset | None
    ) -> Finished | Failed:
        """Download, verify and stamp the weights; a failure here fails the job with the reason."""
        try:
            config = typed_config(job)
            files = await self.backend.download(job, config, Path(out_dir))
        except LoraStudioError as exc:
            return Failed(
                f"The training of job {job.id} finished on {self.backend.kind}, "
                f"{_DOWNLOAD_FAILED}: {exc.user_message} `lora-studio jobs download "
                f"{job.id}` fetches it again.",
                exc.detail or "",
            )
        stored = await self._io(self.store.get, job.id)
        effective = _effective(self.backend, stored, config)
        for path in files:
            # Scanning the dataset and rewriting a LoRA's header are disk work: off the event
            # loop, which is the GUI thread in the desktop app.
            if dataset is None:
                dataset = await asyncio.to_thread(_try_load_dataset, stored, config)
            try:
                await asyncio.to_thread(stamp_metadata, path, stored, config, dataset, effective)
            except LoraStudioError as exc:
                # The LoRA itself is fine; only our extra metadata is missing.
                log.warning("Could not add metadata to %s: %s", path, exc.user_message)
        return Finished(tuple(str(path) for path in files))

    def _record_speed(self, job: Job) -> None:
        if job.status is not JobStatus.COMPLETED or not job.progress.step:
            return
        duration = job.duration_seconds
        if not duration:
            return
        config = job.config
        try:
            self.store.record_speed(
                job.id,
                job.backend,
                str(config.get("base_model_family", "")),
                int(config.get("resolution", 0)),
                int(config.get("batch_size", 1)),
                duration / job.progress.step,
            )
        except (LoraStudioError, TypeError, ValueError) as exc:
            log.info("Speed of job %s not recorded: %s", job.id, exc)

    async def cancel(self, job_id: str) -> CancelResult:
        """Ask the backend to stop the job; record it as cancelled when nothing runs any more."""
        job = await self._io(self.store.get, job_id)
        if job.is_finished:
            return CancelResult(
                CancelOutcome.ALREADY_FINISHED,
                f"Job {job.id} had already ended ({job.status.value}); nothing to cancel.",
            )
        result = await self.backend.cancel(job)
        if job.backend_state:
            state = dict(job.backend_state)
            await self._io(
                self.store.modify, job.id, lambda stored: setattr(stored, "backend_state", state)
            )
        if result.outcome is CancelOutcome.STOPPED:
            await self._io(
                self.store.record_event,
                job.id,
                StatusChanged(JobStatus.CANCELLED, result.message),
            )
        return result


def _with_state(state: dict[str, Any]) -> Callable[[Job], None]:
    """Store a backend's state; a cloud backend's billed money (`cost_usd`) replaces the
    estimate in the job's `cost`."""

    def change(stored: Job) -> None:
        stored.backend_state = state
        billed = state.get("cost_usd")
        if isinstance(billed, int | float) and not isinstance(billed, bool) and billed >= 0:
            stored.cost = float(billed)

    return change


def only_download_failed(job: Job) -> bool:
    """The training finished on the backend, but its LoRA could not be downloaded (`_collect`):
    `jobs download` can still fetch it, and the job then completes."""
    if job.status is not JobStatus.FAILED or not job.history:
        return False
    last = job.history[-1]
    return last.to_status is JobStatus.FAILED and _DOWNLOAD_FAILED in last.message


def typed_config(job: Job) -> TrainingConfig:
    """The job's settings as the backend receives them: its JSON snapshot validated back once
    (InvalidConfigError naming the job when a record from another version no longer fits)."""
    return config_from_dict(job.config, context=f"The training settings of job {job.id}")


def _effective(
    backend: TrainingBackend, job: Job, config: TrainingConfig
) -> EffectiveSettings | None:
    """What the engine really ran (None from a backend that cannot say)."""
    report = getattr(backend, "effective_settings", None)
    if report is None:
        return None
    try:
        result: EffectiveSettings = report(job, config)
    except LoraStudioError as exc:
        log.info("Effective settings of job %s unknown: %s", job.id, exc.user_message)
        return None
    return result


def _try_load_dataset(job: Job, config: TrainingConfig) -> TrainingDataset | None:
    folder = Path(job.dataset_path)
    try:
        # Keyed by the folder's mtime: re-attaching many jobs of one dataset scans it once.
        mtime = folder.stat().st_mtime_ns
    except OSError:
        return None
    return _load_dataset_cached(str(folder), mtime, config.model_dump_json())


@functools.lru_cache(maxsize=8)
def _load_dataset_cached(folder: str, _mtime_ns: int, config_json: str) -> TrainingDataset | None:
    try:
        return load_training_dataset(Path(folder), TrainingConfig.model_validate_json(config_json))
    except LoraStudioError:
        return None
