"""Helpers for backend tests: fast timings, a stand-in job, configs, datasets, `run()`.

Tests are plain functions that drive coroutines with `run()` (asyncio.run + a timeout); the fake
server lives in its own thread, so nothing here needs pytest-asyncio.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image

from lora_studio.core.backends.base import DatasetSummary, SaveState
from lora_studio.core.backends.comfyui import ComfyUIBackend, ComfyUIOptions, FollowTimings
from lora_studio.core.backends.http import RetryPolicy, Timeouts
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.jobs.events import JobEvent
from lora_studio.core.jobs.status import JobStatus
from lora_studio.core.training.runner import typed_config
from tests.fakes.fake_comfyui import FakeComfyUI

T = TypeVar("T")

FAST = ComfyUIOptions(
    chunked=False,
    chunk_steps=10,
    ws_connect_timeout=3.0,
    ws_backoff=(0.05, 0.2),
    timings=FollowTimings(
        poll_interval=0.1,
        resync_interval=1.0,
        lost_grace=0.4,
        unreachable_timeout=1.5,
        terminal_confirm=0.5,
    ),
    timeouts=Timeouts(connect=1.0, read=5.0, download_read=10.0),
    retry=RetryPolicy(attempts=3, base_delay=0.02, max_delay=0.1),
)


@dataclass
class StandInJob:
    """The JobLike fields a backend touches (the real Job lives in core.jobs)."""

    id: str
    config: dict[str, Any]
    name: str = "test job"
    backend_job_id: str | None = None
    status: JobStatus = JobStatus.QUEUED
    backend_state: dict[str, Any] = field(default_factory=dict)


def keep_state(job: Any) -> SaveState:
    """A `save_state` callback that keeps the state on the job object (no job store here)."""

    async def save(state: Mapping[str, Any], backend_job_id: str | None) -> None:
        job.backend_state = dict(state)
        if backend_job_id is not None:
            job.backend_job_id = backend_job_id

    return save


def config(**overrides: Any) -> dict[str, Any]:
    """A job's config snapshot (a validated TrainingConfig dumped to JSON), small enough to
    train in a blink on the fake."""
    values: dict[str, Any] = {
        "base_model_family": "sd15",
        "base_model": "random_sd15.safetensors",
        "rank": 8,
        "learning_rate": 5e-4,
        "max_steps": 12,
        "repeats": 1,
        "resolution": 256,
        "bucketing": False,
        "optimizer": "AdamW",
        "seed": 42,
        "trigger_word": "ohwx",
    }
    values.update(overrides)
    return TrainingConfig(**values).model_dump(mode="json")


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def collect(backend: ComfyUIBackend, job: StandInJob) -> list[JobEvent]:
    """All events until the stream ends, applying status changes to the job like the store."""
    events: list[JobEvent] = []
    async for event in backend.events(job, typed_config(job)):
        events.append(event)
        status = getattr(event, "status", None)
        if status is not None:
            job.status = status
    return events


def make_dataset(
    folder: Path,
    count: int = 4,
    sizes: list[tuple[int, int]] | None = None,
    captions: list[str] | None = None,
) -> DatasetSummary:
    folder.mkdir(parents=True, exist_ok=True)
    pairs = []
    for i in range(count):
        size = sizes[i] if sizes else (96 + 16 * i, 80)
        path = folder / f"photo {i}.png"
        Image.new("RGB", size, (40 * i % 255, 120, 200)).save(path)
        caption = captions[i] if captions else f"ohwx person, photo {i}"
        pairs.append((path, caption))
    return DatasetSummary.from_pairs(folder, pairs)


def backend_for(fake: FakeComfyUI, options: ComfyUIOptions = FAST, **kwargs: Any) -> ComfyUIBackend:
    return ComfyUIBackend(fake.url, options=options, **kwargs)


def call(backend: ComfyUIBackend, method: str, *args: Any) -> Any:
    """Run one backend coroutine and close the backend on the same event loop."""

    async def go() -> Any:
        try:
            return await getattr(backend, method)(*args)
        finally:
            await backend.aclose()

    return run(go())
