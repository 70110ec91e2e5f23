"""Fixtures for the dataset view-model tests: pictures generated in tmp_path (tests/dataset_fixtures.py),
and in-memory `ImageEntry`s for model tests that need no disk at all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lora_studio.core.dataset.models import ImageEntry
from tests.dataset_fixtures import draw, executor, write_dataset

__all__ = ["draw", "executor"]  # shared fixtures pytest finds in this conftest


@pytest.fixture
def make_dataset(tmp_path: Path) -> Callable[..., Path]:
    """`make_dataset(n, captions=True, name="ds")` → a flat folder of n distinct JPEGs."""

    def make(count: int, *, captions: bool = True, name: str = "ds") -> Path:
        return write_dataset(
            tmp_path / name,
            count,
            caption_for=lambda i: f"ohwx, tag{i % 3}, common" if captions else None,
        )

    return make


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
