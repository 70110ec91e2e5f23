"""Core: a job's status and the transitions allowed between statuses.

Queued → Running → Completed | Failed | Cancelled, plus Lost (the backend no longer knows the job).
Queued may also go straight to Failed/Cancelled/Lost (refused or removed before it started).
Failed → Completed is the one move out of an end state: a training that finished on the backend
but whose LoRA could not be downloaded completes when `jobs download` fetches it (the runner
allows it only then; a late "finished" report from a backend never does it, see `apply`).
"""

from __future__ import annotations

from enum import StrEnum

from lora_studio.core.errors import JobError


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    LOST = "lost"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.LOST}
)

ALLOWED_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset(
        {JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.LOST}
    ),
    JobStatus.RUNNING: frozenset(
        {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.LOST}
    ),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset({JobStatus.COMPLETED}),
    JobStatus.CANCELLED: frozenset(),
    JobStatus.LOST: frozenset(),
}


def check_transition(current: JobStatus, new: JobStatus, job_id: str = "") -> None:
    """Raise JobError when `current → new` is not a legal move."""
    if new not in ALLOWED_TRANSITIONS[current]:
        label = f"Job {job_id}" if job_id else "The job"
        raise JobError(
            f"{label} cannot go from {current.value} to {new.value}; its record was left unchanged."
        )
