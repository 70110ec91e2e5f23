"""Core/dataset: the doctor's checks that need no pixels — header facts, captions, buckets.

These are pure functions over a `DatasetScan` and run in milliseconds for 10,000 pictures, so the
grid can show badges (no caption, too small, extreme aspect ratio, rotated, …) right after a scan
via `quick_findings`. The decoding checks (truncated files, near-duplicates) are in `doctor.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lora_studio.core.dataset.buckets import (
    BucketAssignment,
    BucketPlan,
    BucketSettings,
    plan_buckets,
)
from lora_studio.core.dataset.captions import first_line
from lora_studio.core.dataset.findings import Finding, Fix, Kind, Severity
from lora_studio.core.dataset.formats import TRAINER_EXTENSIONS
from lora_studio.core.dataset.models import DatasetScan, ImageEntry, ScanProblem
from lora_studio.core.dataset.phash import DEFAULT_MAX_DISTANCE
from lora_studio.core.dataset.scan import parse_concept_folder
from lora_studio.core.dataset.tokens import CLIP_TOKEN_BUDGET, estimate_clip_tokens
from lora_studio.core.errors import DatasetError
from lora_studio.core.plurals import plural

_FIXABLE_BY_TRASH = {
    Kind.EMPTY_FILE,
    Kind.NOT_AN_IMAGE,
    Kind.TRUNCATED,
    Kind.DAMAGED,
    Kind.DECOMPRESSION_BOMB,
}
_ORIENTATION_WORDS = {
    2: "mirrored",
    3: "upside down",
    4: "mirrored upside down",
    5: "mirrored and turned",
    6: "turned 90° clockwise",
    7: "mirrored and turned",
    8: "turned 90° counter-clockwise",
}
# Scan problem kind → (severity, fix)
_PROBLEMS: dict[str, tuple[Severity, Fix | None]] = {
    Kind.SYMLINK_LOOP: (Severity.WARNING, None),
    Kind.BROKEN_SYMLINK: (Severity.INFO, None),
    Kind.LINK_OUTSIDE: (Severity.WARNING, None),
    Kind.IGNORED_BY_TRAINER: (Severity.WARNING, None),
    Kind.NESTED_FOLDER: (Severity.WARNING, None),
    Kind.SHARED_CAPTION: (Severity.WARNING, None),
    Kind.CAPTION_NOT_UTF8: (Severity.WARNING, Fix.REENCODE_CAPTION),
    Kind.CAPTION_UNREADABLE: (Severity.ERROR, None),
    Kind.UNREADABLE: (Severity.ERROR, None),
}


@dataclass(frozen=True)
class DoctorOptions:
    """What the dataset will be trained with, and the doctor's thresholds."""

    resolution: int = 1024
    trigger: str | None = None
    batch_size: int = 1
    buckets: BucketSettings | None = None  # None: kohya bucketing at `resolution`
    duplicate_distance: int = DEFAULT_MAX_DISTANCE  # pHash bits; 0 disables near-duplicates
    max_caption_tokens: int = CLIP_TOKEN_BUDGET
    upscale_tolerance: float = 1.1  # enlarging by more than this is "too small"
    extreme_aspect: float = 2.5  # long side / short side
    max_cropped: float = 0.2  # share of the picture the trainer may crop away
    workers: int = 2
    check_pixels: bool = True  # decode every picture (truncation, near-duplicates)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise DatasetError("The batch size must be at least 1.")
        if self.trigger is not None and not self.trigger.strip():
            raise DatasetError("The trigger word is empty; leave it out or give a word.")
        self.bucket_settings.resolutions()  # invalid sizes raise DatasetError now, not mid-run

    @property
    def bucket_settings(self) -> BucketSettings:
        return self.buckets if self.buckets is not None else BucketSettings(self.resolution)


def quick_findings(
    scan: DatasetScan, options: DoctorOptions, plan: BucketPlan | None = None
) -> list[Finding]:
    """Every check that needs no decoding (unsorted)."""
    plan = plan if plan is not None else plan_buckets(scan.entries, options.bucket_settings)
    unreadable_captions = {p.path for p in scan.problems if p.kind == Kind.CAPTION_UNREADABLE}
    findings: list[Finding] = []
    for entry in scan.entries:
        findings.extend(image_findings(entry, options, plan.assignments.get(entry.path)))
        if entry.ok and entry.caption_path not in unreadable_captions:
            findings.extend(caption_findings(entry, options))
    findings.extend(problem_findings(scan.problems))
    findings.extend(
        Finding(
            path,
            Kind.ORPHAN_CAPTION,
            Severity.INFO,
            f"{path.name} is a caption without a picture named {path.stem}.*; trainers ignore it. "
            "Remove it, or restore its picture.",
            Fix.MOVE_TO_TRASH,
        )
        for path in scan.orphan_captions
    )
    findings.extend(bucket_findings(plan, options))
    return findings


