"""Core: how long a training takes — steps × seconds per step, from a table or from history.

Seconds per step start from a reference time per image on an RTX 4090 at the family's native
resolution (batch 1, gradient checkpointing, 16-bit), then scale by:
- GPU class throughput relative to the 4090;
- pixel count (resolution² — activations and attention grow with it);
- batch^0.9 (a bigger batch uses the GPU a little better) and × gradient accumulation, because one
  step (optimizer update) runs `accumulation` batches;
- ×0.8 without gradient checkpointing (nothing is recomputed), ×2 without mixed precision,
  ×1.15 when the text encoder trains, ×1.05 for Prodigy/DAdaptation's extra bookkeeping.
A fixed set-up time (loading the model, caching latents) is added once. The table range is
−30 %/+50 %; when the artist has measured seconds per step from earlier runs with the same
settings, their median replaces the table and the range narrows to ±10 %.

Reference points: the diffusers SD 1.5 LoRA example (15 000 steps × accumulation 4 at 512 px,
batch 1) "takes ~5 hours on a 2080 Ti"; ≈1000 Flux steps take 20–30 min on Replicate's H100
(docs/protocols.md §3.8, community figure). Both sit inside the ranges (tests check them).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from enum import StrEnum

from lora_studio.core.config.estimates.estimate import Estimate, format_duration
from lora_studio.core.config.training_config import (
    ADAPTIVE_OPTIMIZERS,
    MixedPrecision,
    ModelFamily,
    TrainingConfig,
)
from lora_studio.core.config.validation import NATIVE_RESOLUTION
from lora_studio.core.plurals import plural

TABLE_LOW, TABLE_HIGH = 0.7, 1.5
MEASURED_SPREAD = 0.10


class GpuClass(StrEnum):
    CPU = "cpu"
    CONSUMER_8GB = "consumer_8gb"  # RTX 3060 Ti / 3070 / 4060
    CONSUMER_12GB = "consumer_12gb"  # RTX 2080 Ti / 3060 12 GB / 4070
    CONSUMER_16GB = "consumer_16gb"  # RTX 4060 Ti 16 GB / 4070 Ti Super / 4080
    RTX_3090 = "rtx_3090"
    RTX_4090 = "rtx_4090"
    L40S = "l40s"
    A100 = "a100"
    H100 = "h100"


# Training throughput relative to an RTX 4090 (bf16/fp16 tensor-core work).
SPEED: dict[GpuClass, float] = {
    GpuClass.CPU: 0.004,
    GpuClass.CONSUMER_8GB: 0.35,
    GpuClass.CONSUMER_12GB: 0.45,
    GpuClass.CONSUMER_16GB: 0.7,
    GpuClass.RTX_3090: 0.6,
    GpuClass.RTX_4090: 1.0,
    GpuClass.L40S: 0.95,
    GpuClass.A100: 1.3,
    GpuClass.H100: 2.2,
}

# Seconds per image on an RTX 4090 at native resolution, batch 1, checkpointing on, 16-bit.
SECONDS_PER_IMAGE: dict[ModelFamily, float] = {
    ModelFamily.SD15: 0.16,
    ModelFamily.SDXL: 0.85,
    ModelFamily.FLUX_DEV: 3.0,
}

# Loading the base model and caching latents / text-encoder outputs before step 1.
SETUP_SECONDS: dict[ModelFamily, float] = {
    ModelFamily.SD15: 60,
    ModelFamily.SDXL: 120,
    ModelFamily.FLUX_DEV: 300,
}


def gpu_class_for_vram(vram_gb: float | None) -> GpuClass:
    """A conservative guess of the GPU class from its memory (the slower card of each size)."""
    if vram_gb is None:
        return GpuClass.RTX_3090
    for limit, gpu in (
        (0, GpuClass.CPU),
        (8, GpuClass.CONSUMER_8GB),
        (12, GpuClass.CONSUMER_12GB),
        (16, GpuClass.CONSUMER_16GB),
        (24, GpuClass.RTX_3090),
        (48, GpuClass.L40S),
        (80, GpuClass.A100),
    ):
        if vram_gb <= limit:
            return gpu
    return GpuClass.H100


def table_seconds_per_step(config: TrainingConfig, gpu: GpuClass) -> float:
    """Seconds for one optimizer step of `config` on `gpu`, from the reference table."""
    family = config.base_model_family
    seconds = SECONDS_PER_IMAGE[family] / SPEED[gpu]
    seconds *= (config.resolution / NATIVE_RESOLUTION[family]) ** 2
    seconds *= config.batch_size**0.9 * config.gradient_accumulation
    if not config.gradient_checkpointing:
        seconds *= 0.8
    if config.mixed_precision == MixedPrecision.NO:
        seconds *= 2.0
    if config.train_text_encoder:
        seconds *= 1.15
    if config.optimizer in ADAPTIVE_OPTIMIZERS:
        seconds *= 1.05
    return seconds


def _usable(measured: Sequence[float] | None) -> list[float]:
    # Drop zeros, negatives and NaN (NaN fails every comparison) left by interrupted runs.
    return [value for value in measured or () if value > 0 and value < float("inf")]


def estimate_duration(
    config: TrainingConfig,
    total_steps: int,
    gpu: GpuClass | str,
    measured_seconds_per_step: Sequence[float] | None = None,
) -> Estimate:
    """Wall-clock seconds for `total_steps` steps of `config` on `gpu`, set-up included.

    `measured_seconds_per_step` (per optimizer step, from earlier runs with the same settings
    and GPU) replaces the table with its median and narrows the range to ±10 %.
    """
    if total_steps < 0:
        raise ValueError(f"total_steps cannot be negative, got {total_steps}")
    gpu = GpuClass(gpu)
    setup = SETUP_SECONDS[config.base_model_family]
    measured = _usable(measured_seconds_per_step)
    if measured:
        per_step = statistics.median(measured)
        low_factor, high_factor = 1 - MEASURED_SPREAD, 1 + MEASURED_SPREAD
        source = (
            f"{per_step:.2f} s per step: the median of {plural(len(measured), 'measured step time')} "
            "from earlier trainings."
        )
    else:
        per_step = table_seconds_per_step(config, gpu)
        low_factor, high_factor = TABLE_LOW, TABLE_HIGH
        source = (
            f"{per_step:.2f} s per step from the reference table for a {gpu.value} GPU "
            f"({config.base_model_family.value}, {config.resolution} px, batch {config.batch_size}"
            f" × accumulation {config.gradient_accumulation})."
        )
    training = per_step * total_steps
    assumptions = [
        f"{total_steps} steps.",
        source,
        f"Plus about {format_duration(setup)} to load the model and cache latents.",
        "Range −30 %/+50 % (table)." if not measured else "Range ±10 % (measured).",
    ]
    if gpu == GpuClass.CPU:
        assumptions.append("Training on the CPU is hundreds of times slower than on a GPU.")
    return Estimate(
        value=setup + training,
        low=setup + training * low_factor,
        high=setup + training * high_factor,
        unit="s",
        assumptions=assumptions,
    )
