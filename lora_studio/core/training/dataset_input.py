"""Core: turn a dataset folder into what a training needs — the backend's `DatasetSummary`, the
training-length `DatasetShape` (per-folder repeats, bucket-aware) and the metadata facts
(`ss_dataset_dirs`, `ss_tag_frequency`).

Uses the dataset scanner (headers only), then makes sure every picture really decodes
(`decode_check.verify_decodes`: cached verdicts and thumbnails first, a reduced decode only for
pictures never seen): a picture whose header reads but whose pixels do not is left out of the
counts, the estimate and what the backend receives, and `left_out_notice` says which ones.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lora_studio.core.backends.base import DatasetFolder, DatasetItem, DatasetSummary
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.config.training_length import DatasetShape
from lora_studio.core.dataset import BucketSettings, DatasetScan, plan_buckets, scan_dataset
from lora_studio.core.dataset.concurrency import CancelToken, ProgressCallback
from lora_studio.core.dataset.decode_check import DecodeFailure, verify_decodes
from lora_studio.core.dataset.models import LAYOUT_KOHYA, ImageEntry
from lora_studio.core.errors import CancelledByUserError, DatasetError, LoraStudioError
from lora_studio.core.jobs import JobStore
from lora_studio.core.plurals import plural

_NAMED = 5  # left-out pictures named in a notice; the rest are counted


@dataclass(frozen=True)
class TrainingDataset:
    folder: Path
    scan: DatasetScan
    summary: DatasetSummary
    shape: DatasetShape
    dataset_dirs: dict[str, tuple[int, int]]  # folder name → (repeats, image count)
    tag_frequency: dict[str, dict[str, int]]  # folder name → {tag: count}
    skipped: tuple[str, ...]  # sentences about images left out (unreadable ones)
    # Pictures left out because they cannot be read or decoded (paths relative to `folder`),
    # and every picture the folder holds: "3 of 31 pictures … are left out".
    left_out: tuple[str, ...] = ()
    picture_count: int = 0
    decode_failures: tuple[DecodeFailure, ...] = ()  # header fine, pixels not (kind, sentence)

    @property
    def image_count(self) -> int:
        return self.summary.image_count


def left_out_notice(dataset: TrainingDataset, remedy: str) -> str:
    """'3 of 31 pictures cannot be decoded and are left out: a.jpg, b.png, c.jpg. <remedy>', or
    '' when every picture is used. The GUI and the CLI give their own `remedy`."""
    names = list(dataset.left_out)
    if not names:
        return ""
    shown = ", ".join(names[:_NAMED])
    if len(names) > _NAMED:
        shown += f" and {len(names) - _NAMED} more"
    total = max(dataset.picture_count, len(names))
    verb = "is" if len(names) == 1 else "are"
    return (
        f"{len(names)} of {plural(total, 'picture')} cannot be decoded and {verb} left out: "
        f"{shown}. {remedy}"
    ).strip()


def split_tags(caption: str) -> list[str]:
    """kohya counts comma-separated tags, stripped, empty ones dropped."""
    return [tag.strip() for tag in caption.split(",") if tag.strip()]


def load_training_dataset(
    folder: Path,
    config: TrainingConfig,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> TrainingDataset:
    """Scan `folder`, make sure its pictures decode, and prepare it for `config`.

    DatasetError when nothing can be trained on; CancelledByUserError when `cancel` stopped the
    decode check. `progress(done, total)` counts the pictures that had to be decoded now."""
    scan = scan_dataset(Path(folder), cancel=cancel)
    header_ok = [entry for entry in scan.entries if entry.ok]
    decoded = verify_decodes(
        scan.root, [entry.path for entry in header_ok], cancel=cancel, progress=progress
    )
    if decoded.cancelled:
        raise CancelledByUserError("Checking that the pictures decode was cancelled.")
    broken = {failure.path: failure.message for failure in decoded.failures}
    readable = [entry for entry in header_ok if entry.path not in broken]
    unusable = [entry for entry in scan.entries if not entry.ok or entry.path in broken]
    if not readable:
        if unusable:
            names = ", ".join(entry.rel_path for entry in unusable[:_NAMED])
            more = f" and {len(unusable) - _NAMED} more" if len(unusable) > _NAMED else ""
            raise DatasetError(
                f"None of the pictures in the dataset folder {scan.root} can be decoded "
                f"({names}{more}): they are damaged, truncated or not pictures. Replace them "
                "with good copies; the dataset doctor says what is wrong with each."
            )
        raise DatasetError(
            f"The dataset folder {scan.root} has no readable images yet. Add pictures (JPEG, "
            "PNG, WebP, …); the dataset doctor names any file it cannot read."
        )
    skipped = tuple(entry.error or broken.get(entry.path) or entry.rel_path for entry in unusable)
    kohya = scan.layout == LAYOUT_KOHYA
    groups: dict[str, list[ImageEntry]] = defaultdict(list)
    for entry in readable:
        name = entry.folder or scan.root.name
        groups[name].append(entry)

    def repeats_of(name: str) -> int:
        # kohya takes repeats from "N_concept" folder names; a flat folder uses the config's.
        return groups[name][0].repeats if kohya else config.repeats

    dataset_dirs = {name: (repeats_of(name), len(items)) for name, items in groups.items()}
    tag_frequency: dict[str, dict[str, int]] = {}
    for name, items in groups.items():
        counts: Counter[str] = Counter()
        for entry in items:
            counts.update(split_tags(entry.caption or ""))
        tag_frequency[name] = dict(counts)

    shape = _shape(readable, config, repeats_of, groups)
    folders = [
        DatasetFolder(
            name,
            Path(items[0].path).parent,
            repeats_of(name) if kohya else None,
            tuple(DatasetItem(entry.path, (entry.caption or "").strip()) for entry in items),
        )
        for name, items in groups.items()
    ]
    summary = DatasetSummary.from_folders(scan.root, folders)
    return TrainingDataset(
        folder=scan.root,
        scan=scan,
        summary=summary,
        shape=shape,
        dataset_dirs=dataset_dirs,
        tag_frequency=tag_frequency,
        skipped=skipped,
        left_out=tuple(entry.rel_path for entry in unusable),
        picture_count=len(scan.entries),
        decode_failures=decoded.failures,
    )


def _shape(
    readable: list[ImageEntry],
    config: TrainingConfig,
    repeats_of: Callable[[str], int],
    groups: dict[str, list[ImageEntry]],
) -> DatasetShape:
    if not config.bucketing:
        return DatasetShape.from_groups(
            [(len(items), repeats_of(name)) for name, items in groups.items()]
        )
    # Bucket-aware: kohya batches within a bucket, so partly filled batches add steps.
    plan = plan_buckets(
        readable,
        BucketSettings(
            resolution=config.resolution,
            min_reso=config.min_bucket_reso,
            max_reso=config.max_bucket_reso,
            step=config.bucket_reso_steps,
        ),
    )
    samples: Counter[tuple[int, int]] = Counter()
    for name, items in groups.items():
        for entry in items:
            assignment = plan.assignments.get(entry.path)
            if assignment is None:
                continue
            samples[assignment.bucket] += repeats_of(name)
    if not samples:
        return DatasetShape.from_groups(
            [(len(items), repeats_of(name)) for name, items in groups.items()]
        )
    return DatasetShape(images=len(readable), bucket_samples=tuple(samples.values()))


def measured_seconds_per_step(
    store: JobStore, config: TrainingConfig, backend: str | None = None
) -> list[float]:
    """Seconds per step that finished jobs like this one really took (newest first).

    Feeds `estimate_training(measured_seconds_per_step=…)` so duration estimates learn from the
    artist's own hardware; empty when nothing similar has run yet or the store is unreadable.
    """
    try:
        samples = store.measured_speeds(
            config.base_model_family.value, config.resolution, config.batch_size, backend=backend
        )
    except LoraStudioError:
        return []
    return [sample.seconds_per_step for sample in samples]