def image_findings(
    entry: ImageEntry, options: DoctorOptions, assignment: BucketAssignment | None
) -> list[Finding]:
    """Header checks of one picture: unreadable, rotation, colour mode, size, aspect, format."""
    name, path = entry.name, entry.path
    if entry.error is not None:
        kind = _kind(entry.error_kind)
        fix = Fix.MOVE_TO_TRASH if kind in _FIXABLE_BY_TRASH else None
        return [Finding(path, kind, Severity.ERROR, entry.error, fix)]
    found: list[Finding] = []

    def add(kind: Kind, severity: Severity, message: str, fix: Fix | None = None) -> None:
        found.append(Finding(path, kind, severity, message, fix))

    if entry.orientation != 1:
        add(
            Kind.EXIF_ROTATION,
            Severity.WARNING,
            f"{name} is stored {_ORIENTATION_WORDS[entry.orientation]} and relies on its EXIF "
            "orientation tag; kohya sd-scripts ignores the tag and would train it that way. "
            "Rotate the pixels.",
            Fix.ROTATE_EXIF,
        )
    if entry.mode == "CMYK":
        add(
            Kind.CMYK,
            Severity.WARNING,
            f"{name} is a CMYK (print) picture; trainers convert it naively and its colours "
            "shift. Convert it to RGB.",
            Fix.CONVERT_RGB,
        )
    if entry.high_bit_depth:
        if entry.mode in ("I", "F") or (entry.mode or "").startswith("I;16"):
            add(
                Kind.HIGH_BIT_DEPTH,
                Severity.WARNING,
                f"{name} is 16-bit greyscale; trainers' conversion to RGB clips it to almost "
                "white. Convert it to 8-bit RGB.",
                Fix.CONVERT_RGB,
            )
        else:
            add(
                Kind.HIGH_BIT_DEPTH,
                Severity.INFO,
                f"{name} has 16 bits per channel; trainers reduce it to 8 bits, so the file is "
                "only bigger and slower to load. Convert it to 8-bit RGB.",
                Fix.CONVERT_RGB,
            )
    if entry.mode == "P":
        if entry.has_transparency:
            add(
                Kind.PALETTE,
                Severity.WARNING,
                f"{name} is a palette picture with transparent areas; trainers fill them with "
                "a palette colour (often black). Convert it to RGB on a background colour.",
                Fix.CONVERT_RGB,
            )
        else:
            add(
                Kind.PALETTE,
                Severity.INFO,
                f"{name} is a palette picture (at most 256 colours); the model may learn its "
                "banding. Convert it to RGB, or better, use a full-colour original.",
                Fix.CONVERT_RGB,
            )
    elif entry.has_transparency:
        add(
            Kind.ALPHA,
            Severity.WARNING,
            f"{name} has transparent areas; trainers drop the alpha channel and whatever colour "
            "hides under them (often black) shows. Flatten it on a background colour.",
            Fix.FLATTEN_ALPHA,
        )
    if entry.animated:
        add(
            Kind.ANIMATED,
            Severity.INFO,
            f"{name} is animated; only its first frame is used for training.",
        )
    if entry.path.suffix.lower() not in TRAINER_EXTENSIONS:
        add(
            Kind.FORMAT_NOT_TRAINABLE,
            Severity.WARNING,
            f"kohya sd-scripts only reads .jpg, .png, .webp and .bmp files and skips {name}. "
            "'Prepare' converts it, or convert it yourself.",
        )
    if assignment is not None:
        found.extend(_size_findings(entry, options, assignment))
    return found


def _kind(value: str | None) -> Kind:
    try:
        return Kind(value or Kind.UNREADABLE)
    except ValueError:
        return Kind.UNREADABLE


