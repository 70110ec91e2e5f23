"""Core/dataset: the doctor's vocabulary — findings, their kinds, severities and fixes.

A `Finding` names one file (`path`), says what is wrong in a sentence (`message`, which names the
file too, so it reads well in a table or a log) and which `Fix` can be applied, if any. Near-
duplicates also carry a `group` number and the other members (`related`) so the page can show the
group side by side before anything is removed.

Severities: `error` — the trainer will fail or skip the file; `warning` — it will train, but badly
(sideways, wrong colours, cropped, untagged); `info` — worth knowing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Fix(StrEnum):
    """Fixes `fixes.apply_fix` can apply. Destructive ones keep the original in the trash."""

    ROTATE_EXIF = "rotate_exif"  # rotate the pixels as EXIF says and drop the tag
    CONVERT_RGB = "convert_rgb"  # CMYK / 16-bit / palette → 8-bit RGB (alpha flattened)
    FLATTEN_ALPHA = "flatten_alpha"  # transparency → chosen background colour
    ADD_TRIGGER = "add_trigger"  # prefix the caption with the trigger word
    CREATE_CAPTION = "create_caption"  # an empty caption (or just the trigger word)
    REENCODE_CAPTION = "reencode_caption"  # rewrite a non-UTF-8 caption as UTF-8
    MOVE_TO_TRASH = "move_to_trash"  # picture + caption into the project trash


class Kind(StrEnum):
    EMPTY_FILE = "empty_file"
    NOT_AN_IMAGE = "not_an_image"
    TRUNCATED = "truncated"
    DAMAGED = "damaged"
    UNREADABLE = "unreadable"
    DECOMPRESSION_BOMB = "decompression_bomb"
    SYMLINK_LOOP = "symlink_loop"
    BROKEN_SYMLINK = "broken_symlink"
    LINK_OUTSIDE = "link_outside"  # a link that leaves the dataset: never read, never uploaded
    EXIF_ROTATION = "exif_rotation"
    CMYK = "cmyk"
    HIGH_BIT_DEPTH = "high_bit_depth"
    PALETTE = "palette"
    ALPHA = "alpha"
    ANIMATED = "animated"
    FORMAT_NOT_TRAINABLE = "format_not_trainable"
    TOO_SMALL = "too_small"
    EXTREME_ASPECT = "extreme_aspect"
    HEAVY_CROP = "heavy_crop"  # an ordinary shape, but no bucket near it: much is cropped
    NEAR_DUPLICATE = "near_duplicate"
    MISSING_CAPTION = "missing_caption"
    EMPTY_CAPTION = "empty_caption"
    ORPHAN_CAPTION = "orphan_caption"
    CAPTION_NOT_UTF8 = "caption_not_utf8"
    CAPTION_UNREADABLE = "caption_unreadable"
    CAPTION_TOO_LONG = "caption_too_long"
    MULTILINE_CAPTION = "multiline_caption"
    SHARED_CAPTION = "shared_caption"
    MISSING_TRIGGER = "missing_trigger"
    SMALL_BUCKET = "small_bucket"
    IGNORED_BY_TRAINER = "ignored_by_trainer"
    NESTED_FOLDER = "nested_folder"


@dataclass(frozen=True, slots=True)
class Finding:
    path: Path
    kind: str  # a `Kind` value
    severity: Severity
    message: str
    fix: Fix | None = None
    group: int | None = None  # near-duplicate group number (1, 2, …)
    related: tuple[Path, ...] = ()  # the other members of the group

    def to_dict(self) -> dict[str, str | None]:
        """The CLI's JSON shape: `{path, kind, severity, message, fix}`."""
        return {
            "path": str(self.path),
            "kind": str(self.kind),
            "severity": str(self.severity),
            "message": self.message,
            "fix": str(self.fix) if self.fix is not None else None,
        }


SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Errors first, then by path and kind (stable for tables and tests)."""
    return sorted(
        findings, key=lambda f: (SEVERITY_ORDER[f.severity], str(f.path).casefold(), f.kind)
    )
