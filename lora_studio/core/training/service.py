"""Core: the training service the GUI owns — one backend per server, cancel by job id, and
re-attaching to unfinished jobs at start-up.

At start-up every queued/running job is followed again: ComfyUI jobs resync from the server's
queue and history (a server that forgot the job marks it Lost with the reason), jobs another
process is following (a `lora-studio train` in a terminal) are left to it, and jobs whose backend
cannot be built stay as they are with a notice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lora_studio.core.backends.base import BackendCheck, TrainingBackend
from lora_studio.core.backends.registry import build_backend, get_kind, parse_settings
from lora_studio.core.config.training_config import config_from_dict
from lora_studio.core.errors import BackendUnavailableError, JobError, LoraStudioError
from lora_studio.core.jobs import Job, JobEvent, JobStore, Log, dataset_fingerprint
from lora_studio.core.training.dataset_input import TrainingDataset, load_training_dataset
from lora_studio.core.training.job_lock import JobLock
from lora_studio.core.training.promote import final_file, promote_checkpoint
from lora_studio.core.training.runner import JobRunner

log = logging.getLogger(__name__)

Notify = Callable[[str], None]


def _identity(settings: dict[str, Any]) -> str:
    """What tells two configured backends of one kind apart (a URL, a folder)."""
    try:
        return parse_settings(settings).identity().rstrip("/")
    except LoraStudioError:
        return str(settings.get("url") or settings.get("name") or "").rstrip("/")


@dataclass(frozen=True)
class ReattachResult:
    job_id: str
    outcome: str  # "following", "followed_elsewhere", "no_backend"
    message: str = ""


class TrainingService:
    def __init__(
        self,
        store: JobStore,
        output_dir: Path,
        *,
        backend_settings: list[dict[str, Any]] | None = None,
        backend_factory: Callable[[dict[str, Any]], TrainingBackend] = build_backend,
        notify: Notify | None = None,
    ) -> None:
        self.store = store
        self.output_dir = output_dir
        self._settings = backend_settings or []
        self._factory = backend_factory
        self._notify = notify or (lambda text: log.info("%s", text))
        self._backends: dict[tuple[str, str], TrainingBackend] = {}
        self.tasks: dict[str, asyncio.Task[Job | None]] = {}
        self._listeners: list[Callable[[str, JobEvent], None]] = []

    # -- events --------------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[str, JobEvent], None]) -> Callable[[], None]:
        """Call `listener(job_id, event)` for every event of every job this service follows, on
        the event loop, as the backend yields it (the Jobs view-model's live feed: no polling).
        Returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def is_following(self, job_id: str) -> bool:
        """True while this process follows `job_id` (its events arrive through `subscribe`)."""
        task = self.tasks.get(job_id)
        return task is not None and not task.done()

    def _fan_out(
        self, job_id: str, on_event: Callable[[str, JobEvent], None] | None
    ) -> Callable[[JobEvent], None]:
        def deliver(event: JobEvent) -> None:
            if on_event is not None:
                on_event(job_id, event)
            for listener in list(self._listeners):
                try:
                    listener(job_id, event)
                except Exception:  # a broken listener must not stop the job being recorded
                    log.exception("A job event listener failed on %s", type(event).__name__)

        return deliver

    # -- backends ------------------------------------------------------------------------------

    def set_backend_settings(self, settings: list[dict[str, Any]]) -> None:
        """New settings apply to jobs started or re-attached from now on."""
        self._settings = [dict(item) for item in settings]

    def configured_names(self, kind: str) -> list[str]:
        """The configured backends of `kind` by name (an unnamed one is called by its kind)."""
        return [str(s.get("name") or kind) for s in self._settings if s.get("kind") == kind]

    def settings_for(self, job: Job, name: str | None = None) -> dict[str, Any]:
        """The backend settings for a job: the configured backend it was submitted to (its
        `server` or `identity` on record) wins over the first one of its kind, then defaults.
        `name` picks a configured backend of that kind for a new job (the wizard's choice)."""
        for settings in self._settings if name else ():
            if (
                settings.get("kind") == job.backend
                and (settings.get("name") or job.backend) == name
            ):
                return dict(settings)
        recorded = str(
            job.backend_state.get("server") or job.backend_state.get("identity") or ""
        ).rstrip("/")
        first: dict[str, Any] | None = None
        for settings in self._settings:
            if settings.get("kind") != job.backend:
                continue
            first = first or settings
            if not recorded or _identity(settings) == recorded:
                return dict(settings)
        if recorded and job.backend == "comfyui":
            # A server no longer configured: reach it where the job was submitted.
            return {**(first or {"kind": "comfyui"}), "url": recorded}
        if first is not None:
            return dict(first)
        return get_kind(job.backend).default_settings().model_dump(mode="json")

    def backend_for(self, job: Job, name: str | None = None) -> TrainingBackend:
        settings = self.settings_for(job, name)
        key = (str(settings.get("kind")), _identity(settings))
        backend = self._backends.get(key)
        if backend is None:
            backend = self._factory(settings)
            self._backends[key] = backend
        return backend

    # -- operations ----------------------------------------------------------------------------

    async def start(
        self,
        job: Job,
        dataset: TrainingDataset,
        on_event: Callable[[str, JobEvent], None] | None = None,
        *,
        backend_name: str | None = None,
    ) -> Job:
        """Record and submit `job`, then follow it in the background; returns the stored job.
        `backend_name` picks one of several configured backends of the job's kind.

        Raises LoraStudioError (the job is then recorded as failed with the reason) when the
        backend refuses or cannot be reached.
        """
        runner = JobRunner(self.store, self.backend_for(job, backend_name))
        stored = await runner.submit(job, dataset)
        self.follow(stored, on_event, dataset=dataset)
        return stored

    async def retry(self, job_id: str) -> Job:
        """Start the training of `job_id` again as a new job: same dataset folder, settings,
        preset and backend kind. LoraStudioError when the dataset or settings no longer load."""
        old = await self.store.worker.call(self.store.get, job_id)
        config = config_from_dict(old.config)
        folder = Path(old.dataset_path)
        dataset = await asyncio.to_thread(load_training_dataset, folder, config)
        fingerprint = await asyncio.to_thread(dataset_fingerprint, dataset.folder)
        job = Job(
            name=old.name,
            backend=old.backend,
            dataset_path=old.dataset_path,
            dataset_fingerprint=fingerprint,
            config=config.model_dump(mode="json"),
            preset=old.preset,
        )
        return await self.start(job, dataset)

    async def promote_checkpoint(self, job_id: str, step: int) -> str:
        """Make the checkpoint of `step` the final LoRA of finished job `job_id` (see
        promote.py); returns the sentence to show."""
        job = await self.store.worker.call(self.store.get, job_id)
        kept = await promote_checkpoint(self.backend_for(job), job, step)
        target = final_file(job)
        note = Log(f"The checkpoint of step {step} is now {target}; the previous file: {kept}")
        await self.store.worker.call(self.store.record_event, job_id, note)
        return f"{target.name} is now the checkpoint of step {step} (the previous one is kept as {kept.name})."

    async def check(self, kind: str, name: str | None = None) -> BackendCheck:
        """Ask the configured backend of `kind` (called `name`, else the first) whether it can
        train right now."""
        probe = Job(name="check", backend=kind, dataset_path=".")
        return await self.backend_for(probe, name).check()

    async def validate(
        self, job: Job, config: Any, dataset: TrainingDataset, name: str | None = None
    ) -> list[Any]:
        """The backend's own errors and warnings for this config and dataset."""
        return await self.backend_for(job, name).validate(config, dataset.summary)

    def command_preview(self, kind: str, config: Any, name: str | None = None) -> str | None:
        """The command the backend of `kind` will run for `config`, for backends that run one
        on this computer (kohya); None for the others."""
        backend = self.backend_for(Job(name="preview", backend=kind, dataset_path="."), name)
        preview = getattr(backend, "command_preview", None)
        return preview(config) if callable(preview) else None

    async def cancel(self, job_id: str) -> str:
        job = await self.store.worker.call(self.store.get, job_id)
        result = await JobRunner(self.store, self.backend_for(job)).cancel(job_id)
        return result.message

    def follow(
        self,
        job: Job,
        on_event: Callable[[str, JobEvent], None] | None = None,
        *,
        dataset: TrainingDataset | None = None,
    ) -> None:
        """Follow `job` in the background (no-op when already followed by this service)."""
        if job.id in self.tasks and not self.tasks[job.id].done():
            return
        runner = JobRunner(self.store, self.backend_for(job))
        callback = self._fan_out(job.id, on_event)
        task = asyncio.get_running_loop().create_task(self._follow(runner, job, callback, dataset))
        self.tasks[job.id] = task

    async def _follow(
        self,
        runner: JobRunner,
        job: Job,
        callback: Callable[[JobEvent], None] | None,
        dataset: TrainingDataset | None = None,
    ) -> Job | None:
        try:
            return await runner.follow(job, self.output_dir, dataset=dataset, on_event=callback)
        except BackendUnavailableError as exc:
            self._notify(
                f"Job {job.name} ({job.id}): {exc.user_message} It is kept and will be "
                "followed again at the next start."
            )
        except JobError as exc:
            self._notify(exc.user_message)
        except LoraStudioError as exc:
            self._notify(f"Job {job.name} ({job.id}): {exc.user_message}")
        return None

    def reattach_unfinished(
        self, on_event: Callable[[str, JobEvent], None] | None = None
    ) -> list[ReattachResult]:
        """Start following every queued/running job that no other process follows (reads the
        store on the calling thread: on an event loop use `reattach`)."""
        return self._reattach(self.store.unfinished(), on_event)

    async def reattach(
        self, on_event: Callable[[str, JobEvent], None] | None = None
    ) -> list[ReattachResult]:
        """`reattach_unfinished` with the store read on the store's thread."""
        jobs = await self.store.worker.call(self.store.unfinished)
        return self._reattach(jobs, on_event)

    def _reattach(
        self, jobs: list[Job], on_event: Callable[[str, JobEvent], None] | None
    ) -> list[ReattachResult]:
        results: list[ReattachResult] = []
        for job in jobs:
            probe = JobLock(job.id, self.store.locks_dir)
            if not probe.acquire():
                results.append(ReattachResult(job.id, "followed_elsewhere"))
                continue
            probe.release()
            try:
                self.follow(job, on_event)
            except LoraStudioError as exc:
                message = f"Job {job.name} ({job.id}) cannot be followed: {exc.user_message}"
                self._notify(message)
                results.append(ReattachResult(job.id, "no_backend", message))
                continue
            results.append(ReattachResult(job.id, "following"))
        return results

    async def aclose(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        for backend in self._backends.values():
            await backend.aclose()
        self._backends.clear()
