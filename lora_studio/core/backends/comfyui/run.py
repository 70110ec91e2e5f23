"""Core/ComfyUI: what the backend keeps about one job while this process deals with it — one
object per job instead of parallel dicts: the live step tracker (while followed), whether cancel
was asked here, and the job's recent console lines."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from lora_studio.core.backends.comfyui.follow import StepTracker

MAX_LOG_LINES = 5000


@dataclass
class ComfyRun:
    job_id: str
    tracker: StepTracker | None = None  # set while a follower runs in this process
    cancel_requested: bool = False
    logs: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_LOG_LINES))


class RunTable:
    """The runs of one backend, created on first use."""

    def __init__(self) -> None:
        self._runs: dict[str, ComfyRun] = {}

    def __call__(self, job_id: str) -> ComfyRun:
        run = self._runs.get(job_id)
        if run is None:
            run = self._runs[job_id] = ComfyRun(job_id)
        return run

    def get(self, job_id: str) -> ComfyRun | None:
        return self._runs.get(job_id)
