"""View-model support: the words and worker-thread halves of the Jobs page's actions.

`cancel_question` is what the confirmation asks before a cancel: what the job's backend will stop
and what it cannot (ComfyUI finishes a training node that is already running; kohya stops at once;
Replicate stops at once but bills the time used). `inspect_text` reads a LoRA file's header for
the inspector (runs in the executor: it opens the file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lora_studio.commands.inspect import format_info
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.jobs import Job, JobStatus
from lora_studio.core.weights import inspect_lora


def _comfyui_question(job: Job) -> str:
    state: dict[str, Any] = job.backend_state or {}
    plan = state.get("plan") or []
    if job.status is JobStatus.QUEUED:
        return (
            "It has not started on ComfyUI yet: it is taken out of the queue at once and nothing "
            "is trained."
        )
    if isinstance(plan, list) and len(plan) > 1:
        return (
            "ComfyUI cannot stop a training node that is already running: the chunk in progress "
            f"(up to {max(int(n) for n in plan)} steps) runs to its end and its checkpoint is "
            "kept; no further chunk is queued."
        )
    return (
        "ComfyUI cannot stop a training node that is already running: the server keeps training "
        "to the last step, then the run ends without saving a LoRA. Restart ComfyUI to free the "
        "GPU sooner."
    )


def cancel_question(job: Job) -> str:
    """The confirmation's text: the question, then what will and will not stop."""
    head = f"Cancel job {job.name}?"
    if job.backend == "comfyui":
        body = _comfyui_question(job)
    elif job.backend == "kohya":
        body = (
            "The kohya training process is stopped at once; checkpoints it has already saved "
            "stay on disk."
        )
    elif job.backend == "replicate":
        body = (
            "Replicate stops the training at once; the time already used is billed and no LoRA "
            "is produced."
        )
    else:
        body = f"LoRA Studio asks {job.backend} to stop it and tells you what it could stop."
    return f"{head}\n\n{body}"


def inspect_text(path: str) -> tuple[str, str]:
    """(title, text) describing the LoRA file at `path`: family, rank, base model, metadata."""
    title = Path(path).name
    try:
        info = inspect_lora(path)
    except LoraStudioError as exc:
        return title, exc.user_message
    return title, format_info(info)
