"""Fixtures for captioning tests: a fake caption server per test and JPEGs with EXIF/GPS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.fakes.fake_caption_servers import FakeCaptionServer

GPS_IFD = 0x8825


def make_photo(path: Path, size: tuple[int, int] = (1600, 1200), seed: int = 0) -> Path:
    """A JPEG with camera EXIF, a GPS position and orientation 6 (rotated 90°)."""
    rng = np.random.default_rng(seed)
    field = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    image = Image.fromarray(field).resize(size, Image.Resampling.BILINEAR)
    exif = Image.Exif()
    exif[0x010F] = "FakeCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° CW to display
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=90, exif=exif.tobytes())
    return path


@pytest.fixture
def fake_server() -> Iterator[Callable[..., FakeCaptionServer]]:
    started: list[FakeCaptionServer] = []

    def make(**kwargs: Any) -> FakeCaptionServer:
        fake = FakeCaptionServer(**kwargs)
        fake.start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.stop()


@pytest.fixture
def photos(tmp_path: Path) -> Callable[[int], list[Path]]:
    def make(count: int, folder: str = "10_ohwx", size: tuple[int, int] = (640, 480)) -> list[Path]:
        return [
            make_photo(tmp_path / "ds" / folder / f"img{i:03d}.jpg", size, seed=i)
            for i in range(count)
        ]

    return make
