"""Fixtures for the dataset view-model tests: pictures generated in tmp_path with Pillow, and
in-memory `ImageEntry`s for model tests that need no disk at all."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from lora_studio.core.dataset.models import ImageEntry


def picture(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A picture whose perceptual hash differs from every other seed's (random blocks)."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(20, size[0] // 2), rng.randrange(20, size[1] // 2)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + w, y + h), fill=colour)
    return image


def write_picture(
    path: Path, seed: int, size: tuple[int, int] = (320, 240), caption: str | None = None
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    picture(seed, size).save(path, quality=90)
    if caption is not None:
        path.with_suffix(".txt").write_text(caption, encoding="utf-8")
    return path


@pytest.fixture
def draw() -> Callable[..., Path]:
    """`draw(path, seed, size=(320, 240), caption=None)` writes one generated picture."""
    return write_picture


@pytest.fixture
def make_dataset(tmp_path: Path) -> Callable[..., Path]:
    """`make_dataset(n, captions=True, name="ds")` → a flat folder of n distinct JPEGs."""

    def make(count: int, *, captions: bool = True, name: str = "ds") -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            caption = f"ohwx, tag{i % 3}, common" if captions else None
            write_picture(root / f"img_{i:03d}.jpg", seed=i, caption=caption)
        return root

    return make


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-io")
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


def _entry(
    name: str,
    *,
    width: int = 1024,
    height: int = 1024,
    caption: str | None = "ohwx, red",
    size: int = 1000,
    mtime_ns: int = 1_000_000_000,
    error: str | None = None,
    root: Path = Path("/data/set"),
) -> ImageEntry:
    """An in-memory entry (no file behind it) for model tests."""
    return ImageEntry(
        path=root / name,
        rel_path=name,
        folder="",
        concept=None,
        repeats=1,
        width=0 if error else width,
        height=0 if error else height,
        format=None if error else "JPEG",
        mode=None if error else "RGB",
        file_size=size,
        mtime_ns=mtime_ns,
        caption=caption,
        caption_encoding="utf-8" if caption is not None else None,
        error=error,
        error_kind="damaged" if error else None,
    )


@pytest.fixture
def make_entry() -> Callable[..., ImageEntry]:
    return _entry


@pytest.fixture(autouse=True)
def _gui_application(qapp):  # type: ignore[no-untyped-def]
    """Pixmaps need a QGuiApplication even in model tests."""
    return qapp


@pytest.fixture
def dataset_vm(executor, tmp_path):  # type: ignore[no-untyped-def]
    """`dataset_vm(bridge=None)` → a DatasetViewModel on the test executor, shut down afterwards.
    New datasets go to `tmp_path/datasets`."""
    from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel

    created: list[DatasetViewModel] = []

    def make(bridge=None, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("datasets_dir", tmp_path / "datasets")
        vm = DatasetViewModel(executor, bridge, **kwargs)
        created.append(vm)
        return vm

    yield make
    for vm in created:
        vm.shutdown()
