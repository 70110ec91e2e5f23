"""Core/ComfyUI: cancelling a job, honestly.

What ComfyUI can do (docs/protocols.md §1.4, §2.6): `POST /queue {"delete": [id]}` removes a prompt
that has not started; `POST /interrupt {"prompt_id": id}` is only noticed *after* a running
TrainLoraNode finishes — the GPU stays busy until the chunk's last step, then the run ends
without saving. So:
- a queued prompt is deleted: stopped;
- a running single-prompt job is deleted + interrupted: it stops without saving, but only once
  the training node is done — the message says so, with an estimate when we know the speed;
- a running chunk that this process follows is left to finish (interrupting would only throw its
  work away, not free the GPU sooner); its checkpoint is kept and no further chunk is queued;
- a running chunk nobody here follows (cancel from another process) is interrupted like a single
  prompt, because only an interrupt tells the process that follows it to stop.
Idempotent: a second call gives the same answer without harm.
"""

from __future__ import annotations

from typing import Protocol

from lora_studio.core.backends.base import CancelOutcome, CancelResult, JobLike
from lora_studio.core.backends.comfyui.client import ComfyClient
from lora_studio.core.backends.comfyui.follow import StepTracker
from lora_studio.core.backends.comfyui.state import ComfyJobState
from lora_studio.core.errors import BackendUnavailableError


class CancelHost(Protocol):
    """What cancelling needs from the backend (`ComfyUIBackend` is one; no import of it here)."""

    @property
    def client(self) -> ComfyClient: ...

    def job_state(self, job: JobLike) -> ComfyJobState: ...

    def mark_cancelled(self, job_id: str) -> None: ...

    def live_progress(self, job_id: str) -> StepTracker | None: ...

    def wake(self, client_id: str, prompt_id: str) -> None: ...


def _eta(seconds: float | None) -> str:
    if seconds is None or seconds <= 0:
        return ""
    minutes = round(seconds / 60)
    return f" in about {minutes} min" if minutes >= 1 else " in under a minute"


async def cancel_job(backend: CancelHost, job: JobLike) -> CancelResult:
    if not job.backend_state or not job.backend_state.get("chunks"):
        return CancelResult(
            CancelOutcome.STOPPED, "The job was never queued on ComfyUI; nothing is running there."
        )
    state = backend.job_state(job)
    if state.finished or job.status.is_terminal:
        return CancelResult(
            CancelOutcome.ALREADY_FINISHED,
            "The job had already finished on ComfyUI; there is nothing to stop.",
        )
    state.cancel_requested = True
    job.backend_state = state.to_dict()
    backend.mark_cancelled(job.id)
    chunk, count = state.current, len(state.plan)
    kept = state.last_done
    kept_note = (
        f" The checkpoint from chunk {kept.index} (step {kept.end_step}) is kept." if kept else ""
    )
    client = backend.client
    live = backend.live_progress(job.id)
    eta = None
    if live is not None and live.rate:
        eta = max(0, chunk.end_step - live.last_step) / live.rate
    try:
        queue = await client.queue()
        if chunk.prompt_id in queue.pending:
            await client.delete_pending([chunk.prompt_id])
            return CancelResult(
                CancelOutcome.STOPPED,
                "Removed the job from ComfyUI's queue before it started." + kept_note,
            )
        if chunk.prompt_id not in queue.running:
            if chunk.done or await client.history(chunk.prompt_id) is not None:
                return CancelResult(
                    CancelOutcome.STOPPED,
                    "Stopped between chunks: no further "
                    "part of the job will be queued." + kept_note,
                )
            return CancelResult(
                CancelOutcome.STOPPED,
                "ComfyUI was not running the job any "
                "more; nothing further will be queued." + kept_note,
            )
        first = chunk.end_step - chunk.steps + 1
        if state.chunked and live is not None:
            return CancelResult(
                CancelOutcome.STOPPING,
                (
                    "ComfyUI cannot stop a training node that is already running. Chunk "
                    f"{chunk.index} of {count} (steps {first}–{chunk.end_step}) will finish"
                    f"{_eta(eta)}; its checkpoint will be kept and no further chunks will be queued."
                ),
            )
        # Nobody here follows the job (or it is one prompt): interrupt it, so that whoever
        # follows it — another LoRA Studio window, a re-attach later — sees it end as cancelled.
        await client.delete_pending([chunk.prompt_id])
        await client.interrupt(chunk.prompt_id)
        what = (
            f"chunk {chunk.index} of {count} (steps {first}–{chunk.end_step}) is done"
            if state.chunked
            else f"all {chunk.steps} steps are done"
        )
        return CancelResult(
            CancelOutcome.STOPPING,
            (
                "Asked ComfyUI to stop. It cannot stop a training node that is already running: the "
                f"GPU stays busy until {what}{_eta(eta)}, then the job ends without saving a LoRA. "
                "Restart ComfyUI to free the GPU sooner." + kept_note
            ),
        )
    except BackendUnavailableError as exc:
        return CancelResult(
            CancelOutcome.UNCONFIRMED,
            (
                f"{exc.user_message} The job may still be running there; LoRA Studio will not queue "
                "any further part of it."
            ),
        )
    finally:
        backend.wake(state.client_id, chunk.prompt_id)
