"""Core: how many steps a training runs — images × repeats × epochs ÷ (batch × accumulation).

Counted the way kohya sd-scripts counts (train_network.py), so the number shown before training is
the number its progress bar will end at:
- an epoch is a pass over every image `repeats` times; images are grouped into aspect-ratio
  buckets and a batch never mixes buckets, so each bucket contributes ceil(samples / batch)
  batches — a partly filled batch still costs a step;
- one step is one optimizer update: ceil(batches per epoch / gradient accumulation);
- epochs × steps per epoch is the total, unless `max_steps` is set, which overrides epochs (the
  epoch count is then ceil(max_steps / steps per epoch)).
Without bucketing every image lands in one bucket of the training resolution.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from lora_studio.core.config.training_config import TrainingConfig


@dataclass(frozen=True)
class DatasetShape:
    """What the step arithmetic needs from a dataset.

    `bucket_samples` holds, per aspect-ratio bucket, the images in it times their repeats. When
    buckets are unknown there is one bucket with every sample.
    """

    images: int
    bucket_samples: tuple[int, ...]

    @property
    def samples_per_epoch(self) -> int:
        return sum(self.bucket_samples)

    @classmethod
    def uniform(cls, images: int, repeats: int) -> DatasetShape:
        """`images` images, all repeated `repeats` times, buckets unknown."""
        _check_count("images", images)
        _check_repeats(repeats)
        return cls(images=images, bucket_samples=(images * repeats,) if images else ())

    @classmethod
    def from_buckets(
        cls, bucket_counts: Mapping[Any, int] | Iterable[int], repeats: int
    ) -> DatasetShape:
        """Per-bucket image counts (e.g. {(1024, 1024): 30, (832, 1216): 10}), one repeat count."""
        _check_repeats(repeats)
        counts = list(
            bucket_counts.values() if isinstance(bucket_counts, Mapping) else bucket_counts
        )
        for count in counts:
            _check_count("bucket image count", count)
        return cls(images=sum(counts), bucket_samples=tuple(n * repeats for n in counts if n > 0))

    @classmethod
    def from_groups(cls, groups: Iterable[tuple[int, int]]) -> DatasetShape:
        """(images, repeats) per kohya `N_concept` folder; buckets unknown (one bucket)."""
        images = samples = 0
        for count, repeats in groups:
            _check_count("images", count)
            _check_repeats(repeats)
            images += count
            samples += count * repeats
        return cls(images=images, bucket_samples=(samples,) if samples else ())


def _check_count(what: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{what} cannot be negative, got {value}")


def _check_repeats(value: int) -> None:
    if value < 1:
        raise ValueError(f"repeats must be at least 1, got {value}")


@dataclass(frozen=True)
class TrainingLength:
    images: int
    samples_per_epoch: int  # images × repeats
    batches_per_epoch: int  # bucket-aware, before gradient accumulation
    steps_per_epoch: int  # optimizer updates per epoch
    epochs: int  # as configured, or as many as max_steps needs
    total_steps: int
    limited_by_max_steps: bool
    effective_batch_size: int  # batch × accumulation

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def batches_per_epoch(bucket_samples: Iterable[int], batch_size: int) -> int:
    """kohya's count: every bucket is batched on its own, the last batch may be partial."""
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    return sum(math.ceil(samples / batch_size) for samples in bucket_samples if samples > 0)


def _shape(config: TrainingConfig, dataset: DatasetShape | int) -> DatasetShape:
    shape = (
        dataset
        if isinstance(dataset, DatasetShape)
        else DatasetShape.uniform(dataset, config.repeats)
    )
    if not config.bucketing and len(shape.bucket_samples) > 1:
        # Without bucketing kohya resizes/crops everything to one size: a single bucket.
        shape = DatasetShape(images=shape.images, bucket_samples=(shape.samples_per_epoch,))
    return shape


def training_length(config: TrainingConfig, dataset: DatasetShape | int) -> TrainingLength:
    """Steps for `config` on `dataset` (a DatasetShape, or a plain image count using
    `config.repeats`). An empty dataset gives zero steps."""
    shape = _shape(config, dataset)
    batches = batches_per_epoch(shape.bucket_samples, config.batch_size)
    per_epoch = math.ceil(batches / config.gradient_accumulation)
    if per_epoch == 0:
        return TrainingLength(
            images=shape.images,
            samples_per_epoch=0,
            batches_per_epoch=0,
            steps_per_epoch=0,
            epochs=0,
            total_steps=0,
            limited_by_max_steps=config.max_steps is not None,
            effective_batch_size=config.effective_batch_size,
        )
    if config.max_steps is not None:
        total, epochs, limited = config.max_steps, math.ceil(config.max_steps / per_epoch), True
    else:
        total, epochs, limited = config.epochs * per_epoch, config.epochs, False
    return TrainingLength(
        images=shape.images,
        samples_per_epoch=shape.samples_per_epoch,
        batches_per_epoch=batches,
        steps_per_epoch=per_epoch,
        epochs=epochs,
        total_steps=total,
        limited_by_max_steps=limited,
        effective_batch_size=config.effective_batch_size,
    )


def epochs_for_steps(config: TrainingConfig, dataset: DatasetShape | int, steps: int) -> int:
    """The reverse: how many epochs reach at least `steps` steps (0 for an empty dataset)."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    per_epoch = training_length(config.model_copy(update={"max_steps": None}), dataset)
    if per_epoch.steps_per_epoch == 0:
        return 0
    return math.ceil(steps / per_epoch.steps_per_epoch)
