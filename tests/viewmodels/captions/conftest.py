"""Fixtures for the Captions view-model tests: a generated dataset, an executor, and
`open_captions(root)` → (DatasetViewModel, CaptionsViewModel) with the dataset open and loaded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.dataset_fixtures import executor
from tests.fakes.caption_dataset import make_caption_dataset

__all__ = ["executor"]  # a shared fixture pytest finds in this conftest


@pytest.fixture
def caption_dataset(tmp_path: Path) -> Callable[..., Path]:
    def make(count: int = 8, name: str = "ds") -> Path:
        return make_caption_dataset(tmp_path / name, count)

    return make


@pytest.fixture
def open_captions(qtbot, qloop, executor):  # type: ignore[no-untyped-def]
    from lora_studio.viewmodels.captions.captions_vm import CaptionsViewModel
    from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel

    created = []

    def make(root: Path, *, autosave_delay_ms: int = 50):  # type: ignore[no-untyped-def]
        dataset = DatasetViewModel(executor, thumbnail_side=64)
        captions = CaptionsViewModel(dataset, executor, autosave_delay_ms=autosave_delay_ms)
        created.append((dataset, captions))
        with qtbot.waitSignal(captions.session.loaded_changed, timeout=10_000):
            dataset.open_folder(str(root))
        qtbot.waitUntil(lambda: not dataset.busy, timeout=10_000)
        return dataset, captions

    yield make
    for dataset, captions in created:
        captions.shutdown()
        dataset.shutdown()
