"""Fixtures for the Dataset page tests: generated pictures (tests/dataset_fixtures.py), an executor and
a page built on a DatasetViewModel that is shut down after the test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.dataset_fixtures import draw, executor, write_dataset

__all__ = ["draw", "executor"]  # shared fixtures pytest finds in this conftest


@pytest.fixture
def make_dataset(tmp_path: Path) -> Callable[..., Path]:
    """`make_dataset(n)` → n JPEGs of five sizes; every fourth one has no caption."""

    def make(count: int, *, name: str = "ds", captions: bool = True) -> Path:
        return write_dataset(
            tmp_path / name,
            count,
            caption_for=lambda i: f"ohwx, tag{i % 3}" if captions and i % 4 else None,
            size_for=lambda i: (512 + 64 * (i % 5), 512),
        )

    return make


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