def _size_findings(
    entry: ImageEntry, options: DoctorOptions, assignment: BucketAssignment
) -> list[Finding]:
    found: list[Finding] = []
    bucket = f"{assignment.bucket[0]}×{assignment.bucket[1]}"
    size = f"{entry.width}×{entry.height}"
    if assignment.scale > options.upscale_tolerance:
        found.append(
            Finding(
                entry.path,
                Kind.TOO_SMALL,
                Severity.WARNING,
                f"{entry.name} is {size}; training at {options.bucket_settings.resolution} "
                f"enlarges it {assignment.scale:.1f}× to fill its {bucket} bucket and it will look "
                "soft. Use a larger original or a lower resolution.",
            )
        )
    ratio = max(entry.width, entry.height) / min(entry.width, entry.height)
    cropped = assignment.cropped_fraction
    if ratio > options.extreme_aspect:
        found.append(
            Finding(
                entry.path,
                Kind.EXTREME_ASPECT,
                Severity.WARNING,
                f"{entry.name} is {size} (aspect {ratio:.2f}:1); in its {bucket} bucket the "
                f"trainer crops away {cropped:.0%} of it. Crop it yourself to keep what matters.",
            )
        )
    elif cropped > options.max_cropped:
        # An ordinary shape (a 3:2 photo) with no bucket near it: the buckets are the cause,
        # e.g. at 256 px with a minimum bucket side of 256 only the square is left.
        settings = options.bucket_settings
        found.append(
            Finding(
                entry.path,
                Kind.HEAVY_CROP,
                Severity.INFO,
                f"{entry.name} ({size}, aspect {ratio:.2f}:1) trains in the {bucket} bucket: at "
                f"{settings.resolution} px with buckets from {settings.min_reso} px there is no "
                f"bucket of its shape, so the trainer crops away {cropped:.0%}. Lower the "
                "minimum bucket side or raise the resolution to keep its shape.",
            )
        )
    return found


def caption_findings(entry: ImageEntry, options: DoctorOptions) -> list[Finding]:
    """Caption checks of one picture: missing, empty, too long, multi-line, trigger word."""
    name, path = entry.name, entry.path
    if entry.caption is None:
        if parse_concept_folder(entry.folder) is not None:
            fallback = f'the folder\'s class tokens "{entry.concept}"'
        else:
            fallback = "nothing"
        return [
            Finding(
                path,
                Kind.MISSING_CAPTION,
                Severity.WARNING,
                f"{name} has no caption ({path.stem}.txt); kohya falls back to {fallback}. "
                "Write one or auto-caption it.",
                Fix.CREATE_CAPTION,
            )
        ]
    if not entry.caption.strip():
        return [
            Finding(
                path,
                Kind.EMPTY_CAPTION,
                Severity.WARNING,
                f"The caption of {name} is empty; kohya sd-scripts stops with 'caption file is "
                "empty'. Write one or auto-caption it.",
                Fix.ADD_TRIGGER if options.trigger else None,
            )
        ]
    found: list[Finding] = []
    trained = first_line(entry.caption)
    if len([line for line in entry.caption.splitlines() if line.strip()]) > 1:
        found.append(
            Finding(
                path,
                Kind.MULTILINE_CAPTION,
                Severity.INFO,
                f"The caption of {name} has several lines; kohya sd-scripts trains on the first "
                "one only. Join them into one line.",
            )
        )
    tokens = estimate_clip_tokens(trained)
    if tokens > options.max_caption_tokens:
        found.append(
            Finding(
                path,
                Kind.CAPTION_TOO_LONG,
                Severity.WARNING,
                f"The caption of {name} is about {tokens} tokens; the text encoder reads "
                f"{options.max_caption_tokens} and ignores the rest. Shorten it.",
            )
        )
    if options.trigger and not contains_word(trained, options.trigger):
        found.append(
            Finding(
                path,
                Kind.MISSING_TRIGGER,
                Severity.WARNING,
                f'The caption of {name} does not contain the trigger word "{options.trigger}". '
                "Add it so the LoRA learns to respond to it.",
                Fix.ADD_TRIGGER,
            )
        )
    return found


def contains_word(text: str, word: str) -> bool:
    """Whole-word, case-insensitive match (so "ohwx" is not found inside "ohwxyz")."""
    return re.search(rf"(?<!\w){re.escape(word.strip())}(?!\w)", text, re.IGNORECASE) is not None


def problem_findings(problems: tuple[ScanProblem, ...]) -> list[Finding]:
    found: list[Finding] = []
    for problem in problems:
        severity, fix = _PROBLEMS.get(problem.kind, (Severity.WARNING, None))
        found.append(Finding(problem.path, problem.kind, severity, problem.message, fix))
    return found


def bucket_findings(plan: BucketPlan, options: DoctorOptions) -> list[Finding]:
    """Pictures in buckets with fewer pictures than the batch size."""
    found: list[Finding] = []
    if options.batch_size <= 1:
        return found
    for size in plan.smaller_than(options.batch_size):
        members = plan.buckets[size]
        for path in members:
            found.append(
                Finding(
                    path,
                    Kind.SMALL_BUCKET,
                    Severity.INFO,
                    f"{path.name} is in the {size[0]}×{size[1]} bucket with "
                    f"{plural(len(members), 'picture')}, fewer than the batch size {options.batch_size}; it trains in "
                    "smaller or repeated batches. Add pictures of a similar shape or crop it.",
                    related=tuple(p for p in members if p != path),
                )
            )
    return found
