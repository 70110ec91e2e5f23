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
from lora_studio.core.backends.registry import build_backend
from lora_studio.core.errors import BackendUnavailable, JobError, LoraStudioError
from lora_studio.core.jobs import Job, JobEvent, JobStore
from lora_studio.core.training.dataset_input import TrainingDataset
from lora_studio.core.training.job_lock import JobLock
from lora_studio.core.training.runner import JobRunner

log = logging.getLogger(__name__)

DEFAULT_URLS = {"comfyui": "http://127.0.0.1:8188"}
Notify = Callable[[str], None]


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

    # -- backends ------------------------------------------------------------------------------

    def set_backend_settings(self, settings: list[dict[str, Any]]) -> None:
        """New settings apply to jobs started or re-attached from now on."""
        self._settings = [dict(item) for item in settings]

    def settings_for(self, job: Job) -> dict[str, Any]:
        """The backend settings for a job: the server it was submitted to wins over defaults."""
        server = str(job.backend_state.get("server") or "")
        for settings in self._settings:
            if settings.get("kind") == job.backend and (
                not server or settings.get("url", "").rstrip("/") == server.rstrip("/")
            ):
                return dict(settings)
        return {"kind": job.backend, "url": server or DEFAULT_URLS.get(job.backend, "")}

    def backend_for(self, job: Job) -> TrainingBackend:
        settings = self.settings_for(job)
        key = (str(settings.get("kind")), str(settings.get("url", "")))
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
    ) -> Job:
        """Record and submit `job`, then follow it in the background; returns the stored job.

        Raises LoraStudioError (the job is then recorded as failed with the reason) when the
        backend refuses or cannot be reached.
        """
        runner = JobRunner(self.store, self.backend_for(job))
        stored = await runner.submit(job, dataset)
        self.follow(stored, on_event, dataset=dataset)
        return stored

    async def check(self, kind: str) -> BackendCheck:
        """Ask the configured backend of `kind` whether it can train right now."""
        probe = Job(name="check", backend=kind, dataset_path=".")
        return await self.backend_for(probe).check()

    async def validate(self, job: Job, config: Any, dataset: TrainingDataset) -> list[Any]:
        """The backend's own errors and warnings for this config and dataset."""
        return await self.backend_for(job).validate(config, dataset.summary)

    async def cancel(self, job_id: str) -> str:
        job = self.store.get(job_id)
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
        callback = (lambda event: on_event(job.id, event)) if on_event else None
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
        except BackendUnavailable as exc:
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
        """Start following every queued/running job that no other process follows."""
        results: list[ReattachResult] = []
        for job in self.store.unfinished():
            probe = JobLock(job.id)
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
