"""View-model support: the one place the dataset view-models call `lora_studio.core.dataset`.

The dataset core (scan, thumbnails, trash, buckets, doctor, fixes, import) is pure Python and is
called from executor threads; this module narrows it to what the page needs and turns results
into plain values the view-models can use without knowing the core's module layout. Every
function here may block (disk, Pillow) and must run in an executor, except those marked "cheap".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lora_studio.core.dataset.buckets import (
    BucketAssignment,
    BucketSelector,
    BucketSettings,
    describe_bucket,
    plan_buckets,
)
from lora_studio.core.dataset.captions import first_line
from lora_studio.core.dataset.checks import DoctorOptions
from lora_studio.core.dataset.concurrency import CancelToken, ProgressCallback
from lora_studio.core.dataset.decode_check import DecodeFailure, record_verdicts
from lora_studio.core.dataset.doctor import DoctorReport, run_doctor
from lora_studio.core.dataset.embedded_preview import embedded_preview
from lora_studio.core.dataset.findings import Finding, Fix, Kind, Severity, sort_findings
from lora_studio.core.dataset.fixes import FixOptions, FixReport, apply_fixes
from lora_studio.core.dataset.formats import error_kind
from lora_studio.core.dataset.importer import ImportReport, import_sources
from lora_studio.core.dataset.models import DatasetScan, ImageEntry, ScanProblem
from lora_studio.core.dataset.scan import scan_dataset
from lora_studio.core.dataset.sidecar import Sidecar
from lora_studio.core.dataset.thumbnails import THUMBNAIL_SIZE, ThumbnailCache, make_thumbnail
from lora_studio.core.dataset.trash import RestoreReport, Trash
from lora_studio.core.errors import LoraStudioError

__all__ = [
    "BucketAssignment",
    "CancelToken",
    "DatasetScan",
    "DoctorOptions",
    "DoctorReport",
    "Finding",
    "Fix",
    "FixReport",
    "ImageEntry",
    "ImportReport",
    "Kind",
    "LoraStudioError",
    "ProgressCallback",
    "RestoreReport",
    "ScanProblem",
    "Severity",
    "ThumbnailSource",
    "sort_findings",
]

PREVIEW_SIDE = 1024


# -- scanning ------------------------------------------------------------------------------------
def scan(
    root: Path, *, cancel: CancelToken | None = None, progress: ProgressCallback | None = None
) -> DatasetScan:
    """Scan a dataset folder (headers and captions only). Raises DatasetError."""
    return scan_dataset(root, cancel=cancel, progress=progress)


@dataclass(frozen=True)
class ProjectSettings:
    """What LoRA Studio remembers per dataset (in its sidecar manifest)."""

    resolution: int | None = None
    trigger_word: str | None = None


def load_project_settings(root: Path) -> ProjectSettings:
    """The dataset's saved settings; defaults when there are none or they cannot be read."""
    try:
        manifest = Sidecar(root).load_manifest()
    except LoraStudioError:
        return ProjectSettings()
    return ProjectSettings(manifest.resolution, manifest.trigger_word)


def save_project_settings(root: Path, settings: ProjectSettings) -> None:
    """Remember the settings in the dataset's sidecar. Raises StorageError (read-only folder)."""
    Sidecar(root).update_manifest(
        resolution=settings.resolution, trigger_word=settings.trigger_word or None
    )


def tags_of(caption: str) -> tuple[str, ...]:
    """Cheap. Comma-separated tags of the line kohya trains on, in order, without duplicates."""
    seen: dict[str, None] = {}
    for part in first_line(caption).split(","):
        tag = part.strip()
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)


