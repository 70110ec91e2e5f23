"""Core/Replicate: pack a dataset into the flat zip the Flux trainer reads (docs/protocols.md §3.6).

The trainer extracts `input_images` and pairs each image with the `.txt` of the same base name;
nested folders are not known to work, so the zip is flat: `0001_<stem>.<ext>` + `0001_<stem>.txt`
(numbered so images of different sub-folders never collide, the stem kept so the trainer's log
lines still name the artist's files). An image without a caption gets no `.txt`.

Size: Replicate's files API takes less than 100 MB (§3.3). Originals are packed as they are when
they fit (JPEG, PNG, WebP; other formats and transparent images become JPEG). When they do not fit,
every image is re-encoded as JPEG at decreasing sizes — but never below the training resolution,
so the trainer still gets the pixels it trains on; a dataset that is too big even then is refused
with the numbers. Blocking work: run `build_dataset_zip` in a worker thread.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from lora_studio.core.backends.base import DatasetItem
from lora_studio.core.dataset.formats import TooManyPixelsError, open_image
from lora_studio.core.errors import DatasetError, StorageError

MAX_UPLOAD_BYTES = 100 * 1000 * 1000  # "Files must be less than 100MB"; decimal to be safe
_HEADROOM = 2 * 1024 * 1024  # zip headers and captions
_PASS_THROUGH = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
# (longest side, JPEG quality) tried in order once the originals are too big.
_LEVELS = ((2048, 95), (1536, 93), (1024, 92), (1024, 85))
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # reproducible zips

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ZipReport:
    path: Path
    images: int
    captions: int
    size: int
    downscaled_to: int | None  # longest side after re-encoding, None when originals were kept


def flat_stem(index: int, image: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", image.stem).strip("_")[:60] or "image"
    return f"{index:04d}_{stem}"


def _load_rgb(path: Path, max_side: int | None) -> Image.Image:
    with open_image(path) as opened:
        if max_side:
            opened.draft("RGB", (max_side, max_side))  # fast JPEG downscale while decoding
        image = ImageOps.exif_transpose(opened)
        if image.mode in ("RGBA", "LA", "P", "PA"):
            image = image.convert("RGBA")
            background = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, image)
        image = image.convert("RGB")
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def _jpeg(path: Path, max_side: int | None, quality: int) -> bytes:
    buffer = io.BytesIO()
    _load_rgb(path, max_side).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _original(path: Path) -> tuple[bytes, str]:
    """The file's own bytes when the trainer reads its format as is, else a JPEG."""
    with open_image(path) as opened:
        kind, transparent = (
            opened.format,
            opened.mode in ("RGBA", "LA", "PA")
            or (opened.mode == "P" and "transparency" in opened.info),
        )
    ext = _PASS_THROUGH.get(kind or "")
    if ext and not transparent:
        return path.read_bytes(), ext
    return _jpeg(path, None, 95), ".jpg"


def _encoded(
    items: tuple[DatasetItem, ...], level: tuple[int, int] | None, budget: int
) -> Iterator[tuple[DatasetItem, bytes, str] | None]:
    """Yield (item, bytes, ext) at `level`; stop early (None) once `budget` is exceeded."""
    total = 0
    for item in items:
        if level is None:
            data, ext = _original(item.image)
        else:
            data, ext = _jpeg(item.image, level[0], level[1]), ".jpg"
        total += len(data)
        if total > budget:
            yield None
            return
        yield item, data, ext


def build_dataset_zip(
    items: tuple[DatasetItem, ...],
    dest: Path,
    *,
    resolution: int,
    limit: int = MAX_UPLOAD_BYTES,
    on_progress: Progress | None = None,
) -> ZipReport:
    """Write the flat training zip to `dest`; DatasetError when it cannot fit under `limit`."""
    if not items:
        raise DatasetError("The dataset has no images to send to Replicate.")
    budget = limit - _HEADROOM
    original_bytes = sum(_size(item.image) for item in items)
    levels: list[tuple[int, int] | None] = [None] if original_bytes <= budget else []
    levels += [lvl for lvl in _LEVELS if lvl[0] >= resolution] or [(resolution, 85)]
    for level in levels:
        try:
            report = _write(items, dest, level, budget, on_progress)
        except (OSError, ValueError, Image.DecompressionBombError, TooManyPixelsError) as exc:
            dest.unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.errno is not None:
                # PIL's "cannot identify image file" is an OSError without an errno.
                raise StorageError(
                    f"Could not write the dataset zip in {dest.parent}: {exc.strerror or exc}."
                ) from exc
            raise DatasetError(f"An image of the dataset could not be read: {exc}") from exc
        if report is not None:
            return report
    dest.unlink(missing_ok=True)
    smallest = min(lvl[0] for lvl in levels if lvl is not None)
    raise DatasetError(
        f"The dataset is too large for Replicate even with every image re-encoded at {smallest} "
        f"px ({len(items)} images, {original_bytes / 1e6:.0f} MB as they are; the limit is "
        f"{limit / 1e6:.0f} MB per upload). Train on fewer images or split the dataset."
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise DatasetError(f"{path.name} cannot be read any more: {exc.strerror}.") from exc


def _write(
    items: tuple[DatasetItem, ...],
    dest: Path,
    level: tuple[int, int] | None,
    budget: int,
    on_progress: Progress | None,
) -> ZipReport | None:
    """One attempt at `level`; None (and a partial file to overwrite) when it does not fit."""
    captions = 0
    with zipfile.ZipFile(dest, "w") as archive:
        for index, entry in enumerate(_encoded(items, level, budget), start=1):
            if entry is None:
                return None
            item, data, ext = entry
            stem = flat_stem(index, item.image)
            archive.writestr(zipfile.ZipInfo(stem + ext, _FIXED_TIME), data)
            caption = item.caption.strip()
            if caption:
                info = zipfile.ZipInfo(stem + ".txt", _FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, caption.encode("utf-8"))
                captions += 1
            if on_progress is not None:
                on_progress(index, len(items))
    size = os.path.getsize(dest)
    return ZipReport(dest, len(items), captions, size, level[0] if level else None)
