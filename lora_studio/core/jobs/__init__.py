"""Core: jobs (pure Python, no Qt) — the Job record, its lifecycle, typed backend events, the
SQLite job store, dataset fingerprints and live progress/ETA bookkeeping.

Import the public names from here; the submodules are free to move things around.
"""

from lora_studio.core.jobs.events import (
    Checkpoint,
    Failed,
    Finished,
    JobEvent,
    Log,
    Loss,
    Progress,
    Sample,
    StatusChanged,
)
from lora_studio.core.jobs.fingerprint import dataset_fingerprint
from lora_studio.core.jobs.ids import is_safe_job_id, new_job_id
from lora_studio.core.jobs.job import (
    CheckpointRef,
    Job,
    JobProgress,
    SampleRef,
    StatusTransition,
    strip_secrets,
)
from lora_studio.core.jobs.progress import ProgressSnapshot, ProgressTracker, format_clock
from lora_studio.core.jobs.records import LogLine, LossPoint, SpeedSample
from lora_studio.core.jobs.status import TERMINAL_STATUSES, JobStatus, check_transition
from lora_studio.core.jobs.store import JobStore

__all__ = [
    "TERMINAL_STATUSES",
    "Checkpoint",
    "CheckpointRef",
    "Failed",
    "Finished",
    "Job",
    "JobEvent",
    "JobProgress",
    "JobStatus",
    "JobStore",
    "Log",
    "LogLine",
    "Loss",
    "LossPoint",
    "Progress",
    "ProgressSnapshot",
    "ProgressTracker",
    "Sample",
    "SampleRef",
    "SpeedSample",
    "StatusChanged",
    "StatusTransition",
    "check_transition",
    "dataset_fingerprint",
    "format_clock",
    "is_safe_job_id",
    "new_job_id",
    "strip_secrets",
]
