"""Core: the `TrainingBackend` protocol every training engine implements, and its plain data.

One interface for ComfyUI (native trainer over HTTP + websocket), Replicate (cloud trainings over
HTTPS polling) and kohya sd-scripts (a local subprocess). Everything here is pure data or a
`typing.Protocol`; no engine code.

Contract shared by all backends:
- `validate()` returns `core.config.issues.Issue`s (re-exported here), the type the config
  validation, the wizard and the CLI already show, so engine problems read the same way.
- `check()` never raises for an expected problem: it answers "available or not, and why" in one
  sentence the artist can act on.
- State first, then work: whatever a backend needs to find its work again (prompt ids, a
  training id, a process id, folders — never secrets) is a plain JSON-able dict it reports
  through `save_state(state, backend_job_id)` *before* the request that creates the work. The
  runner writes it to the job store durably and updates `job.backend_state`/`backend_job_id`,
  then returns; only then does the backend send. A process killed between the request and its
  reply therefore leaves a record `jobs attach` can resolve. `submit()` reports only this way
  (it returns nothing); `events()` gets the same callback for work it creates later (the next
  chunk) and may also update `job.backend_state` in place for bookkeeping that creates no work
  (the runner persists that after every event).
- Backends receive the typed `TrainingConfig` (`submit`, `events`, `effective_settings`,
  `download` take it beside the job); the job record's JSON snapshot (`Job.config`) is storage
  only, validated back once by the runner, so a backend never reads a dict of settings.
- `effective_settings(job, config)` says what the engine really ran (alpha in the tensors, precision,
  optimizer, the seed it sent, bucketing) so the metadata stamped into the LoRA tells the truth.
- `events(job, config)` works for a job submitted by this process *or* an earlier one (re-attach). It ends
  after exactly one terminal event: `Finished`, `Failed`, or `StatusChanged` to CANCELLED / LOST.
  It raises `BackendUnavailableError` when the server stays unreachable — the job is then neither
  failed nor lost, just not observable right now.
- `cancel(job)` is idempotent and says honestly what it could and could not stop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
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
class DatasetFolder:
    """One folder of the dataset and how often an epoch shows each of its images."""

    name: str  # as kohya names it in `ss_dataset_dirs` ("10_lstok", or the dataset's name)
    path: Path
    repeats: int | None  # None: the config's `repeats` (a flat folder)
    items: tuple[DatasetItem, ...]

    def repeats_for(self, config_repeats: int) -> int:
        return self.repeats if self.repeats is not None else config_repeats


@dataclass(frozen=True)
class DatasetSummary:
    """What a backend needs to know about a dataset: its folders, their repeats and their
    (image, caption) pairs. `items` is every pair, all folders together.

    The dataset scanner's richer records are adapted into this by
    `core.training.dataset_input`; `from_pairs` makes a one-folder summary (the config's
    repeats).
    """

    folder: Path
    items: tuple[DatasetItem, ...]
    folders: tuple[DatasetFolder, ...] = ()

    def __post_init__(self) -> None:
        if not self.folders:
            one = DatasetFolder(Path(self.folder).name, Path(self.folder), None, self.items)
            object.__setattr__(self, "folders", (one,))

    @classmethod
    def from_pairs(cls, folder: Path, pairs: Sequence[tuple[Path, str]]) -> DatasetSummary:
        return cls(Path(folder), tuple(DatasetItem(Path(p), c) for p, c in pairs))

    @classmethod
    def from_folders(cls, root: Path, folders: Sequence[DatasetFolder]) -> DatasetSummary:
        items = tuple(item for folder in folders for item in folder.items)
        return cls(Path(root), items, tuple(folders))

    @property
    def image_count(self) -> int:
        return len(self.items)

    def samples_per_epoch(self, config_repeats: int) -> int:
        """Images × repeats: what one epoch shows."""
        return sum(len(f.items) * f.repeats_for(config_repeats) for f in self.folders)


@dataclass(frozen=True)
class EffectiveSettings:
    """What the engine really trained with; None = not known, the config's value stands.

    The metadata builder prefers these over the config (a ComfyUI LoRA has alpha 1.0 in its
    tensors whatever the config asked; it trains in bf16 with AdamW and centre-crops).
    """

    alpha: float | None = None
    mixed_precision: str | None = None
    optimizer: str | None = None
    seed: int | None = None
    enable_bucket: bool | None = None
    resolution: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)  # more ss_* keys, verbatim


SaveState = Callable[[Mapping[str, Any], str | None], Awaitable[None]]
"""`await save_state(state, backend_job_id)`: stored durably before it returns (see above)."""


class JobLike(Protocol):
    """The part of `core.jobs.Job` a backend reads and writes (structural, so no import cycle)."""

    id: str
    name: str
    backend_job_id: str | None
    status: JobStatus
    backend_state: dict[str, Any]


__all__ = [
    "BackendCheck",
    "CancelOutcome",
    "CancelResult",
    "DatasetFolder",
    "DatasetItem",
    "DatasetSummary",
    "EffectiveSettings",
    "Issue",
    "JobLike",
    "SaveState",
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

    def estimate_cost(self, config: TrainingConfig, dataset: DatasetSummary) -> float | None:
        """Money in USD the job will cost, or None when the engine is the artist's own machine."""
        ...

    async def submit(
        self,
        job: JobLike,
        config: TrainingConfig,
        dataset: DatasetSummary,
        save_state: SaveState,
    ) -> None:
        """Upload and start the job; its re-attach state goes through `save_state` first."""
        ...

    def events(
        self, job: JobLike, config: TrainingConfig, save_state: SaveState | None = None
    ) -> AsyncIterator[JobEvent]: ...

    def effective_settings(self, job: JobLike, config: TrainingConfig) -> EffectiveSettings:
        """What the engine really ran for `job` (see `EffectiveSettings`)."""
        ...

    async def cancel(self, job: JobLike) -> CancelResult: ...

    async def download(
        self, job: JobLike, config: TrainingConfig, dest_dir: Path
    ) -> list[Path]: ...

    async def logs(self, job: JobLike) -> list[str]: ...

    async def aclose(self) -> None: ...
