"""Core/dataset: thumbnails as encoded bytes, a disk cache, and a bounded parallel batch.

Recipe (docs/architecture.md §4): `Image.open` + `draft('RGB', (256, 256))` — JPEG decodes at 1/2…1/8
scale, which is most of the speed — + `thumbnail()` + EXIF orientation. ≈18 ms per 12 MP JPEG on
one core, ≈100/s with two threads. Results are plain `Thumbnail` values (JPEG bytes, or PNG when the
picture has transparency) that a view-model turns into a QImage on any thread.

Disk cache: one file per (absolute path, mtime_ns, file size, thumbnail size), named by a SHA-1 of
those, in the dataset's sidecar (`.lorastudio/thumbnails/`) so it travels with the project — or in
a fallback folder the caller passes (app.py: the user cache dir) when the dataset folder is
read-only. A changed file gets a new key; stale files
are removed by `prune`. Entries are written with a rename but no fsync: the cache is disposable and
a torn entry fails its length check and is rebuilt. All methods are thread-safe.

`ThumbnailCache.load(path)` is what a lazy grid calls from an executor per visible row;
`generate_thumbnails` fills the cache for a whole dataset with `workers` threads, cancellable.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import struct
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from lora_studio.core.dataset.concurrency import (
    DEFAULT_WORKERS,
    CancelToken,
    ProgressCallback,
    run_parallel,
)
from lora_studio.core.dataset.formats import describe_image_error, open_image
from lora_studio.core.dataset.imaging import (
    apply_orientation,
    exif_orientation,
    has_alpha,
    to_display,
)
from lora_studio.core.dataset.sidecar import Sidecar
from lora_studio.core.errors import DatasetError, StorageError

THUMBNAIL_SIZE = 256
_MAGIC = b"LST1"
_HEADER = struct.Struct("<4sHHBI")  # magic, width, height, format (0 JPEG, 1 PNG), data length
_FORMATS = ("JPEG", "PNG")


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """An encoded thumbnail: `data` is a complete JPEG or PNG file of `width`×`height`."""

    data: bytes
    format: str  # "JPEG" or "PNG"
    width: int
    height: int


def make_thumbnail(path: Path, size: int = THUMBNAIL_SIZE) -> Thumbnail:
    """Decode `path` just enough for a `size`-bounded thumbnail. DatasetError names the file."""
    try:
        with open_image(Path(path)) as image:
            orientation = exif_orientation(image)
            image.draft("RGB", (size, size))
            frame: Image.Image = image
            if frame.mode not in ("RGB", "RGBA", "L"):
                frame = to_display(frame)  # palette/CMYK/16-bit: convert before resampling
            frame.thumbnail((size, size), Image.Resampling.BICUBIC)
            frame = apply_orientation(to_display(frame), orientation)
            # Encode inside the `with`: a picture already smaller than `size` is still the lazily
            # loaded file object, which needs its file open.
            buffer = io.BytesIO()
            fmt = "PNG" if has_alpha(frame) else "JPEG"
            if fmt == "PNG":
                frame.save(buffer, "PNG", compress_level=1)
            else:
                frame.save(buffer, "JPEG", quality=85)
    except Exception as exc:  # untrusted file: any decoder error becomes a sentence
        raise DatasetError(describe_image_error(exc, Path(path)), detail=repr(exc)) from exc
    return Thumbnail(buffer.getvalue(), fmt, frame.width, frame.height)


class ThumbnailCache:
    """Disk cache of thumbnails of one size (see the module docstring)."""

    def __init__(self, directory: Path, size: int = THUMBNAIL_SIZE) -> None:
        self.directory = Path(directory)
        self.size = size

    @classmethod
    def for_dataset(cls, root: Path, fallback: Path, size: int = THUMBNAIL_SIZE) -> ThumbnailCache:
        """The sidecar cache of `root`, or `fallback` (the caller's user cache folder) if the
        dataset is read-only."""
        sidecar = Sidecar(root)
        if sidecar.writable():
            try:
                sidecar.ensure()
                return cls(sidecar.thumbnails_dir, size)
            except StorageError:
                pass  # not writable after all (a read-only mount, even for root)
        return cls(fallback, size)

    def key(self, path: Path, stat: os.stat_result) -> str:
        raw = f"{Path(path).absolute()}\0{stat.st_mtime_ns}\0{stat.st_size}\0{self.size}"
        return hashlib.sha1(raw.encode("utf-8", "surrogateescape")).hexdigest()

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.thumb"

    def get(self, path: Path, stat: os.stat_result | None = None) -> Thumbnail | None:
        """The cached thumbnail of the file as it is now, or None."""
        try:
            stat = stat or os.stat(path)
            blob = self._file(self.key(path, stat)).read_bytes()
        except OSError:
            return None
        if len(blob) < _HEADER.size:
            return None
        magic, width, height, fmt, length = _HEADER.unpack_from(blob)
        if magic != _MAGIC or fmt >= len(_FORMATS) or len(blob) != _HEADER.size + length:
            return None  # torn or foreign file: rebuild
        return Thumbnail(blob[_HEADER.size :], _FORMATS[fmt], width, height)

    def put(self, path: Path, stat: os.stat_result, thumbnail: Thumbnail) -> None:
        """Store a thumbnail; failures (read-only, full disk) only cost a rebuild later."""
        target = self._file(self.key(path, stat))
        header = _HEADER.pack(
            _MAGIC,
            thumbnail.width,
            thumbnail.height,
            _FORMATS.index(thumbnail.format),
            len(thumbnail.data),
        )
        tmp_name: str | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".t", dir=target.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(header + thumbnail.data)
            os.replace(tmp_name, target)
            tmp_name = None
        except OSError:
            pass
        finally:
            if tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)

    def load(self, path: Path) -> Thumbnail:
        """Cached thumbnail, or make and cache it. DatasetError (naming the file) if unreadable."""
        try:
            stat = os.stat(path)
        except OSError as exc:
            raise DatasetError(describe_image_error(exc, Path(path)), detail=str(exc)) from exc
        cached = self.get(path, stat)
        if cached is not None:
            return cached
        thumbnail = make_thumbnail(path, self.size)
        self.put(path, stat, thumbnail)
        return thumbnail

    def prune(self, max_bytes: int = 1 << 30) -> int:
        """Delete least-recently-written entries until the cache holds ≤ `max_bytes`."""
        files: list[tuple[float, int, Path]] = []
        for file in self.directory.glob("*/*.thumb"):
            with contextlib.suppress(OSError):
                stat = file.stat()
                files.append((stat.st_mtime, stat.st_size, file))
        total = sum(size for _, size, _ in files)
        removed = 0
        for _, size, file in sorted(files):
            if total <= max_bytes:
                break
            with contextlib.suppress(OSError):
                file.unlink()
                total -= size
                removed += 1
        return removed


@dataclass(frozen=True)
class ThumbnailOutcome:
    path: Path
    thumbnail: Thumbnail | None
    error: str | None  # a sentence naming the file when it could not be read


@dataclass(frozen=True)
class ThumbnailBatchReport:
    done: int
    failed: tuple[tuple[Path, str], ...]
    cancelled: bool


def generate_thumbnails(
    image_paths: Sequence[Path],
    cache: ThumbnailCache,
    *,
    workers: int = DEFAULT_WORKERS,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
    on_result: Callable[[ThumbnailOutcome], None] | None = None,
) -> ThumbnailBatchReport:
    """Thumbnail every path (from the cache when fresh) with a bounded pool.

    `on_result` and `progress` run on the calling thread as each picture finishes.
    """

    def work(path: Path) -> ThumbnailOutcome:
        try:
            return ThumbnailOutcome(path, cache.load(path), None)
        except DatasetError as exc:
            return ThumbnailOutcome(path, None, exc.user_message)

    failed: list[tuple[Path, str]] = []

    def collect(_: int, outcome: ThumbnailOutcome) -> None:
        if outcome.error is not None:
            failed.append((outcome.path, outcome.error))
        if on_result is not None:
            on_result(outcome)

    result = run_parallel(
        work,
        list(image_paths),
        workers=workers,
        cancel=cancel,
        progress=progress,
        on_result=collect,
    )
    done = sum(1 for r in result.results if r is not None)
    return ThumbnailBatchReport(done, tuple(failed), result.cancelled)
