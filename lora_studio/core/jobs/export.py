"""Core: a job as one self-contained JSON document (for sharing, bug reports, "train again").

The export holds the job record (config snapshot included; secrets were never stored), summary
metrics, the status history and the loss series. Log lines are left out: they can be large and
are the likeliest place for personal paths; the log view has its own copy button.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lora_studio import __version__
from lora_studio.core.jobs.job import Job, StatusTransition, utc_now
from lora_studio.core.jobs.records import LossPoint

EXPORT_FORMAT = "lora-studio-job"
EXPORT_VERSION = 1
_TAIL = 50  # loss points averaged for "final mean loss": one point is too noisy to compare runs


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def job_metrics(job: Job, loss: Sequence[LossPoint]) -> dict[str, Any]:
    """Summary numbers for a job: duration, speed, loss at the end and at its lowest, cost."""
    finite = [point for point in loss if math.isfinite(point.value)]
    duration = job.duration_seconds
    steps = job.progress.step
    best = min(finite, key=lambda point: point.value) if finite else None
    return {
        "steps_done": steps,
        "steps_total": job.progress.total,
        "duration_seconds": duration,
        "seconds_per_step": duration / steps if duration and steps else None,
        "loss_points": len(loss),
        "final_loss": finite[-1].value if finite else None,
        "final_mean_loss": statistics.fmean(p.value for p in finite[-_TAIL:]) if finite else None,
        "min_loss": best.value if best else None,
        "min_loss_step": best.step if best else None,
        "non_finite_loss_points": len(loss) - len(finite),
        "outputs": len(job.outputs),
        "checkpoints": len(job.checkpoints),
        "cost_usd": job.cost,
    }


def build_export(
    job: Job, history: Sequence[StatusTransition], loss: Sequence[LossPoint]
) -> dict[str, Any]:
    """The export document as plain JSON data."""
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_VERSION,
        "exported_at": _iso(utc_now()),
        "app_version": __version__,
        "job": job.model_dump(mode="json", exclude={"history"}),
        "metrics": job_metrics(job, loss),
        "status_history": [item.model_dump(mode="json") for item in history],
        "loss": [
            # NaN is not JSON: a diverged step is exported as null.
            {"step": p.step, "value": p.value if math.isfinite(p.value) else None, "at": _iso(p.at)}
            for p in loss
        ],
    }


def export_json(
    job: Job, history: Sequence[StatusTransition], loss: Sequence[LossPoint], indent: int = 2
) -> str:
    return json.dumps(build_export(job, history, loss), indent=indent, allow_nan=False)
