"""Fixtures for backend tests: a fake ComfyUI per test (stopped afterwards) and a dataset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lora_studio.core.backends.base import DatasetSummary
from tests.core.backends.comfy_helpers import make_dataset
from tests.fakes.fake_comfyui import FakeComfyUI


@pytest.fixture
def fake_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[FakeComfyUI] = []

    def make(**kwargs: Any) -> FakeComfyUI:
        fake = FakeComfyUI(tmp_path / f"comfy{len(started)}", **kwargs)
        fake.start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.stop()


@pytest.fixture
def fake(fake_factory: Any) -> FakeComfyUI:
    return fake_factory()


@pytest.fixture
def dataset(tmp_path: Path) -> DatasetSummary:
    return make_dataset(tmp_path / "dataset")
