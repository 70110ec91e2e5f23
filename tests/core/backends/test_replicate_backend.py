"""ReplicateBackend against the fake Replicate API: a whole job, from the destination check to a
verified LoRA, and every terminal status."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lora_studio.core.backends.base import (
    BackendCheck,
    CancelOutcome,
    EffectiveSettings,
    TrainingBackend,
)
from lora_studio.core.backends.replicate.backend import ReplicateBackend
from lora_studio.core.errors import BackendError
from lora_studio.core.jobs.events import Failed, Finished, Log, Loss, Progress, StatusChanged
from lora_studio.core.jobs.status import JobStatus
from lora_studio.core.training.runner import typed_config
from lora_studio.core.weights import inspect_lora, read_header
from tests.core.backends.replicate_helpers import (
    StandInJob,
    collect,
    flux_config,
    make_backend,
    make_dataset,
    run,
    with_backend,
)
from tests.fakes.fake_replicate import TRAINER_VERSION, FakeReplicate


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    with FakeReplicate() as server:
        server.add_model("alice/hero-lora")
        yield server


def test_a_whole_training_lands_a_verified_lora(fake: FakeReplicate, tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path / "ds")
    job = StandInJob("job1", flux_config())

    async def scenario():  # type: ignore[no-untyped-def]
        backend = make_backend(fake)
        try:
            check = await backend.check()
            await backend.submit(job, typed_config(job), dataset, job.save_state)
            events = await collect(backend, job)
            files = await backend.download(job, typed_config(job), tmp_path / "out")
            return check, events, files
        finally:
            await backend.aclose()

    check, events, files = run(scenario())
    assert isinstance(make_backend(fake), TrainingBackend)  # the whole protocol, structurally
    assert check.available, check.diagnosis
    assert "alice" in check.diagnosis and TRAINER_VERSION[:12] in check.diagnosis
    assert check.vram_gb == 80.0 and "H100" in (check.gpu_name or "")
    # State went to the store before the create request: the training id came after a
    # `creating` record holding the marker.
    phases = [(s["phase"], bool(s["file_url"]), tid) for s, tid in job.saved]
    creating = phases.index(("creating", True, None))
    assert phases[creating + 1][0] == "created" and phases[creating + 1][2]
    assert job.backend_job_id == job.backend_state["training_id"]
    assert len(fake.trainings) == 1
    training = next(iter(fake.trainings.values()))
    assert training.input["steps"] == 120 and training.input["lora_rank"] == 16
    assert training.input["resolution"] == "512,768,1024"
    assert training.input["optimizer"] == "adamw8bit"
    assert training.input["trigger_word"] == "ohwx" and training.input["autocaption"] is False
    assert training.dataset is not None and len(training.dataset.images) == 4
    assert training.dataset.captioned == set(training.dataset.images)

    assert isinstance(events[-1], Finished)
    assert any(isinstance(e, StatusChanged) and e.status is JobStatus.RUNNING for e in events)
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress[-1].step == 120 and progress[-1].total == 120
    assert all(p.total == 120 for p in progress)  # the 0/2 bar of another phase is ignored
    losses = [e for e in events if isinstance(e, Loss)]
    assert len(losses) == 120 and [loss.step for loss in losses] == list(range(1, 121))
    logs = [e.text for e in events if isinstance(e, Log)]
    assert any("waiting for a GPU" in text for text in logs)
    assert any("Starting train job" in text for text in logs)
    assert any("billed 180 s of gpu-h100" in text for text in logs)
    assert job.backend_state["cost_usd"] == pytest.approx(180 * 0.001525, abs=1e-4)

    (lora,) = files
    assert lora == tmp_path / "out" / "hero.safetensors"
    header = read_header(lora)
    assert len(header.tensors) == 8
    info = inspect_lora(lora)
    assert info.rank.most_common == 16
    umask = os.umask(0o022)
    os.umask(umask)
    assert lora.stat().st_mode & 0o777 == 0o666 & ~umask & 0o644  # like any file the user makes
    assert not fake.host_auth_seen and fake.host_requests  # fetched, and never with the token
    assert not list((tmp_path / "out").glob(".~ls*"))  # no temp folder left


def test_effective_settings_tell_what_the_trainer_ran(fake: FakeReplicate, tmp_path: Path) -> None:
    job = StandInJob("job2", flux_config(alpha=8, optimizer="AdamW", seed=1234))

    async def scenario(backend: ReplicateBackend) -> EffectiveSettings:
        await backend.submit(job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state)
        return backend.effective_settings(job, typed_config(job))

    effective = run(with_backend(make_backend(fake), scenario))
    assert effective.alpha == 16.0  # alpha = rank on this trainer, whatever the config said
    assert effective.optimizer == "adamw" and effective.mixed_precision == "bf16"
    assert effective.extra["ss_seed"] == "unknown"
    assert effective.extra["lorastudio.replicate.training_id"] == job.backend_job_id


def test_failed_training_says_why(fake: FakeReplicate, tmp_path: Path) -> None:
    fake.faults.fail_with = "CUDA out of memory. Tried to allocate 2.00 GiB"
    job = StandInJob("job3", flux_config())

    async def scenario():  # type: ignore[no-untyped-def]
        backend = make_backend(fake)
        try:
            await backend.submit(
                job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state
            )
            return await collect(backend, job)
        finally:
            await backend.aclose()

    events = run(scenario())
    end = events[-1]
    assert isinstance(end, Failed)
    assert "out of memory" in end.message and "batch size" in end.message
    assert job.backend_state["billed_seconds"] == 40 * 1.5  # failed runs are billed too


def test_aborted_training_is_a_failure_with_a_reason(fake: FakeReplicate, tmp_path: Path) -> None:
    fake.faults.abort = True
    job = StandInJob("job4", flux_config())

    async def scenario():  # type: ignore[no-untyped-def]
        backend = make_backend(fake)
        try:
            await backend.submit(
                job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state
            )
            return await collect(backend, job)
        finally:
            await backend.aclose()

    events = run(scenario())
    assert isinstance(events[-1], Failed) and "aborted" in events[-1].message
    assert job.backend_state["cost_usd"] == 0.0


def test_cancel_stops_the_training(fake: FakeReplicate, tmp_path: Path) -> None:
    fake.steps_per_second = 20.0
    job = StandInJob("job5", flux_config(max_steps=2000))

    async def scenario():  # type: ignore[no-untyped-def]
        import asyncio

        backend = make_backend(fake)
        try:
            await backend.submit(
                job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state
            )
            events = []
            async for event in backend.events(job, typed_config(job), job.save_state):
                events.append(event)
                started = isinstance(event, Progress) and event.step >= 5
                if started and not job.backend_state.get("cancel_requested"):
                    result = await backend.cancel(job)
                    assert result.outcome is CancelOutcome.STOPPING, result
            again = await backend.cancel(job)
            await asyncio.sleep(0)
            return events, again
        finally:
            await backend.aclose()

    events, again = run(scenario())
    end = events[-1]
    assert isinstance(end, StatusChanged) and end.status is JobStatus.CANCELLED
    assert again.outcome is CancelOutcome.STOPPED  # the second cancel finds it cancelled
    assert fake.training_status(job.backend_job_id or "") == "canceled"


def test_missing_destination_without_consent_is_a_clear_error(
    fake: FakeReplicate, tmp_path: Path
) -> None:
    job = StandInJob("job6", flux_config())

    async def scenario(backend: ReplicateBackend) -> BackendCheck:
        check = await backend.check()
        with pytest.raises(BackendError, match="does not exist"):
            await backend.submit(
                job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state
            )
        return check

    check = run(with_backend(make_backend(fake, destination="alice/new-model"), scenario))
    assert not check.available and "--create-destination" in check.diagnosis
    assert not fake.trainings and not fake.files  # nothing uploaded before the refusal


def test_missing_destination_is_created_with_consent(fake: FakeReplicate, tmp_path: Path) -> None:
    job = StandInJob("job7", flux_config())

    async def scenario(backend: ReplicateBackend) -> BackendCheck:
        check = await backend.check()
        await backend.submit(job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state)
        return check

    backend = make_backend(fake, destination="alice/new-model", create_destination=True)
    check = run(with_backend(backend, scenario))
    assert check.available and any("will be created" in w for w in check.warnings)
    assert fake.created_models == [
        {
            "owner": "alice",
            "name": "new-model",
            "visibility": "private",
            "hardware": "gpu-t4",
            "description": "LoRA trained with LoRA Studio",
        }
    ]
    assert len(fake.trainings) == 1


def test_the_token_never_appears_in_records(fake: FakeReplicate, tmp_path: Path) -> None:
    job = StandInJob("job8", flux_config())

    async def scenario(backend: ReplicateBackend) -> None:
        await backend.submit(job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state)
        await collect(backend, job)

    run(with_backend(make_backend(fake), scenario))
    assert fake.token not in json.dumps(job.saved)
    assert fake.token not in json.dumps(job.backend_state)


def test_plain_http_to_another_machine_is_refused() -> None:
    from lora_studio.core.backends.http import RetryPolicy, Timeouts
    from lora_studio.core.backends.replicate.weights import file_host_client
    from lora_studio.core.errors import ConfigError

    with pytest.raises(ConfigError, match="plain http://"):
        ReplicateBackend("http://api.example.org/v1", headers={"Authorization": "Bearer r8_x"})
    # Weights offered over plain http by another host are not fetched either.
    with pytest.raises(ConfigError, match="plain http://"):
        file_host_client(
            "http://delivery.example.org/x/trained_model.tar",
            allow_insecure_http=False,
            timeouts=Timeouts(),
            retry=RetryPolicy(),
        )
    with pytest.raises(ConfigError, match="OWNER/NAME"):
        ReplicateBackend(destination="no-slash")
    with pytest.raises(ConfigError, match="No price is known"):
        ReplicateBackend(sku="gpu-quantum")
