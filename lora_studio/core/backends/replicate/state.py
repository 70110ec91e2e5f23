"""Core/Replicate: the re-attach record of one job, kept in `job.backend_state` (no secrets).

Phases: `uploading` (nothing exists on Replicate yet but maybe a file), `creating` (the create
request is about to go out or went out without an answer — the training may exist), `created`
(its id is known). The uploaded file's URL is unique to the job and is sent as `input_images`,
so it is also the marker that finds the training again in the account's list after a lost reply
or a crash between the request and its answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from lora_studio.core.errors import JobError


@dataclass
class ReplicateJobState:
    server: str  # API base URL (with /v1), no credentials
    trainer: str  # owner/name
    destination: str  # owner/name
    steps: int
    sku: str  # hardware the price is taken from
    phase: str = "uploading"
    version: str = ""
    file_id: str = ""
    file_url: str = ""  # the marker: `input_images` of our training
    create_sent_at: str = ""  # ISO time the create request went out
    training_id: str = ""
    status: str = ""  # Replicate's last status
    weights_url: str = ""
    output_version: str = ""
    billed_seconds: float | None = None
    cost_usd: float | None = None
    error: str = ""
    cancel_requested: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_job_state(cls, raw: Mapping[str, Any], job_id: str) -> ReplicateJobState:
        if not isinstance(raw, Mapping) or not raw.get("trainer"):
            raise JobError(f"Job {job_id} was never sent to Replicate; there is nothing to follow.")
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in raw.items() if k in known})
        except TypeError as exc:
            raise JobError(f"The Replicate record of job {job_id} is incomplete ({exc}).") from exc
