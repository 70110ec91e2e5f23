"""Core: the plain rows a job accumulates besides its record — loss points, log lines, speeds.

Frozen dataclasses: cheap to make fifty times a second and safe to hand across threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LossPoint:
    step: int
    value: float  # NaN when the backend reported a non-number (a diverged run)
    at: datetime


@dataclass(frozen=True)
class LogLine:
    at: datetime
    stream: str  # "stdout", "stderr", "server", "log", or "lorastudio" for our own notes
    text: str


@dataclass(frozen=True)
class SpeedSample:
    """A measured training speed, used to refine duration estimates for similar runs."""

    job_id: str | None
    backend: str
    family: str  # model family, e.g. "sdxl", "flux"
    resolution: int
    batch: int
    seconds_per_step: float
    at: datetime
