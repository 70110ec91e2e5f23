"""Fixtures for dataset tests: pictures generated with Pillow in tmp_path (none committed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dataset_fixtures import Pictures, pictures

__all__ = ["Pictures", "dataset", "pictures"]  # fixtures pytest finds in this conftest


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "dataset"
    folder.mkdir()
    return folder
