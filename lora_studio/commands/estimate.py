"""Command `lora-studio estimate`: steps, VRAM, duration and cost of a training, before it runs.

    lora-studio estimate (DIR | --images N) --preset P [--set key=value …]
                         [--gpu-vram-gb G] [--gpu-class C] [--backend comfyui|replicate|kohya] [--json]

DIR is counted here with a small private scanner (image files, recursively, hidden folders such as
LoRA Studio's own sidecar skipped; top-level kohya `N_concept` folders give N repeats) until the
dataset module offers a full scan with buckets. Exit codes: 0 estimated (warnings may be printed),
2 bad input — an unknown preset, an invalid `--set`, a configuration with errors, no images.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lora_studio import paths
from lora_studio.commands._command import EXIT_OK, EXIT_USAGE, add_json_flag, print_json
from lora_studio.commands._dataset_run import left_out_warnings
from lora_studio.core.config.estimates import (
    GpuClass,
    TrainingEstimate,
    estimate_training,
    format_estimate,
)
from lora_studio.core.config.estimates.report import backend_names
from lora_studio.core.config.issues import InvalidConfigError, errors_only, warnings_only
from lora_studio.core.config.overrides import apply_overrides, parse_assignments
from lora_studio.core.config.presets import get_preset
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.config.training_length import DatasetShape
from lora_studio.core.errors import ConfigError, LoraStudioError
from lora_studio.core.jobs import JobStore
from lora_studio.core.training.dataset_input import (
    load_training_dataset,
    measured_seconds_per_step,
)

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
_CONCEPT_RE = re.compile(r"^([1-9]\d*)_(.+)$")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0 < value < 10_000:
        raise argparse.ArgumentTypeError(f"must be a positive number of GB, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "estimate",
        help="estimate steps, VRAM, duration and cost of a training",
        description="Estimate how many steps a training runs, how much GPU memory it needs (and "
        "whether it fits), how long it takes and, on Replicate, what it costs.",
    )
    parser.add_argument("dir", nargs="?", type=Path, metavar="DIR", help="dataset folder")
    parser.add_argument(
        "--images", type=_positive_int, metavar="N", help="image count instead of DIR"
    )
    parser.add_argument("--preset", required=True, metavar="P", help="preset name (see `presets`)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one setting of the preset, e.g. --set rank=16 (repeatable)",
    )
    parser.add_argument(
        "--gpu-vram-gb", type=_positive_float, metavar="G", help="GPU memory for the fit verdict"
    )
    parser.add_argument(
        "--gpu-class",
        choices=[gpu.value for gpu in GpuClass],
        help="GPU speed class for the duration (default: guessed from --gpu-vram-gb)",
    )
    parser.add_argument(
        "--backend", choices=backend_names(), help="where it trains (cost for replicate)"
    )
    add_json_flag(parser, "print the estimate as JSON")
    parser.set_defaults(func=run)


@dataclass
class _Scan:
    """Image counts of a folder: per top-level `N_concept` folder, plus the rest."""

    concept_counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # name → (n, repeats)
    loose: int = 0  # images outside any N_concept folder
    bucket_aware: bool = False  # steps were counted per aspect-ratio bucket from image headers
    left_out: list[str] = field(default_factory=list)  # pictures that do not decode

    @property
    def images(self) -> int:
        return self.loose + sum(n for n, _ in self.concept_counts.values())

    def count_from(self, dataset_dirs: dict[str, tuple[int, int]]) -> None:
        """Take the counts of the pictures a training really uses (those that decode)."""
        for name, (repeats, count) in dataset_dirs.items():
            if name in self.concept_counts:
                self.concept_counts[name] = (count, repeats)
        used = sum(count for _, count in dataset_dirs.values())
        self.loose = max(0, used - sum(n for n, _ in self.concept_counts.values()))

    def shape(self, repeats: int) -> DatasetShape:
        groups = [*self.concept_counts.values(), (self.loose, repeats)]
        return DatasetShape.from_groups(groups)


def _scan(directory: Path) -> _Scan:
    scan = _Scan()
    for root, dirs, files in os.walk(directory):
        # Hidden folders hold LoRA Studio's sidecar (thumbnails, trash) and OS clutter.
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        images = sum(
            1 for f in files if not f.startswith(".") and Path(f).suffix.lower() in IMAGE_EXTENSIONS
        )
        if not images:
            continue
        parts = Path(root).relative_to(directory).parts
        match = _CONCEPT_RE.match(parts[0]) if parts else None
        if match:
            count, repeats = scan.concept_counts.get(parts[0], (0, int(match.group(1))))
            scan.concept_counts[parts[0]] = (count + images, repeats)
        else:
            scan.loose += images
    return scan


def _fail(message: str) -> int:
    print(f"lora-studio estimate: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _dataset_description(scan: _Scan | None, images: int, config: TrainingConfig) -> str:
    if scan is None or not scan.concept_counts:
        return f"{images} images × {config.repeats} repeats"
    parts = [f"{name}: {n} × {r}" for name, (n, r) in sorted(scan.concept_counts.items())]
    if scan.loose:
        parts.append(f"other: {scan.loose} × {config.repeats}")
    return f"{images} images in kohya folders ({', '.join(parts)} repeats)"


def _human(
    name: str, config: TrainingConfig, result: TrainingEstimate, dataset: str, notes: list[str]
) -> str:
    length = result.length
    steps = (
        f"{length.total_steps} (max_steps; {length.epochs} epochs of {length.steps_per_epoch})"
        if length.limited_by_max_steps
        else f"{length.total_steps} = {length.epochs} epochs × {length.steps_per_epoch} steps"
    )
    if result.verdict:
        vram = f"{result.verdict.verdict.replace('_', ' ')} — {result.verdict.message}"
    else:
        vram = (
            f"{format_estimate(result.vram)} (add --gpu-vram-gb for a fits / does not fit verdict)"
        )
    if result.cost:
        cost = format_estimate(result.cost)
    else:
        cost = f"none ({result.backend or 'local'} training is not billed per run)"
    lines = [
        f"Preset       {name} ({config.base_model_family.value}, {config.resolution} px, rank "
        f"{config.rank}, {config.optimizer.value})",
        f"Dataset      {dataset} = {length.samples_per_epoch} images per epoch",
        f"Steps        {steps} (batch {config.batch_size} × accumulation "
        f"{config.gradient_accumulation})",
        f"VRAM         {vram}",
        f"Duration     {format_estimate(result.duration)}, GPU class {result.gpu_class.value}",
        f"Cost         {cost}",
    ]
    warnings = warnings_only(result.issues)
    if warnings:
        lines += ["", "Warnings", *(f"  - {issue}" for issue in warnings)]
    lines += ["", "Assumptions", *(f"  - {note}" for note in notes)]
    lines += [f"  - VRAM: {text}" for text in result.vram.assumptions]
    lines += [f"  - Duration: {text}" for text in result.duration.assumptions]
    if result.cost:
        lines += [f"  - Cost: {text}" for text in result.cost.assumptions[-2:]]
    return "\n".join(lines)


def _notes(scan: _Scan | None) -> list[str]:
    if scan is not None and scan.bucket_aware:
        notes = ["Steps are counted per aspect-ratio bucket from the images' sizes, as kohya does."]
    else:
        notes = [
            "Buckets are not known yet, so all images count as one bucket; kohya rounds up "
            "per bucket and may run a few more steps."
        ]
    if scan is None:
        return notes
    if scan.concept_counts and scan.loose:
        notes.append(
            f"{scan.loose} images outside N_concept folders were counted with the preset's "
            "repeats; kohya itself ignores images directly in the dataset folder."
        )
    for name, (_, repeats) in sorted(scan.concept_counts.items()):
        if repeats > 100:
            notes.append(
                f"The folder {name!r} counts as {repeats} repeats: kohya reads a leading number "
                "and underscore as the repeat count. Rename it if that is not meant."
            )
    return notes


def _payload(
    args: argparse.Namespace,
    preset_name: str,
    overrides: dict[str, str],
    config: TrainingConfig,
    scan: _Scan | None,
    result: TrainingEstimate,
) -> dict[str, Any]:
    folders = scan.concept_counts if scan else {}
    return {
        "preset": preset_name,
        "overrides": overrides,
        "config": config.model_dump(mode="json"),
        "dataset": {
            "source": str(args.dir) if args.dir else "--images",
            "images": result.length.images,
            "concept_folders": {
                name: {"images": n, "repeats": r} for name, (n, r) in sorted(folders.items())
            },
            "left_out": scan.left_out if scan else [],
            "notes": _notes(scan),
        },
        **result.to_dict(),
    }


def run(args: argparse.Namespace) -> int:
    if (args.dir is None) == (args.images is None):
        return _fail("give either a dataset folder DIR or --images N (exactly one)")
    scan: _Scan | None = None
    if args.dir is not None:
        if not args.dir.is_dir():
            return _fail(f"{args.dir} is not a folder")
        scan = _scan(args.dir)
        if scan.images == 0:
            return _fail(f"no images (jpg, png, webp, bmp, tiff, gif) found in {args.dir}")
    try:
        preset = get_preset(args.preset, paths.config_dir())
        overrides = parse_assignments(args.overrides)
        config = apply_overrides(preset.config, overrides)
    except InvalidConfigError as exc:
        for issue in exc.issues:
            print(f"error: {issue}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        return _fail(exc.user_message)
    shape = DatasetShape.uniform(args.images, config.repeats) if args.images else None
    if scan is not None:
        try:
            # Exact per-bucket counts of the pictures that decode, as kohya will batch them.
            loaded = load_training_dataset(args.dir, config)
            shape = loaded.shape
            scan.bucket_aware = True
            scan.left_out = list(loaded.left_out)
            for line in left_out_warnings(loaded):
                print(line, file=sys.stderr)
            scan.count_from(loaded.dataset_dirs)
        except LoraStudioError:
            shape = scan.shape(config.repeats)
    assert shape is not None
    measured: list[float] = []
    if args.backend and not args.gpu_class:
        # Speeds this backend really reached on similar jobs beat the table's guess.
        with JobStore(paths.job_store_file()) as history:
            measured = measured_seconds_per_step(history, config, args.backend)
    result = estimate_training(
        config,
        shape,
        backend=args.backend,
        gpu_vram_gb=args.gpu_vram_gb,
        gpu_class=args.gpu_class,
        measured_seconds_per_step=measured or None,
    )
    errors = errors_only(result.issues)
    for issue in errors:
        print(f"error: {issue}", file=sys.stderr)
    if errors:
        return EXIT_USAGE
    if args.json:
        for issue in warnings_only(result.issues):
            print(f"warning: {issue}", file=sys.stderr)
        print_json(_payload(args, preset.name, overrides, config, scan, result))
    else:
        dataset = _dataset_description(scan, shape.images, config)
        print(_human(preset.name, config, result, dataset, _notes(scan)))
    return EXIT_OK
