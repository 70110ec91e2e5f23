"""Re-attach after a restart: a Replicate job submitted by an earlier session (recorded, started,
never followed) is picked up by the training service at start-up and finished — the LoRA
downloaded and stamped, the billed cost recorded — without starting a second training."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from lora_studio.core.backends.registry import build_backend
from lora_studio.core.config.training_config import config_from_dict
from lora_studio.core.jobs import Job, JobStatus, JobStore
from lora_studio.core.training.dataset_input import load_training_dataset
from lora_studio.core.training.runner import JobRunner
from lora_studio.core.training.service import TrainingService
from lora_studio.core.weights import read_metadata
from tests.core.backends.replicate_helpers import flux_config
from tests.fakes.fake_replicate import FakeReplicate


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeReplicate]:
    with FakeReplicate(starting_s=0.3, steps_per_second=200.0) as server:
        server.add_model("alice/hero-lora")
        monkeypatch.setenv("REPLICATE_API_TOKEN", server.token)
        yield server


def test_the_service_finishes_a_job_an_earlier_session_started(
    fake: FakeReplicate, tmp_path: Path
) -> None:
    folder = tmp_path / "ds"
    folder.mkdir()
    for i in range(3):
        Image.new("RGB", (64, 64), (60 * i, 10, 10)).save(folder / f"{i}.png")
        (folder / f"{i}.txt").write_text(f"ohwx {i}", encoding="utf-8")
    settings = {
        "kind": "replicate",
        "url": fake.url,
        "destination": "alice/hero-lora",
        "poll_seconds": 0.05,
    }
    snapshot = flux_config(max_steps=60)

    async def earlier_session(store: JobStore) -> Job:
        dataset = load_training_dataset(folder, config_from_dict(snapshot))
        backend = build_backend(settings)
        try:
            job = Job(
                name="earlier", backend="replicate", dataset_path=str(folder), config=snapshot
            )
            return await JobRunner(store, backend).submit(job, dataset)
        finally:
            await backend.aclose()

    async def next_start(store: JobStore) -> Job | None:
        service = TrainingService(store, tmp_path / "out", backend_settings=[settings])
        try:
            (result,) = service.reattach_unfinished()
            assert result.outcome == "following"
            return await service.tasks[result.job_id]
        finally:
            await service.aclose()

    with JobStore(tmp_path / "jobs.db") as store:
        job = asyncio.run(earlier_session(store))
        assert store.get(job.id).backend_job_id == next(iter(fake.trainings))
        final = asyncio.run(asyncio.wait_for(next_start(store), 60))
    assert final is not None and final.status is JobStatus.COMPLETED
    (output,) = final.outputs
    assert Path(output).name == "hero.safetensors"
    assert read_metadata(Path(output))["lorastudio.job_id"] == job.id
    assert final.cost == pytest.approx(60 * 1.5 * 0.001525, abs=1e-3)
    assert len(fake.trainings) == 1 and not fake.host_auth_seen
