"""Backends receive the typed `TrainingConfig`: the runner validates the job record's JSON
snapshot once and passes the config to `submit`, `events`, `effective_settings` and `download`;
no backend reads the snapshot (`job.config`) itself, and a record that no longer validates is a
sentence naming the job."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import lora_studio.core.backends as backends
from lora_studio.core.backends.base import (
    BackendCheck,
    CancelOutcome,
    CancelResult,
    EffectiveSettings,
    TrainingBackend,
)
from lora_studio.core.backends.comfyui.backend import ComfyUIBackend
from lora_studio.core.backends.kohya.backend import KohyaBackend
from lora_studio.core.backends.replicate.backend import ReplicateBackend
from lora_studio.core.config.issues import InvalidConfigError
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.jobs import Finished, Job, JobEvent, JobStatus, JobStore, Progress
from lora_studio.core.training.dataset_input import load_training_dataset
from lora_studio.core.training.runner import JobRunner, typed_config
from tests.e2e.test_cli_train_comfyui import make_dataset

ROOT = Path(backends.__file__).parent


class RecordingBackend:
    """Remembers what each seam method received."""

    kind = "recording"

    def __init__(self) -> None:
        self.received: dict[str, Any] = {}

    async def check(self) -> BackendCheck:
        return BackendCheck(True, "ok")

    async def validate(self, config: TrainingConfig, dataset: Any) -> list[Any]:
        return []

    def estimate_cost(self, config: TrainingConfig, dataset: Any) -> float | None:
        return None

    async def submit(self, job: Any, config: Any, dataset: Any, save_state: Any) -> None:
        self.received["submit"] = config
        await save_state({"started": True}, "r-1")

    async def events(
        self, job: Any, config: Any, save_state: Any = None
    ) -> AsyncIterator[JobEvent]:
        self.received["events"] = config
        yield Progress(1, 1)
        yield Finished(())

    def effective_settings(self, job: Any, config: Any) -> EffectiveSettings:
        self.received["effective_settings"] = config
        return EffectiveSettings()

    async def cancel(self, job: Any) -> CancelResult:
        return CancelResult(CancelOutcome.STOPPED, "stopped")

    async def download(self, job: Any, config: Any, dest_dir: Path) -> list[Path]:
        self.received["download"] = config
        return []

    async def logs(self, job: Any) -> list[str]:
        return []

    async def aclose(self) -> None:
        return None


def test_the_runner_hands_every_seam_method_the_typed_config(tmp_path: Path) -> None:
    backend = RecordingBackend()
    assert isinstance(backend, TrainingBackend)
    config = TrainingConfig(
        base_model_family="sd15", base_model="m.safetensors", max_steps=3, output_name="hero"
    )
    folder = make_dataset(tmp_path / "data", count=2)
    dataset = load_training_dataset(folder, config)

    async def go() -> Job:
        runner = JobRunner(JobStore(tmp_path / "jobs.db"), backend, flush_interval_s=0.01)
        job = Job(name="hero", backend="recording", dataset_path=str(folder), config=config)
        job = await runner.submit(job, dataset)
        return await runner.follow(job, tmp_path / "out", dataset=dataset)

    final = asyncio.run(go())
    assert final.status is JobStatus.COMPLETED, final.error
    assert set(backend.received) == {"submit", "events", "effective_settings", "download"}
    for method, received in backend.received.items():
        assert isinstance(received, TrainingConfig), method
        assert received == config, method


@pytest.mark.parametrize("backend_class", [ComfyUIBackend, ReplicateBackend, KohyaBackend])
def test_each_backend_takes_the_config_beside_the_job(backend_class: type) -> None:
    for name in ("submit", "events", "effective_settings", "download"):
        parameters = list(inspect.signature(getattr(backend_class, name)).parameters)
        assert parameters[1:3] == ["job", "config"], (backend_class.__name__, name)


def test_no_backend_reads_the_jobs_json_snapshot() -> None:
    readers = sorted(
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if "job.config" in path.read_text(encoding="utf-8")
    )
    assert readers == []


def test_a_snapshot_that_no_longer_validates_names_the_job() -> None:
    job = Job(name="old", backend="comfyui", dataset_path="/d", config={"rank": "many"})
    with pytest.raises(InvalidConfigError, match=job.id):
        typed_config(job)
