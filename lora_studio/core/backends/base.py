"""Core: the `TrainingBackend` protocol every training engine implements, and its plain data.

One interface for ComfyUI (native trainer over HTTP + websocket), Replicate (cloud trainings over
HTTPS polling) and kohya sd-scripts (a local subprocess). Everything here is pure data or a
`typing.Protocol`; no engine code.

Contract shared by all backends:
- `validate()` returns `core.config.issues.Issue`s (re-exported here), the type the config
  validation, the wizard and the CLI already show, so engine problems read the same way.
- `check()` never raises for an expected problem: it answers "available or not, and why" in one
  sentence the artist can act on.
- `submit()` may mutate `job.backend_state` (a plain JSON-able dict) with whatever it needs to
  re-attach later (prompt ids, client id, chunk index — never secrets). `events()` may keep
  updating it (e.g. one prompt per chunk), so the caller persists the job after `submit()` and
  after every event it receives.
- `events(job)` works for a job submitted by this process *or* an earlier one (re-attach). It ends
  after exactly one terminal event: `Finished`, `Failed`, or `StatusChanged` to CANCELLED / LOST.
  It raises `BackendUnavailable` when the server stays unreachable — the job is then neither
  failed nor lost, just not observable right now.
- `cancel(job)` is idempotent and says honestly what it could and could not stop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from lora_studio.core.config.issues import Issue
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.jobs.events import JobEvent
from lora_studio.core.jobs.status import JobStatus


@dataclass(frozen=True)
class BackendCheck:
    """The answer to "can I train there right now?".

    `diagnosis` is one sentence for the artist (why not, or what was found); `warnings` are
    problems that do not block training (e.g. no GPU: it works, but slowly).
    """

    available: bool
    diagnosis: str
    warnings: tuple[str, ...] = ()
    gpu_name: str | None = None
    vram_gb: float | None = None
    version: str | None = None
    checkpoints: tuple[str, ...] = ()
    facts: Mapping[str, str] = field(default_factory=dict)


class CancelOutcome(StrEnum):
    STOPPED = "stopped"  # nothing of the job runs any more
    STOPPING = "stopping"  # it will stop by itself later (e.g. after the running chunk)
    ALREADY_FINISHED = "already_finished"  # there was nothing left to stop
    UNCONFIRMED = "unconfirmed"  # the server could not be reached; it may still run


@dataclass(frozen=True)
class CancelResult:
    outcome: CancelOutcome
    message: str


@dataclass(frozen=True)
class DatasetItem:
    image: Path
    caption: str


@dataclass(frozen=True)
class DatasetSummary:
    """What a backend needs to know about a dataset: the folder and its (image, caption) pairs.

    The dataset scanner's richer records are adapted into this with `from_pairs`.
    """

    folder: Path
    items: tuple[DatasetItem, ...]

    @classmethod
    def from_pairs(cls, folder: Path, pairs: Sequence[tuple[Path, str]]) -> DatasetSummary:
        return cls(Path(folder), tuple(DatasetItem(Path(p), c) for p, c in pairs))

    @property
    def image_count(self) -> int:
        return len(self.items)


class JobLike(Protocol):
    """The part of `core.jobs.Job` a backend reads and writes (structural, so no import cycle)."""

    id: str
    name: str
    backend_job_id: str | None
    config: dict[str, Any]
    status: JobStatus
    backend_state: dict[str, Any]


__all__ = [
    "BackendCheck",
    "CancelOutcome",
    "CancelResult",
    "DatasetItem",
    "DatasetSummary",
    "Issue",
    "JobLike",
    "TrainingBackend",
]


@runtime_checkable
class TrainingBackend(Protocol):
    """An engine that trains LoRAs. All I/O methods are coroutines; see the module docstring."""

    kind: str

    async def check(self) -> BackendCheck: ...

    async def validate(self, config: TrainingConfig, dataset: DatasetSummary) -> list[Issue]:
        """Errors and warnings specific to this engine."""
        ...

    def estimate_cost(self, config: TrainingConfig) -> float | None:
        """Money in USD the job will cost, or None when the engine is the artist's own machine."""
        ...

    async def submit(self, job: JobLike, dataset: DatasetSummary) -> str: ...

    def events(self, job: JobLike) -> AsyncIterator[JobEvent]: ...

    async def cancel(self, job: JobLike) -> CancelResult: ...

    async def download(self, job: JobLike, dest_dir: Path) -> list[Path]: ...

    async def logs(self, job: JobLike) -> list[str]: ...

    async def aclose(self) -> None: ...
