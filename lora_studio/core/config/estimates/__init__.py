"""Core: estimates before a training is submitted — VRAM, duration and cost, each with a range.

Import from here: `estimate_vram`, `vram_verdict`, `estimate_duration`, `estimate_cost`,
`estimate_training` (all of them at once) and the `Estimate` value they return.
"""

from lora_studio.core.config.estimates.cost import (
    REPLICATE_PRICES_PER_SECOND,
    estimate_backend_cost,
    estimate_cost,
)
from lora_studio.core.config.estimates.duration import (
    GpuClass,
    estimate_duration,
    gpu_class_for_vram,
    table_seconds_per_step,
)
from lora_studio.core.config.estimates.estimate import Estimate, format_duration, format_estimate
from lora_studio.core.config.estimates.report import TrainingEstimate, estimate_training
from lora_studio.core.config.estimates.vram import (
    VramVerdict,
    estimate_vram,
    vram_breakdown,
    vram_verdict,
)

__all__ = [
    "REPLICATE_PRICES_PER_SECOND",
    "Estimate",
    "GpuClass",
    "TrainingEstimate",
    "VramVerdict",
    "estimate_backend_cost",
    "estimate_cost",
    "estimate_duration",
    "estimate_training",
    "estimate_vram",
    "format_duration",
    "format_estimate",
    "gpu_class_for_vram",
    "table_seconds_per_step",
    "vram_breakdown",
    "vram_verdict",
]
