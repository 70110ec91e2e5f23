"""Re-attaching at start-up: a job submitted earlier is followed to the end; a job the server
forgot is marked Lost with the reason; a job another process follows is left to it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from lora_studio.core.config.training_config import config_from_dict
from lora_studio.core.jobs import Job, JobStatus, JobStore
from lora_studio.core.training.dataset_input import load_training_dataset
from lora_studio.core.training.job_lock import JobLock
from lora_studio.core.training.service import TrainingService
from tests.core.backends.comfy_helpers import FAST, config
from tests.e2e.test_cli_train_comfyui import make_dataset
from tests.fakes.earlier_session import submit_without_following
from tests.fakes.fake_comfyui import FakeComfyUI


def fast_factory(settings: dict[str, Any]):  # type: ignore[no-untyped-def]
    from lora_studio.core.backends.comfyui import ComfyUIBackend

    assert settings["kind"] == "comfyui"
    return ComfyUIBackend(settings["url"], options=FAST)


def submit_earlier(fake: FakeComfyUI, store: JobStore, folder: Path, steps: int) -> Job:
    make_dataset(folder)
    return submit_without_following(fake.url, folder, store, max_steps=steps)


def run_service(service: TrainingService, seconds: float = 20) -> list[Any]:
    async def go() -> list[Any]:
        try:
            results = service.reattach_unfinished()
            if service.tasks:
                await asyncio.wait_for(asyncio.gather(*service.tasks.values()), seconds)
            return results
        finally:
            await service.aclose()

    return asyncio.run(go())


def test_unfinished_job_is_followed_to_completion(tmp_path: Path) -> None:
    with (
        FakeComfyUI(tmp_path / "srv", steps_per_second=200) as fake,
        JobStore(tmp_path / "j.db") as store,
    ):
        job = submit_earlier(fake, store, tmp_path / "ds", steps=16)
        assert store.get(job.id).status is JobStatus.QUEUED
        assert store.get(job.id).backend_state["server"] == fake.url
        service = TrainingService(store, tmp_path / "out", backend_factory=fast_factory)
        results = run_service(service)
        assert [r.outcome for r in results] == ["following"]
        final = store.get(job.id)
        assert final.status is JobStatus.COMPLETED, final.error
        assert final.outputs and Path(final.outputs[0]).is_file()


def test_job_forgotten_by_a_restarted_server_is_marked_lost(tmp_path: Path) -> None:
    with (
        FakeComfyUI(tmp_path / "srv", steps_per_second=5) as fake,
        JobStore(tmp_path / "j.db") as store,
    ):
        job = submit_earlier(fake, store, tmp_path / "ds", steps=400)
        fake.restart()  # queue and history are gone
        notices: list[str] = []
        service = TrainingService(
            store, tmp_path / "out", backend_factory=fast_factory, notify=notices.append
        )
        run_service(service)
        final = store.get(job.id)
        assert final.status is JobStatus.LOST
        assert final.history[-1].message  # says why


def test_job_followed_by_another_process_is_left_alone(tmp_path: Path) -> None:
    with JobStore(tmp_path / "j.db") as store:
        job = store.add(Job(name="elsewhere", backend="comfyui", dataset_path=str(tmp_path)))
        other = JobLock(job.id, store.locks_dir)  # the lock another process would take
        assert other.acquire()
        try:
            service = TrainingService(store, tmp_path / "out", backend_factory=fast_factory)
            results = run_service(service)
        finally:
            other.release()
        assert [r.outcome for r in results] == ["followed_elsewhere"]
        assert store.get(job.id).status is JobStatus.QUEUED


def test_unknown_backend_kind_is_reported_not_crashed(tmp_path: Path) -> None:
    with JobStore(tmp_path / "j.db") as store:
        store.add(Job(name="mystery", backend="somewhere", dataset_path=str(tmp_path)))
        notices: list[str] = []
        service = TrainingService(store, tmp_path / "out", notify=notices.append)
        results = run_service(service)
        assert [r.outcome for r in results] == ["no_backend"]
        assert "somewhere" in notices[0]


def test_service_start_submits_and_follows_to_completion(tmp_path: Path) -> None:
    with (
        FakeComfyUI(tmp_path / "srv", steps_per_second=300) as fake,
        JobStore(tmp_path / "j.db") as store,
    ):
        folder = make_dataset(tmp_path / "ds", count=2)
        snapshot = config(max_steps=8)
        dataset = load_training_dataset(folder, config_from_dict(snapshot))
        seen: list[str] = []
        service = TrainingService(
            store,
            tmp_path / "out",
            backend_settings=[{"kind": "comfyui", "url": fake.url}],
            backend_factory=fast_factory,
        )

        async def go() -> Job:
            try:
                check = await service.check("comfyui")
                assert check.available, check.diagnosis
                job = Job(
                    name="gui job", backend="comfyui", dataset_path=str(folder), config=snapshot
                )
                stored = await service.start(
                    job, dataset, on_event=lambda jid, ev: seen.append(jid)
                )
                await asyncio.wait_for(service.tasks[stored.id], 20)
                return stored
            finally:
                await service.aclose()

        job = asyncio.run(go())
        final = store.get(job.id)
        assert final.status is JobStatus.COMPLETED and final.outputs
        assert seen and set(seen) == {job.id}


def test_two_jobs_with_the_same_output_name_keep_both_loras(tmp_path: Path) -> None:
    with (
        FakeComfyUI(tmp_path / "srv", steps_per_second=400) as fake,
        JobStore(tmp_path / "j.db") as store,
    ):
        folder = make_dataset(tmp_path / "ds", count=2)
        for _ in range(2):
            submit_without_following(fake.url, folder, store, max_steps=4, output_name="same")
        deadline = time.monotonic() + 20
        while (fake.pending or fake.running) and time.monotonic() < deadline:
            time.sleep(0.05)
        run_service(TrainingService(store, tmp_path / "out", backend_factory=fast_factory))
        outputs = sorted(Path(job.outputs[0]).name for job in store.list())
    assert outputs == ["same-2.safetensors", "same.safetensors"]
