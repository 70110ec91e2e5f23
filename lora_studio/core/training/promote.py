"""Core: "use this checkpoint" — make an intermediate checkpoint of a finished job its final LoRA.

An earlier checkpoint often looks better in the sample grid than the last one (the last one
overcooked). Promoting it: fetch the checkpoint (a file on the ComfyUI server, or a local file a
local trainer wrote), verify it is a complete safetensors file, stamp our metadata into it (its
real step count included), and put it where the final LoRA is. Nothing is lost: the previous final
file is kept beside it as `NAME_step<N>.safetensors`. Every disk step is atomic (download to a
temporary file then rename; metadata rewrite through `core.atomic_io`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

from lora_studio.core.backends.files import check_safetensors_file
from lora_studio.core.config.training_config import config_from_dict
from lora_studio.core.errors import JobError, LoraStudioError
from lora_studio.core.jobs import Job
from lora_studio.core.training.metadata import stamp_metadata


def final_file(job: Job) -> Path:
    local = [Path(output) for output in job.outputs if "://" not in output]
    if not local:
        raise JobError(
            f"Job {job.name} has no downloaded LoRA to replace; only a finished job's "
            "checkpoints can be promoted."
        )
    return local[0]


async def fetch_checkpoint(backend: Any, job: Job, step: int, dest: Path) -> Path:
    """Bring the checkpoint of `step` to `dest` (atomically); JobError when there is none."""
    ref = next((c for c in job.checkpoints if c.step == step), None)
    if ref is None:
        raise JobError(f"Job {job.name} has no checkpoint at step {step}.")
    local = Path(ref.location)
    if "://" not in ref.location and await asyncio.to_thread(local.is_file):
        partial = dest.with_name(dest.name + ".part")
        await asyncio.to_thread(shutil.copyfile, local, partial)
        os.replace(partial, dest)
        return dest
    renderer_factory = getattr(backend, "sample_renderer", None)
    if renderer_factory is None:
        raise JobError(f"{job.backend} cannot fetch the checkpoint of step {step} again.")
    renderer = renderer_factory()
    names = dict(renderer.checkpoints(job.backend_state or {}))
    name = names.get(step)
    if name is None:
        raise JobError(f"The server-side file of the checkpoint at step {step} is not on record.")
    return Path(await renderer.client.download_output(name, "loras", dest))


async def promote_checkpoint(backend: Any, job: Job, step: int) -> Path:
    """Make the checkpoint of `step` the job's final file; returns where the old one was kept."""
    target = final_file(job)
    incoming = target.with_name(f"{target.stem}.promote-{step}.safetensors")
    kept = target.with_name(f"{target.stem}_step{job.progress.step or 'final'}.safetensors")
    try:
        await fetch_checkpoint(backend, job, step, incoming)
        await asyncio.to_thread(check_safetensors_file, incoming)
        config = config_from_dict(job.config)
        stamped = job.model_copy(deep=True)
        stamped.progress.step = step  # the metadata must tell the steps this file really had
        await asyncio.to_thread(stamp_metadata, incoming, stamped, config, None)
        if target.exists() and not kept.exists():
            os.replace(target, kept)
        os.replace(incoming, target)
    except OSError as exc:
        raise JobError(
            f"Could not put the checkpoint of step {step} in place of {target}: "
            f"{exc.strerror or exc}. Check that the folder is writable."
        ) from exc
    except LoraStudioError:
        raise
    finally:
        incoming.unlink(missing_ok=True)
    return kept
