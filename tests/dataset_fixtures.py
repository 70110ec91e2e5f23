"""Shared by the dataset tests of every layer (core, view-models, views) and the captions tests:
pictures generated with Pillow in tmp_path (none committed), a dataset folder of them, and a small
I/O executor. A conftest takes what it needs with `from tests.dataset_fixtures import …`."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


class Pictures:
    """Makes small test pictures with distinct content (distinct perceptual hashes per seed)."""

    @staticmethod
    def content(size: tuple[int, int] = (64, 48), seed: int = 0, mode: str = "RGB") -> Image.Image:
        rng = np.random.default_rng(seed)
        blocks = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        image = Image.fromarray(blocks).resize(size, Image.Resampling.BILINEAR)
        return image if mode == "RGB" else image.convert(mode)

    def jpeg(
        self,
        path: Path,
        size: tuple[int, int] = (64, 48),
        seed: int = 0,
        orientation: int | None = None,
        mode: str = "RGB",
    ) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        image = self.content(size, seed, mode)
        kwargs: dict[str, object] = {"quality": 92}
        if orientation is not None:
            exif = Image.Exif()
            exif[0x0112] = orientation
            kwargs["exif"] = exif.tobytes()
        image.save(path, "JPEG", **kwargs)
        return path

    def png(
        self, path: Path, size: tuple[int, int] = (64, 48), seed: int = 0, mode: str = "RGB"
    ) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.content(size, seed).convert(mode).save(path, "PNG")
        return path

    def save(self, image: Image.Image, path: Path, **kwargs: object) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, **kwargs)
        return path

    @staticmethod
    def caption(image: Path, text: str, encoding: str = "utf-8") -> Path:
        path = image.with_suffix(".txt")
        path.write_bytes(text.encode(encoding))
        return path

    @staticmethod
    def png_bomb(path: Path, width: int = 100_000, height: int = 100_000) -> Path:
        """A tiny PNG whose header declares a gigantic picture (a decompression bomb)."""

        def chunk(kind: bytes, data: bytes) -> bytes:
            crc = zlib.crc32(kind + data) & 0xFFFFFFFF
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
        data += chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b"")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path


def write_picture(
    path: Path, seed: int, size: tuple[int, int] = (320, 240), caption: str | None = None
) -> Path:
    """A picture (format from the suffix) distinct per seed, with an optional same-stem caption."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Pictures.content(size, seed).save(path, quality=90)
    if caption is not None:
        path.with_suffix(".txt").write_text(caption, encoding="utf-8")
    return path


def write_dataset(
    root: Path,
    count: int,
    *,
    caption_for: Callable[[int], str | None],
    size_for: Callable[[int], tuple[int, int]] = lambda _i: (320, 240),
) -> Path:
    """A flat folder of `count` distinct JPEGs `img_000.jpg…`, captioned by `caption_for(i)`."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        write_picture(root / f"img_{i:03d}.jpg", i, size_for(i), caption_for(i))
    return root


@pytest.fixture(scope="session")
def pictures() -> Pictures:
    return Pictures()  # stateless, so module-scoped fixtures can use it too


@pytest.fixture
def draw() -> Callable[..., Path]:
    """`draw(path, seed, size=(320, 240), caption=None)` writes one generated picture."""
    return write_picture


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-io")
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


def truncate_to_half(path: Path) -> Path:
    """Cut a picture file to half its bytes: its header still reads, its pixels do not decode
    (an interrupted copy or download)."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def damage_png_idat(path: Path) -> Path:
    """Overwrite the second half of a PNG's first IDAT chunk with zeros (bad sectors, a broken
    transfer): the header reads, the compressed pixel data does not."""
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    middle = start + length // 2
    data[middle : start + length] = bytes(start + length - middle)
    path.write_bytes(bytes(data))
    return path
