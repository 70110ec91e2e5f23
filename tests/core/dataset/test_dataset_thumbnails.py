"""Thumbnails: bytes, orientation, odd modes, the disk cache and the bounded batch."""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image

from lora_studio.core.dataset import (
    CancelToken,
    ThumbnailCache,
    generate_thumbnails,
    make_thumbnail,
)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_thumbnail_is_bounded_jpeg_bytes(tmp_path: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    thumb = make_thumbnail(pictures.jpeg(tmp_path / "a.jpg", size=(1200, 600)))
    assert (thumb.format, thumb.width, thumb.height) == ("JPEG", 256, 128)
    assert decode(thumb.data).size == (256, 128)


def test_exif_rotation_is_applied(tmp_path: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    thumb = make_thumbnail(pictures.jpeg(tmp_path / "r.jpg", size=(400, 200), orientation=6))
    assert (thumb.width, thumb.height) == (128, 256)


def test_alpha_gives_png_and_16_bit_is_not_white(tmp_path: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    rgba = Image.new("RGBA", (300, 300), (255, 0, 0, 0))
    thumb = make_thumbnail(pictures.save(rgba, tmp_path / "a.png"))
    assert thumb.format == "PNG" and decode(thumb.data).mode == "RGBA"
    grey = Image.new("I;16", (64, 64), 32768)  # mid grey in 16 bits
    shown = decode(make_thumbnail(pictures.save(grey, tmp_path / "g.png")).data)
    assert 110 < shown.convert("L").getpixel((5, 5)) < 145  # type: ignore[operator]
    cmyk = make_thumbnail(pictures.jpeg(tmp_path / "c.jpg", mode="CMYK"))
    assert decode(cmyk.data).mode == "RGB"


def test_cache_hit_and_invalidation(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    image = pictures.jpeg(dataset / "a.jpg", size=(300, 300))
    cache = ThumbnailCache.for_dataset(dataset, dataset.parent / "user-cache")
    assert cache.directory == dataset / ".lorastudio" / "thumbnails"
    assert cache.get(image) is None
    first = cache.load(image)
    assert cache.get(image) == first
    pictures.jpeg(image, size=(300, 150), seed=9)
    os.utime(image, ns=(1, 1))  # a different mtime/size is a different key
    assert cache.get(image) is None and cache.load(image).height == 128
    entry = next(cache.directory.glob("*/*.thumb"))
    entry.write_bytes(entry.read_bytes()[:20])  # torn entry: rebuilt, not trusted
    assert cache.prune(max_bytes=0) >= 1 and not list(cache.directory.glob("*/*.thumb"))


def test_batch_progress_results_and_cancel(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    paths = [pictures.jpeg(dataset / f"{i}.jpg", size=(100, 80), seed=i) for i in range(12)]
    cache = ThumbnailCache.for_dataset(dataset, dataset.parent / "user-cache")
    seen: list[Path] = []
    progress: list[tuple[int, int]] = []
    report = generate_thumbnails(
        paths,
        cache,
        workers=2,
        progress=lambda d, t: progress.append((d, t)),
        on_result=lambda outcome: seen.append(outcome.path),
    )
    assert report.done == 12 and not report.failed and not report.cancelled
    assert sorted(seen) == sorted(paths) and progress[-1] == (12, 12)
    token = CancelToken()
    count: list[int] = []

    def cancel_after_three(outcome: object) -> None:
        count.append(1)
        if len(count) == 3:
            token.cancel()

    cancelled = generate_thumbnails(
        paths,
        ThumbnailCache(dataset / "other"),
        workers=2,
        cancel=token,
        on_result=cancel_after_three,
    )
    assert cancelled.cancelled and 3 <= cancelled.done < 12
