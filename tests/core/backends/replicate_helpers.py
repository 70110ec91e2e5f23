"""Helpers for the Replicate backend tests: fast timings, a stand-in job with a recording
`save_state`, a Flux dataset, a backend bound to a fake server, and `run()`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image

from lora_studio.core.backends.base import DatasetSummary
from lora_studio.core.backends.http import RetryPolicy, Timeouts
from lora_studio.core.backends.replicate.backend import ReplicateBackend, ReplicateOptions
from lora_studio.core.backends.replicate.follow import PollTimings
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.jobs.events import JobEvent
from lora_studio.core.jobs.status import JobStatus
from lora_studio.core.training.runner import typed_config
from tests.fakes.fake_replicate import FakeReplicate

T = TypeVar("T")

FAST = ReplicateOptions(
    timings=PollTimings(
        interval=0.05, queued_interval=0.1, max_backoff=0.2, unreachable_timeout=3.0
    ),
    timeouts=Timeouts(connect=1.0, read=5.0, download_read=10.0),
    retry=RetryPolicy(attempts=3, base_delay=0.02, max_delay=0.1, max_retry_after=1.5),
    reconcile_delays=(0.05, 0.1),
)


@dataclass
class StandInJob:
    """The JobLike fields a backend touches; `saved` records every `save_state` call."""

    id: str
    config: dict[str, Any]
    name: str = "test job"
    backend_job_id: str | None = None
    status: JobStatus = JobStatus.QUEUED
    backend_state: dict[str, Any] = field(default_factory=dict)
    saved: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)

    async def save_state(self, state: Mapping[str, Any], backend_job_id: str | None) -> None:
        self.saved.append((dict(state), backend_job_id))
        self.backend_state = dict(state)
        if backend_job_id is not None:
            self.backend_job_id = backend_job_id


def flux_config(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "base_model_family": "flux_dev",
        "base_model": "black-forest-labs/FLUX.1-dev",
        "rank": 16,
        "alpha": 16,
        "learning_rate": 4e-4,
        "max_steps": 120,
        "resolution": 1024,
        "min_bucket_reso": 512,
        "max_bucket_reso": 1024,
        "mixed_precision": "bf16",
        "lr_scheduler": "constant",
        "optimizer": "AdamW8bit",
        "trigger_word": "ohwx",
        "output_name": "hero",
    }
    values.update(overrides)
    return TrainingConfig(**values).model_dump(mode="json")


def make_dataset(folder: Path, count: int = 4, size: tuple[int, int] = (96, 80)) -> DatasetSummary:
    folder.mkdir(parents=True, exist_ok=True)
    pairs = []
    for i in range(count):
        image = folder / f"photo {i}.png"
        Image.new("RGB", (size[0] + 8 * i, size[1]), (30 * i, 120, 200)).save(image)
        pairs.append((image, f"ohwx, portrait, colour {i}"))
    return DatasetSummary.from_pairs(folder, pairs)


def make_backend(
    fake: FakeReplicate,
    *,
    destination: str = "alice/hero-lora",
    token: str | None = None,
    options: ReplicateOptions = FAST,
    **kwargs: Any,
) -> ReplicateBackend:
    value = fake.token if token is None else token
    headers = {"Authorization": f"Bearer {value}"} if value else {}
    return ReplicateBackend(
        fake.url, headers=headers, destination=destination, options=options, **kwargs
    )


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def with_backend(
    backend: ReplicateBackend, scenario: Callable[[ReplicateBackend], Awaitable[T]]
) -> T:
    """Run `scenario(backend)` and close the backend (one event loop for both)."""
    try:
        return await scenario(backend)
    finally:
        await backend.aclose()


async def collect(backend: ReplicateBackend, job: StandInJob) -> list[JobEvent]:
    events: list[JobEvent] = []
    async for event in backend.events(job, typed_config(job), job.save_state):
        events.append(event)
    return events
