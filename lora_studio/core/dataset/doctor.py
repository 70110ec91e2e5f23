"""Core/dataset: the dataset doctor — one report naming every problem file, with fixes.

`run_doctor` = scan (unless a scan is given) + `checks.quick_findings` (headers, captions, buckets;
milliseconds) + a decoding pass over every readable picture in a bounded thread pool. Decoding
uses JPEG `draft` at ≤1/8 scale: it still reads every byte, so truncated or damaged files fail, and
the small picture gives the perceptual hash for near-duplicate groups. Progress counts decoded
pictures; a cancel stops the pass and returns the findings gathered so far with `cancelled=True`.

Each near-duplicate group names the one picture to keep — the largest (pixels), then the sharpest
(variance of the Laplacian of the small decode), then the first by name — whose finding has no
fix; only the others carry "Move to trash", so "Fix all like this" keeps one per group.

The decode verdicts are remembered in the dataset's sidecar (`decode_check`), so a training
checks those pictures without decoding them again; a check without decoding (`--quick`) still
names the pictures a full check or a training found that do not decode.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from lora_studio.core.dataset.buckets import BucketPlan, plan_buckets
from lora_studio.core.dataset.checks import DoctorOptions, quick_findings
from lora_studio.core.dataset.concurrency import CancelToken, ProgressCallback, run_parallel
from lora_studio.core.dataset.decode_check import DecodeFailure, known_failures, record_verdicts
from lora_studio.core.dataset.findings import Finding, Fix, Kind, Severity, sort_findings
from lora_studio.core.dataset.formats import describe_image_error, error_kind, open_image
from lora_studio.core.dataset.imaging import apply_orientation, exif_orientation, to_display
from lora_studio.core.dataset.models import DatasetScan
from lora_studio.core.dataset.phash import group_near_duplicates, phash
from lora_studio.core.dataset.scan import scan_dataset

_HASH_SOURCE = 64  # decode to ≥64 px: plenty for a 32×32 pHash, cheap for any size
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA"})


@dataclass(frozen=True, slots=True)
class PixelCheck:
    """The outcome of decoding one picture."""

    path: Path
    phash: int | None
    error_kind: str | None = None
    message: str | None = None
    opaque: bool | None = None  # has an alpha channel, but no pixel is transparent
    pixels: int = 0  # width × height of the full picture
    sharpness: float = 0.0  # variance of the Laplacian of the small greyscale decode


def inspect_pixels(path: Path) -> PixelCheck:
    """Decode `path` (reduced) and hash it; a failure is described, never raised."""
    try:
        with open_image(path) as image:
            orientation = exif_orientation(image)
            pixels = image.width * image.height
            image.draft("RGB", (_HASH_SOURCE, _HASH_SOURCE))
            image.load()  # reads every byte: truncation and corrupt data surface here
            opaque = None
            if image.mode in _ALPHA_MODES:
                # Many exporters save RGBA with every pixel opaque; that alpha is harmless.
                opaque = image.getchannel("A").getextrema()[0] == 255
            small = to_display(image)  # 16-bit greyscale scaled, not clipped to white
            small.thumbnail((_HASH_SOURCE, _HASH_SOURCE), Image.Resampling.BILINEAR)
            return PixelCheck(
                path,
                phash(apply_orientation(small, orientation)),
                opaque=opaque,
                pixels=pixels,
                sharpness=_sharpness(small),
            )
    except Exception as exc:  # untrusted bytes: every decoder failure becomes a finding
        return PixelCheck(path, None, error_kind(exc), describe_image_error(exc, path))


def _sharpness(image: Image.Image) -> float:
    """Variance of the 4-neighbour Laplacian: a blurred or soft copy scores lower."""
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        return 0.0
    lap = grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4 * grey[1:-1, 1:-1]
    return float(lap.var())


@dataclass(frozen=True)
class DoctorReport:
    """Findings sorted errors-first, the bucket plan, and near-duplicate groups (paths)."""

    scan: DatasetScan
    findings: tuple[Finding, ...]
    buckets: BucketPlan
    duplicate_groups: tuple[tuple[Path, ...], ...]
    cancelled: bool = False

    def for_path(self, path: Path) -> list[Finding]:
        return [finding for finding in self.findings if finding.path == Path(path)]

    def by_path(self) -> dict[Path, list[Finding]]:
        """Findings grouped per file (for badges: one dictionary lookup per grid row)."""
        grouped: dict[Path, list[Finding]] = {}
        for finding in self.findings:
            grouped.setdefault(finding.path, []).append(finding)
        return grouped

    def counts(self) -> dict[Severity, int]:
        counts = dict.fromkeys(Severity, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts


def run_doctor(
    dataset: Path | DatasetScan,
    options: DoctorOptions | None = None,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> DoctorReport:
    """Examine a dataset folder (or an existing scan of it). See the module docstring.

    Cancelling during the scan (only when a folder is given) raises CancelledByUserError; cancelling
    during the decoding pass returns the report so far with `cancelled=True`."""
    options = options or DoctorOptions()
    scan = dataset if isinstance(dataset, DatasetScan) else scan_dataset(dataset, cancel=cancel)
    plan = plan_buckets(scan.entries, options.bucket_settings)
    findings = quick_findings(scan, options, plan)
    groups: list[tuple[Path, ...]] = []
    cancelled = False
    if options.check_pixels:
        readable = [entry.path for entry in scan.entries if entry.ok]
        result = run_parallel(
            inspect_pixels, readable, workers=options.workers, cancel=cancel, progress=progress
        )
        cancelled = result.cancelled
        checks = [check for check in result.results if check is not None]
        opaque = {check.path for check in checks if check.opaque}
        findings = [f for f in findings if not (f.kind == Kind.ALPHA and f.path in opaque)]
        findings.extend(_decode_findings(checks))
        record_verdicts(scan.root, [(check.path, _as_failure(check)) for check in checks])
        if options.duplicate_distance > 0:
            groups = _near_duplicates(checks, options.duplicate_distance)
            findings.extend(_duplicate_findings(groups, checks))
    else:
        readable = [entry.path for entry in scan.entries if entry.ok]
        findings.extend(_decode_findings(_as_checks(known_failures(scan.root, readable))))
    return DoctorReport(scan, tuple(sort_findings(findings)), plan, tuple(groups), cancelled)


def _as_failure(check: PixelCheck) -> DecodeFailure | None:
    if check.message is None:
        return None
    return DecodeFailure(check.path, check.error_kind or Kind.DAMAGED, check.message)


def _as_checks(failures: list[DecodeFailure]) -> list[PixelCheck]:
    return [PixelCheck(f.path, None, f.kind, f.message) for f in failures]


def _decode_findings(checks: list[PixelCheck]) -> list[Finding]:
    found: list[Finding] = []
    for check in checks:
        if check.message is None:
            continue
        kind = check.error_kind or Kind.DAMAGED
        fix = None if kind == Kind.UNREADABLE else Fix.MOVE_TO_TRASH
        found.append(Finding(check.path, kind, Severity.ERROR, check.message, fix))
    return found


def _near_duplicates(checks: list[PixelCheck], max_distance: int) -> list[tuple[Path, ...]]:
    """Groups of near-duplicate paths, each sorted by name, the groups sorted by first name."""
    hashed = [check for check in checks if check.phash is not None]
    hashes = [check.phash for check in hashed if check.phash is not None]
    groups = group_near_duplicates(hashes, max_distance)
    return sorted(
        (
            tuple(sorted((hashed[i].path for i in members), key=lambda p: str(p).casefold()))
            for members in groups
        ),
        key=lambda group: str(group[0]).casefold(),
    )


def choose_keeper(group: tuple[Path, ...], checks: dict[Path, PixelCheck]) -> tuple[Path, str]:
    """The picture of a near-duplicate group to keep, and why (largest, then sharpest)."""

    def score(path: Path) -> tuple[int, float]:
        check = checks.get(path)
        return (check.pixels, check.sharpness) if check is not None else (0, 0.0)

    # max() keeps the first of equals, and the group is sorted by name: ties keep the first name.
    keeper = max(group, key=score)
    pixels, sharpness = score(keeper)
    rivals = [score(path) for path in group if path != keeper and score(path)[0] == pixels]
    if not rivals:
        reason = "the largest"
    elif all(rival_sharpness < sharpness for _, rival_sharpness in rivals):
        reason = "as large as any and the sharpest"
    else:
        reason = "the first by name; the copies look the same"
    return keeper, reason


def _duplicate_findings(
    groups: list[tuple[Path, ...]], checks: list[PixelCheck] | None = None
) -> list[Finding]:
    by_path = {check.path: check for check in checks or []}
    found: list[Finding] = []
    for number, group in enumerate(groups, start=1):
        keeper, reason = choose_keeper(group, by_path)
        for path in group:
            others = tuple(p for p in group if p != path)
            names = ", ".join(p.name for p in others[:5]) + (" …" if len(others) > 5 else "")
            if path == keeper:
                message = (
                    f"{path.name} is the one to keep of near-duplicate group {number} ({reason}); "
                    f"its copies {names} are offered for the trash."
                )
                fix = None
            else:
                message = (
                    f"{path.name} looks like a near-duplicate of {names} (group {number}); "
                    "duplicates make the LoRA over-learn them. "
                    f"{keeper.name} stays ({reason}); move this one to the trash."
                )
                fix = Fix.MOVE_TO_TRASH
            found.append(
                Finding(
                    path,
                    Kind.NEAR_DUPLICATE,
                    Severity.WARNING,
                    message,
                    fix,
                    group=number,
                    related=others,
                )
            )
    return found
