"""Core: the Job record — one training run on one backend, from submission to its outputs.

A `Job` is plain pydantic data, so it exports to JSON as is and crosses threads safely. It keeps a
*snapshot* of the training configuration (a JSON dict), never a live `TrainingConfig`, so a job
recorded today stays readable after the config model changes. Status changes go through
`Job.transition()`, which enforces the lifecycle in `status.py` and records when each move happened.

Secrets never enter a job: keys that name credentials are stripped from `backend_state` (on
validation and again on every dump), and free text (errors, status messages) is redacted.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_serializer,
    field_validator,
)

from lora_studio.core.jobs.ids import SAFE_ID_PATTERN, new_job_id
from lora_studio.core.jobs.status import JobStatus, check_transition
from lora_studio.core.redact import is_secret_name, redact

# Key names that hold credentials (`token`, `hf_token`, `replicate_api_key`, `Authorization`
# inside a headers dict, … but not `class_tokens`) are dropped: `core.redact.is_secret_name`, the
# app's one definition of what a secret is called.


def utc_now() -> datetime:
    return datetime.now(UTC)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""An aware datetime normalised to UTC; naive datetimes are rejected (their zone is a guess)."""


def is_secret_key(key: str) -> bool:
    return is_secret_name(key)


def strip_secrets(value: Any) -> Any:
    """Return `value` with every mapping entry whose key names a credential removed (recursively)."""
    if isinstance(value, dict):
        return {
            key: strip_secrets(item)
            for key, item in value.items()
            if not (isinstance(key, str) and is_secret_key(key))
        }
    if isinstance(value, list | tuple):
        return [strip_secrets(item) for item in value]
    return value


def _require_json(value: Any, what: str) -> Any:
    # Catch a non-JSON value (a Path, a model, a set) when it is assigned, not when the store
    # tries to write it in the middle of a training run.
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what} must be plain JSON data (dicts, lists, text, numbers): {exc}"
        ) from exc
    return value


class JobProgress(BaseModel):
    """Where the run is: `step` of `total` (total None while the backend has not said)."""

    model_config = ConfigDict(validate_assignment=True)

    step: int = Field(default=0, ge=0)
    total: int | None = Field(default=None, ge=0)

    @property
    def percent(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(100.0, 100.0 * self.step / self.total))


class StatusTransition(BaseModel):
    """One move in a job's life; `from_status` is None for the entry that records its creation."""

    model_config = ConfigDict(frozen=True)

    from_status: JobStatus | None
    to_status: JobStatus
    at: UtcDatetime
    message: str = ""

    @field_validator("message")
    @classmethod
    def _redact_message(cls, value: str) -> str:
        return redact(value)


class CheckpointRef(BaseModel):
    """An intermediate weights file a backend reported (local path or URL)."""

    location: str
    step: int | None = None
    epoch: int | None = None
    at: UtcDatetime


class SampleRef(BaseModel):
    """A sample image rendered after a checkpoint (`with_lora` False: the no-LoRA reference)."""

    step: int
    prompt: str
    path: str
    with_lora: bool = True
    at: UtcDatetime


