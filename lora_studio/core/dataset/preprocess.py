"""Core/dataset: preprocessing — write a training-ready copy of a dataset into another folder.

Each picture becomes exactly the size of its kohya bucket (or R×R with `buckets=False`), cut the
way the trainer would cut it (`buckets.BucketSelector`: scale to cover, centre crop), so a trainer
given the output finds every picture already in its bucket and does no resizing of its own:
- `draft` first: a JPEG decodes at the largest 1/2…1/8 scale that still covers the target
  (docs/architecture.md §4: ≈60 ms for 12 MP → 1024² on one core instead of ≈250 ms);
- EXIF orientation applied, transparency flattened on `background`, CMYK/16-bit/palette → RGB;
- one LANCZOS resample of just the kept region (`resize(box=…)`), then JPEG q95, PNG level 1 or
  WebP q95, written atomically.
Concept subfolders (`10_ohwx/`) are mirrored and captions are copied as UTF-8 beside their
picture. The dataset itself is never modified. Pictures run in a bounded pool of `workers` threads
(Pillow releases the GIL); a picture that cannot be read is reported and skipped; a full or
read-only output disk stops the run with a StorageError naming the file.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from lora_studio.core.atomic_io import (
    NameNotWritableError,
    atomic_write_bytes,
    atomic_write_text,
    clean_stale_temps,
)
from lora_studio.core.dataset.buckets import BucketAssignment, BucketSelector, BucketSettings, Size
from lora_studio.core.dataset.concurrency import CancelToken, ProgressCallback, run_parallel
from lora_studio.core.dataset.formats import describe_image_error, open_image
from lora_studio.core.dataset.imaging import (
    OUTPUT_FORMATS,
    WHITE,
    OutputFormat,
    Rgb,
    apply_orientation,
    encode,
    exif_orientation,
    to_rgb,
)
from lora_studio.core.dataset.models import DatasetScan, ImageEntry
from lora_studio.core.dataset.scan import scan_dataset
from lora_studio.core.errors import DatasetError

_EXTENSIONS: dict[OutputFormat, str] = {"jpg": ".jpg", "png": ".png", "webp": ".webp"}


@dataclass(frozen=True)
class PrepareOptions:
    resolution: int = 1024
    format: OutputFormat = "jpg"
    buckets: bool = True  # False: every picture becomes resolution × resolution
    min_bucket_reso: int = 256
    max_bucket_reso: int | None = None  # None: 2 × resolution
    background: Rgb = WHITE
    workers: int = 2

    def __post_init__(self) -> None:
        if self.format not in OUTPUT_FORMATS:
            raise DatasetError(f"Unknown output format {self.format!r}; use jpg, png or webp.")
        self.bucket_settings.resolutions()  # invalid sizes raise DatasetError now, not mid-run

    @property
    def bucket_settings(self) -> BucketSettings:
        return BucketSettings(
            self.resolution, self.min_bucket_reso, self.max_bucket_reso, enabled=self.buckets
        )


@dataclass(frozen=True)
class PreparedImage:
    source: Path
    destination: Path
    bucket: Size
    caption: Path | None


@dataclass(frozen=True)
class PrepareReport:
    out: Path
    written: tuple[PreparedImage, ...]
    failed: tuple[tuple[Path, str], ...]  # (source, sentence naming it)
    cancelled: bool = False


def prepare_image(
    path: Path, selector: BucketSelector, fmt: OutputFormat = "jpg", background: Rgb = WHITE
) -> tuple[bytes, BucketAssignment]:
    """Encode `path` cut to its bucket. DatasetError (naming the file) when it cannot be read."""
    try:
        with open_image(path) as image:
            orientation = exif_orientation(image)
            width, height = image.size
            turned = orientation in (5, 6, 7, 8)
            if turned:
                width, height = height, width
            assignment = selector.select(width, height)
            cover = assignment.resized
            image.draft("RGB", (cover[1], cover[0]) if turned else cover)
            frame = apply_orientation(to_rgb(image, background), orientation)
            # `draft` may have shrunk the picture: map the crop box into the decoded pixels.
            fx, fy = frame.width / width, frame.height / height
            left, top, right, bottom = assignment.crop
            result = frame.resize(
                assignment.bucket,
                Image.Resampling.LANCZOS,
                box=(left * fx, top * fy, right * fx, bottom * fy),
            )
    except Exception as exc:  # untrusted file: any decoder failure becomes a sentence
        raise DatasetError(describe_image_error(exc, path), detail=repr(exc)) from exc
    return encode(result, fmt), assignment


def prepare_dataset(
    dataset: Path,
    out: Path,
    options: PrepareOptions | None = None,
    *,
    scan: DatasetScan | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> PrepareReport:
    """Write every readable picture of `dataset`, bucket-sized, into `out` (module docstring)."""
    options = options or PrepareOptions()
    root = Path(dataset).expanduser().absolute()
    out = Path(out).expanduser().absolute()
    if out == root or root in out.parents:
        raise DatasetError(
            f"The output folder {out} is inside the dataset; trainers would see the prepared "
            "copies as more pictures. Choose a folder outside it."
        )
    scan = scan if scan is not None else scan_dataset(root, cancel=cancel)
    selector = BucketSelector(options.bucket_settings)
    failed: list[tuple[Path, str]] = [
        (e.path, e.error) for e in scan.entries if e.error is not None
    ]
    readable = [entry for entry in scan.entries if entry.ok]
    targets = _destinations(readable, out, options.format)
    for folder in {target.parent for target in targets}:
        clean_stale_temps(folder)  # what a killed earlier run left behind

    def work(index: int) -> PreparedImage | tuple[Path, str]:
        entry = readable[index]
        try:
            data, assignment = prepare_image(
                entry.path, selector, options.format, options.background
            )
        except DatasetError as exc:
            return (entry.path, exc.user_message)
        destination = targets[index]
        try:
            atomic_write_bytes(destination, data)  # StorageError (full disk) stops the whole run
            caption = None
            if entry.caption is not None:
                caption = destination.with_suffix(".txt")
                atomic_write_text(caption, entry.caption)
        except NameNotWritableError as exc:  # only this name: skip it, name it, go on
            with contextlib.suppress(OSError):
                destination.unlink()
            return (entry.path, exc.user_message)
        return PreparedImage(entry.path, destination, assignment.bucket, caption)

    result = run_parallel(
        work, list(range(len(readable))), workers=options.workers, cancel=cancel, progress=progress
    )
    written: list[PreparedImage] = []
    for outcome in result.results:
        if isinstance(outcome, PreparedImage):
            written.append(outcome)
        elif outcome is not None:
            failed.append(outcome)
    return PrepareReport(out, tuple(written), tuple(failed), result.cancelled)


def _destinations(entries: list[ImageEntry], out: Path, fmt: OutputFormat) -> list[Path]:
    """Mirror concept folders; `a.jpg` and `a.png` in one folder become `a.jpg` and `a_2.jpg`."""
    taken: set[tuple[str, str]] = set()
    paths: list[Path] = []
    for entry in entries:
        stem = os.path.splitext(entry.name)[0]
        candidate, number = stem, 2
        while (entry.folder, candidate.casefold()) in taken:
            candidate = f"{stem}_{number}"
            number += 1
        taken.add((entry.folder, candidate.casefold()))
        folder = out / entry.folder if entry.folder else out
        paths.append(folder / f"{candidate}{_EXTENSIONS[fmt]}")
    return paths
