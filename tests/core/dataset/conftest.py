"""Fixtures for dataset tests: pictures generated with Pillow in tmp_path (none committed)."""

from __future__ import annotations

import struct
import zlib
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


@pytest.fixture(scope="session")
def pictures() -> Pictures:
    return Pictures()  # stateless, so module-scoped fixtures can use it too


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "dataset"
    folder.mkdir()
    return folder