def import_into(
    root: Path,
    sources: Sequence[Path],
    *,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Copy pictures (files, folders, zip archives, video frames) into the dataset. Problems with
    single files are in the report; a destination that cannot be written raises StorageError."""
    return import_sources(root, list(sources), cancel=cancel, progress=progress)


def import_problem_text(report: ImportReport, limit: int = 3) -> str:
    """Cheap. One paragraph naming the files that could not be imported, then those imported
    with a warning (truncated or damaged, as the doctor says), or ''."""
    parts = []
    for problems, one, several in (
        (report.failed, "could not be imported", "could not be imported"),
        (report.warnings, "was imported but needs a look", "were imported but need a look"),
    ):
        messages = [problem.message for problem in problems]
        if not messages:
            continue
        more = f" And {len(messages) - limit} more." if len(messages) > limit else ""
        count = len(messages)
        what = one if count == 1 else several
        parts.append(
            f"{count} file{'s' if count != 1 else ''} {what}: " + " ".join(messages[:limit]) + more
        )
    return " ".join(parts)


# -- thumbnails and previews -----------------------------------------------------------------------
class ThumbnailSource:
    """Thumbnails of one dataset from its disk cache (thread-safe; built in an executor)."""

    def __init__(self, root: Path, fallback: Path) -> None:
        self._root = Path(root)
        self._cache = ThumbnailCache.for_dataset(root, fallback)

    @property
    def directory(self) -> Path:
        return self._cache.directory

    def preview_bytes(self, path: Path, side: int = THUMBNAIL_SIZE) -> bytes | None:
        """A camera's embedded preview for a first paint at `side` pixels (the grid's cell in
        device pixels), when the real thumbnail is not cached yet (a cached one is as quick and
        better); None otherwise. The EXIF thumbnail (~0.2 ms) serves when it is at least `side`
        pixels, else the MPF large preview (4–12 ms): a 1× screen rarely needs the latter. Never
        larger than the real thumbnail that replaces it (the disk cache's size), which would
        look like a step back when it lands."""
        try:
            if self._cache.get(path) is not None:
                return None
        except OSError:
            return None
        found = embedded_preview(path, min(side, self._cache.size))
        return found[0] if found is not None else None

    def thumbnail_bytes(self, path: Path) -> tuple[bytes | None, str | None]:
        """Encoded thumbnail (from the cache or made now), or (None, sentence naming the file)."""
        try:
            return self._cache.load(path).data, None
        except LoraStudioError as exc:
            self._remember_failure(path, exc)
            return None, exc.user_message

    def _remember_failure(self, path: Path, exc: LoraStudioError) -> None:
        """A thumbnail that does not decode is a decode verdict: it goes into the dataset's
        verdict file, so the next open, the wizard's check and the CLI know the picture without
        decoding it again. `record_verdicts` skips transient failures (permissions, I/O), writes
        atomically and only when the verdict is new, and never raises (a read-only dataset just
        finds it again next time)."""
        cause = exc.__cause__
        if cause is None:
            return
        failure = DecodeFailure(Path(path), error_kind(cause), exc.user_message)
        record_verdicts(self._root, [(Path(path), failure)])


@dataclass(frozen=True)
class Preview:
    """A large preview: encoded bytes (JPEG/PNG) of the picture as displayed (EXIF applied)."""

    data: bytes
    width: int
    height: int


def load_preview(path: Path, side: int = PREVIEW_SIDE) -> Preview:
    """Decode `path` to a `side`-bounded preview. Raises DatasetError naming the file."""
    thumbnail = make_thumbnail(path, side)
    return Preview(thumbnail.data, thumbnail.width, thumbnail.height)


# -- buckets ---------------------------------------------------------------------------------------
def bucket_for(entry: ImageEntry, resolution: int) -> BucketAssignment | None:
    """Cheap. The bucket and crop kohya will use for `entry` at `resolution`, if it is readable."""
    if not entry.ok or entry.width <= 0 or entry.height <= 0:
        return None
    return BucketSelector(_bucket_settings(resolution)).select(entry.width, entry.height)


def bucket_counts(entries: Iterable[ImageEntry], resolution: int) -> list[tuple[str, int]]:
    """('1024×1024', pictures) per bucket, most populated first."""
    plan = plan_buckets(entries, _bucket_settings(resolution))
    rows = [(describe_bucket(size), len(paths)) for size, paths in plan.buckets.items()]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def _bucket_settings(resolution: int) -> BucketSettings:
    return BucketSettings(resolution=resolution)


# -- badges ----------------------------------------------------------------------------------------
# Finding kinds shown as a badge on the thumbnail (the doctor's checks decide; the grid only shows).
BADGE_OF_KIND: dict[str, str] = {
    Kind.EMPTY_FILE: "unreadable",
    Kind.NOT_AN_IMAGE: "unreadable",
    Kind.TRUNCATED: "unreadable",
    Kind.DAMAGED: "unreadable",
    Kind.UNREADABLE: "unreadable",
    Kind.DECOMPRESSION_BOMB: "unreadable",
    Kind.MISSING_CAPTION: "no_caption",
    Kind.EMPTY_CAPTION: "no_caption",
    Kind.TOO_SMALL: "too_small",
    Kind.EXTREME_ASPECT: "extreme_aspect",
    Kind.NEAR_DUPLICATE: "near_duplicate",
}


def doctor_options(
    resolution: int, trigger: str | None = None, batch_size: int = 1
) -> DoctorOptions:
    """Cheap. The doctor's options for what the artist chose on the page."""
    return DoctorOptions(resolution=resolution, trigger=trigger or None, batch_size=batch_size)


def quick_check(scan_result: DatasetScan, options: DoctorOptions) -> list[Finding]:
    """The checks that need no decoding (milliseconds for 10,000 pictures), sorted — with the
    pictures an earlier decode found damaged (the dataset's decode verdicts, written by the
    wizard's check, a full check or the thumbnail fill), as `lora-studio doctor --quick` names
    them: grid badge, doctor and statistics know them at once, before any thumbnail fails."""
    report = run_doctor(scan_result, replace(options, check_pixels=False))
    return list(report.findings)


def surviving_findings(findings: Iterable[Finding], scan_result: DatasetScan) -> list[Finding]:
    """Full-check findings that still hold after a rescan: the file is still there and, for a
    near-duplicate, at least one other member of its group is too."""
    present = {entry.path for entry in scan_result.entries}
    return [
        f
        for f in findings
        if f.path in present and (not f.related or any(p in present for p in f.related))
    ]


def badges_from_findings(findings: Iterable[Finding]) -> dict[Path, set[str]]:
    """Cheap. Badge names per picture for the findings that have a badge."""
    badges: dict[Path, set[str]] = {}
    for finding in findings:
        badge = BADGE_OF_KIND.get(finding.kind)
        if badge is not None:
            badges.setdefault(finding.path, set()).add(badge)
    return badges


# -- doctor ----------------------------------------------------------------------------------------
def full_check(
    scan_result: DatasetScan,
    options: DoctorOptions,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> DoctorReport:
    """Every check, decoding each picture (truncation, near-duplicates). Progress per picture."""
    return run_doctor(scan_result, options, cancel=cancel, progress=progress)


def fix_findings(
    root: Path,
    findings: Sequence[Finding],
    *,
    trigger: str | None = None,
    background: tuple[int, int, int] = (255, 255, 255),
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> FixReport:
    """Apply the findings' fixes; originals go to one trash batch (`report.trash_batch`)."""
    options = FixOptions(background=background, trigger=trigger or None)
    return apply_fixes(root, findings, options, cancel=cancel, progress=progress)


# -- trash -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrashOutcome:
    """What a delete did: the batch to undo, the pictures moved, and an error if it stopped."""

    batch_id: str | None
    moved: tuple[Path, ...]
    error: str | None


def move_to_trash(root: Path, paths: Sequence[Path], label: str = "deleted") -> TrashOutcome:
    """Move pictures and their captions into the project trash, one batch for all of them.

    A failure part-way (read-only file, full disk) still returns the batch of what was moved, so
    the grid can drop exactly those rows and undo can bring them back.
    """
    trash = Trash(root)
    try:
        batch = trash.move_to_trash(list(paths), label=label)
    except LoraStudioError as exc:
        batches = [b for b in trash.batches() if b.label == label]
        newest = batches[0] if batches else None
        moved = _moved_images(root, newest.items if newest else ())
        wanted = {Path(p).absolute() for p in paths}
        moved = tuple(p for p in moved if p in wanted)
        batch_id = newest.id if newest is not None and moved else None
        return TrashOutcome(batch_id, moved, exc.user_message)
    return TrashOutcome(batch.id, _moved_images(root, batch.items), None)


def restore(root: Path, batch_id: str, *, overwrite: bool = False) -> RestoreReport:
    """Put a trash batch back (`overwrite` reverts fixes that rewrote files). Raises
    StorageError/DatasetError naming the file."""
    return Trash(root).restore(batch_id, overwrite=overwrite)


def _moved_images(root: Path, items: Iterable[object]) -> tuple[Path, ...]:
    absolute = Path(root).absolute()
    moved = []
    for item in items:
        original = getattr(item, "original", "")
        if getattr(item, "kind", "") == "moved" and not original.lower().endswith(".txt"):
            moved.append(absolute / original)
    return tuple(moved)
