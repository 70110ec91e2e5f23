"""View-model helpers for the Train wizard: plain sentences about a dataset and its doctor findings.

Pure functions over core data (no Qt), so the wording is tested without a window and the step
view-models only decide *when* to say something, not *how*.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from lora_studio.core.dataset import Finding, Kind, Severity
from lora_studio.core.dataset.findings import sort_findings
from lora_studio.core.dataset.models import LAYOUT_KOHYA
from lora_studio.core.plurals import plural
from lora_studio.core.training.dataset_input import TrainingDataset, left_out_notice

# Kinds whose label reads better than the identifier turned into words.
_KIND_LABELS = {
    Kind.MISSING_CAPTION: "Missing caption",
    Kind.EMPTY_CAPTION: "Empty caption",
    Kind.CAPTION_NOT_UTF8: "Caption not UTF-8",
    Kind.EXIF_ROTATION: "Rotated by EXIF",
    Kind.CMYK: "CMYK colours",
    Kind.ALPHA: "Transparency",
    Kind.MISSING_TRIGGER: "Trigger word missing",
    Kind.FORMAT_NOT_TRAINABLE: "Format the trainer cannot read",
}
_CAPTIONLESS = frozenset({Kind.MISSING_CAPTION, Kind.EMPTY_CAPTION})
_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
_SHOWN_SKIPPED = 3
# What to do about pictures that do not decode, in the app's words (the CLI names its command).
GUI_REMEDY = (
    "The doctor on the Dataset page says what is wrong with each and moves them to the trash."
)


def kind_label(kind: str) -> str:
    try:
        return _KIND_LABELS[Kind(kind)]
    except (KeyError, ValueError):
        return kind.replace("_", " ").capitalize()


def describe_folders(dataset: TrainingDataset) -> str:
    """One line per training folder: its images and repeats, as the trainer will see them."""
    kohya = dataset.scan.layout == LAYOUT_KOHYA
    lines = []
    for name, (repeats, count) in sorted(dataset.dataset_dirs.items()):
        source = "" if kohya else " (repeats from the preset)"
        lines.append(f"{name}: {plural(count, 'image')} × {plural(repeats, 'repeat')}{source}")
    return "\n".join(lines)


def describe_skipped(dataset: TrainingDataset) -> str:
    """The pictures left out because they do not decode — how many of all, which, what to do —
    then the reasons of the first few, one per line; '' when every picture is used."""
    notice = left_out_notice(dataset, GUI_REMEDY)
    if not notice:
        return ""
    reasons = list(dataset.skipped)
    shown = "\n".join(f"• {reason}" for reason in reasons[:_SHOWN_SKIPPED])
    hidden = len(reasons) - _SHOWN_SKIPPED
    more = f"\n… and {hidden} more" if hidden > 0 else ""
    return f"{notice}\n{shown}{more}"


def skipped_warning(dataset: TrainingDataset) -> str:
    """The same news as `describe_skipped`, on one line for the review's list of warnings."""
    return left_out_notice(dataset, GUI_REMEDY)


@dataclass(frozen=True)
class FindingsSummary:
    """The doctor's quick findings, boiled down for the captions-check step."""

    counts: tuple[tuple[str, str, int], ...]  # (label, severity, count), worst first
    examples: tuple[str, ...]  # the first few messages, worst first
    problems: int  # warnings + errors: what "continue anyway" acknowledges
    missing_captions: int  # images with no caption or an empty one

    @property
    def needs_acknowledgement(self) -> bool:
        return self.problems > 0


EMPTY_SUMMARY = FindingsSummary((), (), 0, 0)


def summarise_findings(findings: Iterable[Finding], examples: int = 5) -> FindingsSummary:
    ordered = sort_findings(list(findings))
    by_kind: Counter[tuple[str, str]] = Counter((f.kind, f.severity) for f in ordered)
    counts = sorted(
        ((kind_label(kind), str(severity), n) for (kind, severity), n in by_kind.items()),
        key=lambda row: (_SEVERITY_RANK[Severity(row[1])], -row[2], row[0]),
    )
    return FindingsSummary(
        counts=tuple(counts),
        examples=tuple(f.message for f in ordered[:examples]),
        problems=sum(1 for f in ordered if f.severity != Severity.INFO),
        missing_captions=sum(1 for f in ordered if f.kind in _CAPTIONLESS),
    )


def findings_warning(summary: FindingsSummary) -> str:
    """One review line for the doctor's warnings and errors, or '' when there are none."""
    if not summary.problems:
        return ""
    counts = ", ".join(
        f"{label} ×{count}" for label, severity, count in summary.counts if severity != "info"
    )
    return f"Captions check: {plural(summary.problems, 'problem')} — {counts}."


def caption_callout(missing: int, images: int) -> str:
    """The sentence the captions step puts in bold above everything else, or ''."""
    if not missing:
        return ""
    if missing >= images:
        which = f"None of the {images} images has a caption."
    else:
        which = f"{missing} of the {images} images have no caption."
    return (
        f"{which} ComfyUI trains on captions and needs one for every "
        "image: write them on the Captions page (or auto-caption them), then press Re-check."
    )
