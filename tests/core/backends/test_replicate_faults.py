"""Fault injection against the fake Replicate API (docs/protocols.md §3.9, §7): throttling,
5xx while polling, a lost create reply (never a second training), crashes around the create
request, and the error bodies Replicate sends (401, 404, 413, 422)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from lora_studio.core.backends.base import CancelOutcome, CancelResult
from lora_studio.core.backends.replicate.backend import ReplicateBackend
from lora_studio.core.backends.replicate.upload import upload_dataset
from lora_studio.core.errors import BackendError, BackendUnavailableError
from lora_studio.core.jobs.events import Failed, Finished, JobEvent, StatusChanged
from lora_studio.core.jobs.status import JobStatus
from lora_studio.core.training.runner import typed_config
from tests.core.backends.replicate_helpers import (
    StandInJob,
    collect,
    flux_config,
    make_backend,
    make_dataset,
    run,
    with_backend,
)
from tests.fakes.fake_replicate import FakeReplicate


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    with FakeReplicate(starting_s=0.3) as server:
        server.add_model("alice/hero-lora")
        yield server


def creates(fake: FakeReplicate) -> int:
    return sum(1 for method, path, _ in fake.requests if method == "POST" and "trainings" in path)


def submit_and_follow(fake: FakeReplicate, job: StandInJob, tmp_path: Path) -> list[JobEvent]:
    async def scenario(backend: ReplicateBackend) -> list[JobEvent]:
        await backend.submit(job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state)
        return await collect(backend, job)

    return run(with_backend(make_backend(fake), scenario))


def test_throttled_requests_wait_as_told_and_go_through(
    fake: FakeReplicate, tmp_path: Path
) -> None:
    fake.faults.rate_limited = 2  # the model lookups of submit get 429 + Retry-After: 1
    began = time.monotonic()
    events = submit_and_follow(fake, StandInJob("t1", flux_config()), tmp_path)
    assert isinstance(events[-1], Finished)
    assert time.monotonic() - began >= 2.0  # Retry-After honoured, not a quick retry
    assert creates(fake) == 1


def test_throttled_upload_post_is_repeated(fake: FakeReplicate, tmp_path: Path) -> None:
    job = StandInJob("t2", flux_config())

    async def scenario(backend: ReplicateBackend) -> None:
        # Let the destination and version lookups through, throttle the upload.
        await backend.client.get_model(backend.trainer)
        fake.faults.rate_limited = 1
        await upload_dataset(backend.client, job.id, make_dataset(tmp_path / "ds"), resolution=1024)

    run(with_backend(make_backend(fake), scenario))
    uploads = [p for m, p, _ in fake.requests if m == "POST" and p == "/v1/files"]
    assert len(uploads) == 2 and len(fake.files) == 1  # 429 means "not processed": safe again


def test_server_errors_while_polling_are_ridden_out(fake: FakeReplicate, tmp_path: Path) -> None:
    job = StandInJob("t3", flux_config())

    async def scenario(backend: ReplicateBackend) -> list[JobEvent]:
        await backend.submit(job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state)
        fake.faults.get_errors = 7  # 503 and 500 answers in a row
        return await collect(backend, job)

    events = run(with_backend(make_backend(fake), scenario))
    assert isinstance(events[-1], Finished)
    assert fake.faults.get_errors == 0
    assert creates(fake) == 1


def test_connections_cut_mid_poll_never_start_a_second_training(
    fake: FakeReplicate, tmp_path: Path
) -> None:
    job = StandInJob("t3b", flux_config())

    async def scenario(backend: ReplicateBackend) -> list[JobEvent]:
        await backend.submit(job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state)
        fake.faults.drop_gets = 6  # more than one poll's retries: the follower backs off too
        return await collect(backend, job)

    events = run(with_backend(make_backend(fake), scenario))
    assert isinstance(events[-1], Finished)
    assert fake.faults.drop_gets == 0
    assert creates(fake) == 1 and len(fake.trainings) == 1


def test_a_server_that_stays_broken_leaves_the_job_kept(
    fake: FakeReplicate, tmp_path: Path
) -> None:
    job = StandInJob("t4", flux_config())

    async def scenario(backend: ReplicateBackend) -> None:
        await backend.submit(job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state)
        fake.faults.get_errors = 10_000
        await collect(backend, job)

    with pytest.raises(BackendUnavailableError, match="has not answered") as caught:
        run(with_backend(make_backend(fake), scenario))
    assert "job is kept" in caught.value.user_message


def test_lost_create_reply_adopts_the_training_never_a_second(
    fake: FakeReplicate, tmp_path: Path
) -> None:
    fake.faults.drop_create_reply = 1
    job = StandInJob("t5", flux_config())
    events = submit_and_follow(fake, job, tmp_path)
    assert isinstance(events[-1], Finished)
    assert creates(fake) == 1 and len(fake.trainings) == 1
    assert job.backend_job_id == next(iter(fake.trainings))


def test_crash_after_the_create_request_is_resolved_on_reattach(
    fake: FakeReplicate, tmp_path: Path
) -> None:
    fake.faults.drop_create_reply = 1
    first = StandInJob("t6", flux_config())
    run(
        with_backend(
            make_backend(fake),
            lambda b: b.submit(
                first, typed_config(first), make_dataset(tmp_path / "ds"), first.save_state
            ),
        )
    )
    # What the store held when the process died between the request and its answer.
    creating = next(state for state, _ in first.saved if state["phase"] == "creating")
    assert creating["file_url"] and not creating["training_id"]
    again = StandInJob("t6", flux_config(), backend_state=dict(creating))
    events = run(with_backend(make_backend(fake), lambda b: collect(b, again)))
    assert isinstance(events[-1], Finished)
    assert again.backend_job_id == next(iter(fake.trainings))
    assert len(fake.trainings) == 1


def test_crash_before_anything_was_created_is_lost_with_a_reason(
    fake: FakeReplicate, tmp_path: Path
) -> None:
    job = StandInJob(
        "t7",
        flux_config(),
        backend_state={
            "server": fake.url,
            "trainer": "ostris/flux-dev-lora-trainer",
            "destination": "alice/hero-lora",
            "steps": 120,
            "sku": "gpu-h100",
            "phase": "creating",
            "file_url": f"{fake.url}/files/neverused",
        },
    )
    events = run(with_backend(make_backend(fake), lambda b: collect(b, job)))
    (end,) = events
    assert isinstance(end, StatusChanged) and end.status is JobStatus.LOST
    assert "nothing runs" in end.message


def test_invalid_token_is_one_sentence_without_the_token(fake: FakeReplicate) -> None:
    wrong = "r8_WrongToken99999999999999999999"
    check = run(with_backend(make_backend(fake, token=wrong), lambda b: b.check()))
    assert not check.available
    assert "HTTP 401" in check.diagnosis and "valid authentication token" in check.diagnosis
    assert wrong not in check.diagnosis and "r8_" not in check.diagnosis


def test_wrong_trainer_version_is_refused_without_retry(
    fake: FakeReplicate, tmp_path: Path
) -> None:
    job = StandInJob("t8", flux_config())
    backend = make_backend(fake, trainer_version="0" * 64)
    with pytest.raises(BackendError, match="HTTP 422") as caught:
        run(
            with_backend(
                backend,
                lambda b: b.submit(
                    job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state
                ),
            )
        )
    assert "does not exist" in caught.value.user_message
    assert creates(fake) == 1 and not fake.trainings
    assert job.backend_state["phase"] == "uploading"  # definitely not created


def test_destination_deleted_meanwhile_is_a_404_with_the_reason(
    fake: FakeReplicate, tmp_path: Path
) -> None:
    job = StandInJob("t9", flux_config())

    async def scenario(backend: ReplicateBackend) -> None:
        original = backend.client.get_model

        async def vanished(ref):  # type: ignore[no-untyped-def]
            found = await original(ref)
            if str(ref) == "alice/hero-lora":
                fake.models.pop("alice/hero-lora", None)  # deleted right after the check
            return found

        backend.client.get_model = vanished  # type: ignore[method-assign]
        await backend.submit(job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state)

    with pytest.raises(BackendError, match="training destination does not exist"):
        run(with_backend(make_backend(fake), scenario))
    assert not fake.trainings


def test_too_large_upload_says_100_mb(fake: FakeReplicate, tmp_path: Path) -> None:
    fake.faults.file_limit = 500  # bytes: any zip is "too large"
    job = StandInJob("t10", flux_config())
    with pytest.raises(BackendError, match="100 MB"):
        run(
            with_backend(
                make_backend(fake),
                lambda b: b.submit(
                    job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state
                ),
            )
        )
    assert not fake.trainings


def test_failed_validation_inside_the_training(fake: FakeReplicate, tmp_path: Path) -> None:
    job = StandInJob("t11", flux_config())

    async def scenario(backend: ReplicateBackend) -> list[JobEvent]:
        await backend.submit(job, typed_config(job), make_dataset(tmp_path / "ds"), job.save_state)
        fake.files.clear()  # the file expired before the worker fetched it
        return await collect(backend, job)

    events = run(with_backend(make_backend(fake), scenario))
    end = events[-1]
    assert isinstance(end, Failed)
    assert "failed validation" in end.message and "re-upload" in end.message


def test_cancel_while_the_create_request_is_on_its_way(fake: FakeReplicate, tmp_path: Path) -> None:
    fake.faults.slow_create = 0.5
    job = StandInJob("t12", flux_config())

    async def scenario(backend: ReplicateBackend) -> tuple[CancelResult, list[JobEvent]]:
        creating = asyncio.Event()

        async def save_state(state: Mapping[str, Any], backend_job_id: str | None) -> None:
            await job.save_state(state, backend_job_id)
            if state.get("phase") == "creating":
                creating.set()

        submitting = asyncio.ensure_future(
            backend.submit(job, typed_config(job), make_dataset(tmp_path / "ds"), save_state)
        )
        await creating.wait()
        result = await backend.cancel(job)
        await submitting
        return result, await collect(backend, job)

    result, events = run(with_backend(make_backend(fake), scenario))
    assert result.outcome is CancelOutcome.STOPPING and "as soon as" in result.message
    end = events[-1]
    assert isinstance(end, StatusChanged) and end.status is JobStatus.CANCELLED
    (training_id,) = fake.trainings
    assert fake.training_status(training_id) == "canceled"
