"""Fixtures for the Captions page tests: a generated dataset and `pages(root)` → the Captions page
and the Dataset page built on one DatasetViewModel + CaptionsViewModel (as app.py builds them),
with the dataset open and its captions loaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.dataset_fixtures import executor
from tests.fakes.caption_dataset import make_caption_dataset

__all__ = ["executor"]  # a shared fixture pytest finds in this conftest


@dataclass
class Pages:
    dataset_vm: Any
    captions_vm: Any
    captions_page: Any
    dataset_page: Any


@pytest.fixture
def caption_dataset(tmp_path: Path) -> Callable[..., Path]:
    def make(count: int = 8, name: str = "ds") -> Path:
        return make_caption_dataset(tmp_path / name, count)

    return make


@pytest.fixture
def pages(qtbot, qloop, executor):  # type: ignore[no-untyped-def]
    from lora_studio.viewmodels.captions.captions_vm import CaptionsViewModel
    from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel
    from lora_studio.views.pages.captions_page import CaptionsPage
    from lora_studio.views.pages.dataset_page import DatasetPage

    created: list[Pages] = []

    def make(root: Path | None, *, autosave_delay_ms: int = 50) -> Pages:
        dataset_vm = DatasetViewModel(executor, thumbnail_side=96)
        captions_vm = CaptionsViewModel(dataset_vm, executor, autosave_delay_ms=autosave_delay_ms)
        captions_page = CaptionsPage(captions_vm)
        dataset_page = DatasetPage(dataset_vm)
        for page in (captions_page, dataset_page):
            qtbot.addWidget(page)
            page.resize(1280, 800)
        captions_page.show()
        built = Pages(dataset_vm, captions_vm, captions_page, dataset_page)
        created.append(built)
        if root is not None:
            with qtbot.waitSignal(captions_vm.session.loaded_changed, timeout=10_000):
                dataset_vm.open_folder(str(root))
            qtbot.waitUntil(lambda: not dataset_vm.busy, timeout=10_000)
        return built

    yield make
    for built in created:
        built.captions_vm.shutdown()
        built.dataset_vm.shutdown()
