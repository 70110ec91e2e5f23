"""Test helper: what an earlier LoRA Studio session did before it was closed — record a job and
submit it to a (fake) ComfyUI server, without following it. Re-attach, `jobs attach` and
`jobs cancel` tests start from there."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lora_studio import paths
from lora_studio.core.backends.registry import build_backend
from lora_studio.core.config.training_config import config_from_dict
from lora_studio.core.jobs import Job, JobStore
from lora_studio.core.training.dataset_input import load_training_dataset
from lora_studio.core.training.runner import JobRunner
from tests.core.backends.comfy_helpers import config


async def submit_async(
    url: str, folder: Path, store: JobStore, *, name: str = "earlier", **overrides: Any
) -> Job:
    snapshot = config(**overrides)
    dataset = load_training_dataset(folder, config_from_dict(snapshot))
    backend = build_backend({"kind": "comfyui", "url": url})
    try:
        job = Job(name=name, backend="comfyui", dataset_path=str(folder), config=snapshot)
        return await JobRunner(store, backend).submit(job, dataset)
    finally:
        await backend.aclose()


def submit_without_following(
    url: str, folder: Path, store: JobStore | None = None, **overrides: Any
) -> Job:
    """Submit one job to the server at `url`; `store` defaults to the app's own job store."""
    if store is not None:
        return asyncio.run(submit_async(url, folder, store, **overrides))
    with JobStore(paths.job_store_file()) as own:
        return asyncio.run(submit_async(url, folder, own, **overrides))
