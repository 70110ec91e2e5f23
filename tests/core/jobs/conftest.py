"""Fixtures for the jobs tests: a job store on a temporary file and a job factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lora_studio.core.jobs import Job, JobStore


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "jobs.sqlite3"


@pytest.fixture
def store(store_path: Path) -> Iterator[JobStore]:
    job_store = JobStore(store_path)
    try:
        yield job_store
    finally:
        job_store.close()


@pytest.fixture
def make_job(tmp_path: Path) -> Callable[..., Job]:
    def factory(**overrides: Any) -> Job:
        fields: dict[str, Any] = {
            "name": "Cat portraits",
            "backend": "kohya",
            "dataset_path": tmp_path / "dataset",
            "dataset_fingerprint": "ab" * 32,
            "config": {"rank": 16, "learning_rate": 1e-4, "class_tokens": "cat"},
            "preset": "SDXL character",
        }
        fields.update(overrides)
        return Job(**fields)

    return factory
