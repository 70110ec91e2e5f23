"""Fixtures for the Dataset page tests: generated pictures (Pillow, in tmp_path), an executor and
a page built on a DatasetViewModel that is shut down after the test."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageDraw


def write_picture(
    path: Path, seed: int, size: tuple[int, int] = (320, 240), caption: str | None = None
) -> Path:
    """A JPEG/PNG of random blocks (distinct per seed), with an optional same-stem caption."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(20, size[0] // 2), rng.randrange(20, size[1] // 2)
        draw.rectangle(
            (x, y, x + w, y + h), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256))
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=90)
    if caption is not None:
        path.with_suffix(".txt").write_text(caption, encoding="utf-8")
    return path


@pytest.fixture
def draw() -> Callable[..., Path]:
    return write_picture


@pytest.fixture
def make_dataset(tmp_path: Path) -> Callable[..., Path]:
    def make(count: int, *, name: str = "ds", captions: bool = True) -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            caption = f"ohwx, tag{i % 3}" if captions and i % 4 else None
            write_picture(root / f"img_{i:03d}.jpg", i, (512 + 64 * (i % 5), 512), caption)
        return root

    return make


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-io")
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def page_factory(qtbot, executor, tmp_path):  # type: ignore[no-untyped-def]
    """`page_factory()` → (DatasetPage, DatasetViewModel), shown at a desktop size."""
    from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel
    from lora_studio.views.pages.dataset_page import DatasetPage

    created = []

    def make():  # type: ignore[no-untyped-def]
        vm = DatasetViewModel(executor, datasets_dir=tmp_path / "datasets")
        page = DatasetPage(vm)
        qtbot.addWidget(page)
        page.resize(1280, 800)
        page.show()
        created.append(vm)
        return page, vm

    yield make
    for vm in created:
        vm.shutdown()
