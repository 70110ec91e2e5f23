"""Core/ComfyUI: translate a TrainingConfig into the native trainer's parameters.

Backends receive the typed `TrainingConfig` (the runner validates the job record's snapshot back
once), so a job re-attached after a restart rebuilds exactly the same parameters; `as_config`
still accepts a plain dict for callers outside the seam. The step count comes from `core.config.training_length`, the same arithmetic every
estimate in the app shows. What the native trainer cannot do (schedulers, 8-bit or adaptive
optimizers, fp16, text-encoder training, alpha ≠ 1) is mapped to its nearest option here and
reported by `validate.py`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lora_studio.core.backends.base import DatasetSummary
from lora_studio.core.config.training_config import (
    MixedPrecision,
    TrainingConfig,
    config_from_dict,
)
from lora_studio.core.config.training_length import DatasetShape, training_length

# The native trainer's optimizers, keyed by TrainingConfig spelling (lower case).
NATIVE_OPTIMIZERS = {"adamw": "AdamW", "adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}
# Close enough to substitute silently but for a warning.
SUBSTITUTES = {"adamw8bit": "AdamW", "pagedadamw8bit": "AdamW", "sgdnesterov": "SGD"}


def as_config(config: TrainingConfig | Mapping[str, Any]) -> TrainingConfig:
    """The config itself, or a job's snapshot validated back (InvalidConfigError if it no
    longer validates, e.g. written by another version)."""
    if isinstance(config, TrainingConfig):
        return config
    return config_from_dict(config, context="The job's training settings")


def native_optimizer(config: TrainingConfig) -> str:
    name = config.optimizer.value.lower()
    return NATIVE_OPTIMIZERS.get(name) or SUBSTITUTES.get(name) or "AdamW"


@dataclass(frozen=True)
class TrainParams:
    base_model: str
    total_steps: int
    steps_per_epoch: int
    rank: int
    learning_rate: float
    batch_size: int
    grad_accumulation: int
    optimizer: str
    training_dtype: str
    lora_dtype: str
    gradient_checkpointing: bool
    resolution: int
    bucketing: bool
    min_bucket_reso: int
    max_bucket_reso: int
    bucket_reso_steps: int
    seed: int
    save_every_n_epochs: int | None


def dataset_shape(dataset: DatasetSummary | int, config: TrainingConfig) -> DatasetShape:
    """Images × repeats per folder (a bare count uses the config's repeats)."""
    if isinstance(dataset, int):
        return DatasetShape.uniform(max(0, dataset), config.repeats)
    return DatasetShape.from_groups(
        [(len(f.items), f.repeats_for(config.repeats)) for f in dataset.folders if f.items]
    )


def train_params(
    config: TrainingConfig | Mapping[str, Any], dataset: DatasetSummary | int
) -> TrainParams:
    cfg = as_config(config)
    # ComfyUI trains on randomly drawn batches, so buckets do not change the step count here;
    # each folder's repeats do.
    length = training_length(cfg, dataset_shape(dataset, cfg))
    dtype = "fp32" if cfg.mixed_precision is MixedPrecision.NO else "bf16"  # no fp16 option
    return TrainParams(
        base_model=cfg.base_model,
        total_steps=max(1, length.total_steps),
        steps_per_epoch=max(1, length.steps_per_epoch),
        rank=cfg.rank,
        learning_rate=cfg.unet_lr or cfg.learning_rate,
        batch_size=cfg.batch_size,
        grad_accumulation=cfg.gradient_accumulation,
        optimizer=native_optimizer(cfg),
        training_dtype=dtype,
        lora_dtype=dtype,
        gradient_checkpointing=cfg.gradient_checkpointing,
        resolution=cfg.resolution,
        bucketing=cfg.bucketing,
        min_bucket_reso=cfg.min_bucket_reso,
        max_bucket_reso=cfg.max_bucket_reso,
        bucket_reso_steps=cfg.bucket_reso_steps,
        seed=cfg.seed,
        save_every_n_epochs=cfg.save_every_n_epochs,
    )


# What the native trainer always does, whatever the config asked (kohya's `ss_*` spelling): no LR
# scheduler or warm-up, no text-encoder training, each caption encoded once (no shuffling).
# validate.py warns about each before submitting; the metadata must not claim them either.
NATIVE_FIXED_METADATA: dict[str, str] = {
    "ss_lr_scheduler": "constant",
    "ss_lr_warmup_steps": "0",
    "ss_text_encoder_lr": "None",
    "ss_shuffle_caption": "False",
    "ss_keep_tokens": "0",
}


def effective_of(params: TrainParams, seed: int, keep_aspect: bool) -> dict[str, Any]:
    """What the native trainer really runs with — the metadata's truth (docs/protocols.md §2.1).

    A new LoRA's alpha is fixed at 1.0; `training_dtype` is bf16 or fp32 (kohya spells fp32
    "no"); the optimizer is the native one sent; the seed is the job's own (first chunk); images
    are resized to one square size (centre crop) unless the newer nodes keep the aspect ratio.
    """
    return {
        "alpha": 1.0,
        "mixed_precision": "no" if params.training_dtype == "fp32" else params.training_dtype,
        "optimizer": params.optimizer,
        "seed": seed,
        "enable_bucket": keep_aspect,
        "resolution": params.resolution,
    }


def plan_chunks(params: TrainParams, chunked: bool, chunk_steps: int) -> list[int]:
    """Steps per prompt. One prompt unless chunked; chunks follow `save_every_n_epochs` if set.

    No chunk is shorter than 2 steps: with 1 step LossGraphNode divides by zero (Part A).
    """
    total = params.total_steps
    if not chunked:
        return [total]
    size = chunk_steps
    if params.save_every_n_epochs:
        size = params.save_every_n_epochs * params.steps_per_epoch
    size = max(2, size)
    count = max(1, math.ceil(total / size))
    if count == 1:
        return [total]
    plan = [size] * (count - 1) + [total - size * (count - 1)]
    if plan[-1] < 2:  # fold a tiny tail into the previous chunk
        tail = plan.pop()
        plan[-1] += tail
    return plan