class Job(BaseModel):
    """One training run. Create with the required fields; the store fills `history` on reads."""

    # extra="ignore": a record written by a newer LoRA Studio still loads in an older one.
    model_config = ConfigDict(validate_assignment=True, extra="ignore")

    id: str = Field(default_factory=new_job_id, pattern=SAFE_ID_PATTERN.pattern)
    name: str = Field(min_length=1, max_length=200)
    backend: str = Field(min_length=1, max_length=64)
    backend_job_id: str | None = None
    dataset_path: str
    dataset_fingerprint: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    preset: str | None = None
    status: JobStatus = JobStatus.QUEUED
    created_at: UtcDatetime = Field(default_factory=utc_now)
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    progress: JobProgress = Field(default_factory=JobProgress)
    outputs: list[str] = Field(default_factory=list)
    checkpoints: list[CheckpointRef] = Field(default_factory=list)
    samples: list[SampleRef] = Field(default_factory=list)
    error: str | None = None
    cost: float | None = Field(default=None, ge=0)
    backend_state: dict[str, Any] = Field(default_factory=dict)
    # Bumped by the store on every write; `JobStore.update` refuses a stale copy.
    revision: int = Field(default=0, ge=0)
    # Filled from the status-history table on reads; not part of the stored record itself.
    history: list[StatusTransition] = Field(default_factory=list)

    _unsaved_transitions: list[StatusTransition] = PrivateAttr(default_factory=list)

    @field_validator("dataset_path", mode="before")
    @classmethod
    def _path_to_text(cls, value: Any) -> Any:
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @field_validator("config", mode="before")
    @classmethod
    def _snapshot_config(cls, value: Any) -> Any:
        # Accept a pydantic model (e.g. TrainingConfig) without importing its class: core/jobs
        # must stay independent of core/config.
        dump = getattr(value, "model_dump", None)
        if callable(dump):
            value = dump(mode="json")
        return _require_json(value, "A job's config")

    @field_validator("backend_state", mode="before")
    @classmethod
    def _clean_backend_state(cls, value: Any) -> Any:
        return _require_json(strip_secrets(value), "A job's backend_state")

    @field_validator("error")
    @classmethod
    def _redact_error(cls, value: str | None) -> str | None:
        return None if value is None else redact(value)

    @field_validator("cost")
    @classmethod
    def _finite_cost(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("cost must be a finite number of US dollars")
        return value

    @field_serializer("backend_state")
    def _dump_backend_state(self, value: dict[str, Any]) -> dict[str, Any]:
        # Again at dump time: a backend may have put a token into the dict in place, which no
        # validator sees.
        cleaned: dict[str, Any] = strip_secrets(value)
        return cleaned

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def is_finished(self) -> bool:
        return self.status.is_terminal

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to finish (or to now while running); None before it started."""
        if self.started_at is None:
            return None
        end = self.finished_at or utc_now()
        return max(0.0, (end - self.started_at).total_seconds())

    def transition(
        self, new_status: JobStatus, message: str = "", at: datetime | None = None
    ) -> StatusTransition:
        """Move to `new_status` (JobError if illegal) and record when and why.

        Sets `started_at` on the first move to running and `finished_at` on a terminal move.
        """
        new_status = JobStatus(new_status)
        check_transition(self.status, new_status, self.id)
        record = StatusTransition(
            from_status=self.status, to_status=new_status, at=at or utc_now(), message=message
        )
        self.status = new_status
        if new_status is JobStatus.RUNNING and self.started_at is None:
            self.started_at = record.at
        if new_status.is_terminal and self.finished_at is None:
            self.finished_at = record.at
        self.history.append(record)
        self._unsaved_transitions.append(record)
        return record

    def record_creation(self) -> None:
        """Add the "created" entry (no previous status) to the history unless it is there."""
        if any(item.from_status is None for item in self.history):
            return
        first = self.history[0].from_status if self.history else self.status
        created = StatusTransition(
            from_status=None, to_status=first or self.status, at=self.created_at, message="created"
        )
        self.history.insert(0, created)
        self._unsaved_transitions.insert(0, created)

    def adopt_status(self, previous: JobStatus) -> None:
        """`status` was assigned directly, not via transition(): check the move from `previous`
        (JobError if illegal) and record it like a transition."""
        if previous is self.status:
            return
        check_transition(previous, self.status, self.id)
        record = StatusTransition(from_status=previous, to_status=self.status, at=utc_now())
        self.history.append(record)
        self._unsaved_transitions.append(record)

    @property
    def unsaved_transitions(self) -> tuple[StatusTransition, ...]:
        """Transitions made since this copy was last saved (the store writes them to history)."""
        return tuple(self._unsaved_transitions)

    def mark_saved(self, revision: int) -> None:
        """Called by the store after a successful write: history is stored, revision is current."""
        self._unsaved_transitions.clear()
        self.revision = revision

    def record_json(self) -> str:
        """The stored form: everything but the history, which lives in its own table."""
        return self.model_dump_json(exclude={"history"})
