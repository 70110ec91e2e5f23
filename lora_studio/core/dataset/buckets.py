"""Core/dataset: kohya-compatible aspect-ratio bucketing — which bucket each picture trains in and
which part of it the trainer keeps.

Ported from kohya sd-scripts (`library/model_util.py: make_bucket_resolutions`,
`library/train_util.py: BucketManager.select_bucket`, `trim_and_resize_if_required`):
- Buckets: the square `floor(√(R²)/step)·step`, plus for each width from `min` to `max` in `step`s
  the height `min(max, floor(R²/width/step)·step)` when that height ≥ `min`, and its transpose.
- A picture whose exact size is a bucket uses it; otherwise the bucket with the closest aspect
  ratio (first in sorted order on ties, like numpy's argmin).
- The picture is scaled to *cover* the bucket (`int(side·scale + 0.5)`), then centre-cropped:
  `left = (resized_w − bucket_w) // 2`, same for top.
Without bucketing (`enabled=False`) kohya uses one bucket, the square R×R.

Sizes here are the displayed ones (EXIF orientation applied). kohya itself ignores EXIF, which is
why the doctor reports rotated pictures (and fixes them by rotating the pixels).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lora_studio.core.dataset.models import ImageEntry
from lora_studio.core.errors import DatasetError

Size = tuple[int, int]


def make_bucket_resolutions(
    max_reso: Size, min_size: int = 256, max_size: int = 1024, divisible: int = 64
) -> list[Size]:
    """kohya's bucket list for a (width, height) training resolution, sorted."""
    max_width, max_height = max_reso
    max_area = max_width * max_height
    resos: set[Size] = set()
    width = int(math.sqrt(max_area) // divisible) * divisible
    resos.add((width, width))
    width = min_size
    while width <= max_size:
        height = min(max_size, int((max_area // width) // divisible) * divisible)
        if height >= min_size:
            resos.add((width, height))
            resos.add((height, width))
        width += divisible
    return sorted(resos)


@dataclass(frozen=True)
class BucketSettings:
    """Bucketing for a square training resolution. `max_reso=None` means 2 × resolution (the
    usual kohya_ss settings: 256–1024 for SD 1.5 at 512, 256–2048 for SDXL at 1024)."""

    resolution: int = 1024
    min_reso: int = 256
    max_reso: int | None = None
    step: int = 64
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.step <= 0 or self.resolution < self.step:
            raise DatasetError(
                f"The resolution {self.resolution} is too small; use at least {self.step}."
            )
        if self.enabled and self.min_reso > self.max_size:
            raise DatasetError(
                f"The smallest bucket side ({self.min_reso}) is larger than the largest "
                f"({self.max_size}); lower the minimum."
            )

    @property
    def max_size(self) -> int:
        return self.max_reso if self.max_reso is not None else 2 * self.resolution

    def resolutions(self) -> list[Size]:
        if not self.enabled:
            return [(self.resolution, self.resolution)]
        return make_bucket_resolutions(
            (self.resolution, self.resolution), self.min_reso, self.max_size, self.step
        )


@dataclass(frozen=True, slots=True)
class BucketAssignment:
    """Where one picture trains: its bucket, the cover size, and the part the trainer keeps."""

    bucket: Size
    resized: Size  # picture scaled to cover the bucket
    crop: tuple[float, float, float, float]  # kept box (left, top, right, bottom), source pixels
    scale: float  # > 1 means the trainer enlarges the picture

    @property
    def cropped_fraction(self) -> float:
        """Share of the picture's area the centre crop throws away (0 … 1)."""
        resized_area = self.resized[0] * self.resized[1]
        return 1.0 - (self.bucket[0] * self.bucket[1]) / resized_area if resized_area else 0.0


class BucketSelector:
    """Chooses buckets for one settings object; reuse it for a whole dataset."""

    def __init__(self, settings: BucketSettings) -> None:
        self.settings = settings
        self.resolutions = settings.resolutions()
        self._set = set(self.resolutions)
        self._ratios = [w / h for w, h in self.resolutions]

    def select(self, width: int, height: int) -> BucketAssignment:
        if width <= 0 or height <= 0:
            raise ValueError("a picture needs a positive size to be bucketed")
        aspect = width / height
        if (width, height) in self._set:
            bucket = (width, height)
        else:
            errors = [abs(ratio - aspect) for ratio in self._ratios]
            bucket = self.resolutions[errors.index(min(errors))]
        bucket_w, bucket_h = bucket
        scale = bucket_h / height if aspect > bucket_w / bucket_h else bucket_w / width
        resized = (int(width * scale + 0.5), int(height * scale + 0.5))
        left = max(resized[0] - bucket_w, 0) // 2
        top = max(resized[1] - bucket_h, 0) // 2
        to_source_x = width / resized[0]
        to_source_y = height / resized[1]
        crop = (
            left * to_source_x,
            top * to_source_y,
            (left + bucket_w) * to_source_x,
            (top + bucket_h) * to_source_y,
        )
        return BucketAssignment(bucket, resized, crop, scale)


@dataclass(frozen=True)
class BucketPlan:
    """Every readable picture's bucket, and the buckets with their members."""

    settings: BucketSettings
    assignments: dict[Path, BucketAssignment]
    buckets: dict[Size, tuple[Path, ...]]
    repeats: dict[Size, int] = field(default_factory=dict)  # images × repeats per bucket

    @property
    def singletons(self) -> tuple[Size, ...]:
        """Buckets holding a single picture (it always trains alone in its batch)."""
        return tuple(size for size, members in self.buckets.items() if len(members) == 1)

    def smaller_than(self, batch_size: int) -> tuple[Size, ...]:
        """Buckets with fewer distinct pictures than the batch size."""
        return tuple(size for size, members in self.buckets.items() if len(members) < batch_size)


def plan_buckets(entries: Iterable[ImageEntry], settings: BucketSettings) -> BucketPlan:
    """Bucket every readable entry (unreadable ones are left out)."""
    selector = BucketSelector(settings)
    assignments: dict[Path, BucketAssignment] = {}
    members: dict[Size, list[Path]] = {}
    repeats: dict[Size, int] = {}
    for entry in entries:
        if not entry.ok or entry.width <= 0 or entry.height <= 0:
            continue
        assignment = selector.select(entry.width, entry.height)
        assignments[entry.path] = assignment
        members.setdefault(assignment.bucket, []).append(entry.path)
        repeats[assignment.bucket] = repeats.get(assignment.bucket, 0) + max(entry.repeats, 1)
    buckets = {size: tuple(paths) for size, paths in sorted(members.items())}
    return BucketPlan(settings, assignments, buckets, dict(sorted(repeats.items())))


def describe_bucket(size: Size) -> str:
    return f"{size[0]}×{size[1]}"


def bucket_summary(plan: BucketPlan) -> Sequence[tuple[Size, int, int]]:
    """(bucket, pictures, pictures × repeats) rows, sorted by bucket size."""
    return [
        (size, len(paths), plan.repeats.get(size, len(paths)))
        for size, paths in plan.buckets.items()
    ]
