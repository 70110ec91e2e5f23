"""View-model part: what the artist can do with the selected job on the Jobs page — cancel, retry,
duplicate and edit, inspect the file, delete the record, use a checkpoint as the final LoRA.

A mixin of `JobsViewModel` (which declares the signals and properties used here), kept in its own
file so each stays small. Every action that loses or replaces something asks first: it emits a
`…_requested` signal with the question, the view answers with the `confirm_…` method. The work
runs through the view-model's `BackgroundWork` (expected failures become `error`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lora_studio.viewmodels.jobs_actions import cancel_question, inspect_text
from lora_studio.viewmodels.jobs_live import output_file

if TYPE_CHECKING:
    from lora_studio.viewmodels.jobs_vm import JobsViewModel

    _Base = JobsViewModel
else:
    _Base = object


class JobActionsMixin(_Base):
    """Intent methods and their coroutines; state lives in `JobsViewModel`."""

    def cancel_selected(self) -> None:
        """Ask the view to confirm, saying what this backend can and cannot stop."""
        job = self._selected
        if job is None or job.is_finished:
            return
        if self._cancel_handler is None:
            self.error = (
                "Cancelling is not available: no training backend is configured in this window."
            )
            return
        self.cancel_requested.emit(job.id, cancel_question(job))

    def confirm_cancel(self, job_id: str) -> None:
        if self._cancel_handler is None or self.busy:
            return
        self.busy = True
        self._work.spawn(self._run_cancel(job_id), self._set_error)

    def retry_selected(self) -> None:
        job = self._selected
        if job is None or not job.is_finished:
            return
        if self._retry_handler is None:
            self.error = "Retrying is not available: no training backend is set up in this window."
            return
        self.busy = True
        self._work.spawn(self._run_retry(job.id), self._set_error)

    def duplicate_selected(self) -> None:
        """Open the Train wizard filled in with this job's dataset, preset and settings."""
        job = self._selected
        if job is not None:
            self.edit_requested.emit(job.dataset_path, job.preset or "", dict(job.config))

    def inspect_selected(self) -> None:
        job = self._selected
        path = output_file(job) if job is not None else ""
        if path:
            self._work.spawn(self._run_inspect(path), self._set_error)

    def delete_selected(self) -> None:
        job = self._selected
        if job is None:
            return
        if self._events is not None and self._events.is_following(job.id):
            self.error = f"Job {job.name} is still running here; cancel it before deleting it."
            return
        self.delete_requested.emit(
            job.id,
            f"Delete the record of job {job.name}? Its loss curve and logs go with it; the "
            "trained LoRA files stay where they are.",
        )

    def confirm_delete(self, job_id: str) -> None:
        self._work.spawn(self._run_delete(job_id), self._set_error)

    def promote_selected(self, step: int) -> None:
        """ "Use this checkpoint": ask the view to confirm making `step` the final LoRA."""
        job = self._selected
        if job is None or step <= 0:
            return
        if self._promote_handler is None or not job.is_finished or not output_file(job):
            self.error = "Only a finished job with a downloaded LoRA can take another checkpoint."
            return
        if all(c.step != step for c in job.checkpoints):
            self.error = f"Job {job.name} kept no checkpoint at step {step}."
            return
        self.promote_requested.emit(
            job.id,
            step,
            f"Use the checkpoint of step {step} as {job.name}'s LoRA? It replaces "
            f"{output_file(job)} (with our metadata); the current file is kept beside it.",
        )

    def confirm_promote(self, job_id: str, step: int) -> None:
        if self._promote_handler is not None:
            self.busy = True
            self._work.spawn(self._run_promote(job_id, step), self._set_error)

    # -- their background halves -----------------------------------------------------------

    async def _run_cancel(self, job_id: str) -> None:
        assert self._cancel_handler is not None
        try:
            message = await self._cancel_handler(job_id)
        finally:
            self.busy = False
        if message:
            self.cancel_finished.emit(message)
        self.refresh()

    async def _run_retry(self, job_id: str) -> None:
        assert self._retry_handler is not None
        try:
            new_id = await self._retry_handler(job_id)
        finally:
            self.busy = False
        self.refresh()
        self.select(new_id)

    async def _run_promote(self, job_id: str, step: int) -> None:
        assert self._promote_handler is not None
        try:
            message = await self._promote_handler(job_id, step)
        finally:
            self.busy = False
        self.promote_finished.emit(message)
        self.refresh()

    async def _run_inspect(self, path: str) -> None:
        title, text = await self._work.blocking(inspect_text, path)
        self.inspect_ready.emit(title, text)

    async def _run_delete(self, job_id: str) -> None:
        await self._io(self._store.delete, job_id)
        self._live.pop(job_id, None)
        if job_id == self.selected_job_id:
            self.select("")
        self.refresh()
