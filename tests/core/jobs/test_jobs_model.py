"""Job ids, the Job record's validation and its status lifecycle."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from lora_studio.core.errors import JobError
from lora_studio.core.jobs import Job, JobStatus, is_safe_job_id, new_job_id, strip_secrets

ID_SHAPE = re.compile(r"^\d{8}-\d{6}-\d{3}-[a-z2-7]{6}$")


def test_ids_have_the_documented_shape_and_are_file_name_safe() -> None:
    job_id = new_job_id(datetime(2025, 3, 1, 14, 22, 33, 87_000, tzinfo=UTC))
    assert ID_SHAPE.match(job_id)
    assert job_id.startswith("20250301-142233-")
    assert is_safe_job_id(job_id)


def test_ids_sort_by_creation_even_within_one_millisecond() -> None:
    ids = [new_job_id() for _ in range(200)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_are_in_utc_whatever_zone_the_clock_gives() -> None:
    local = datetime(2030, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert new_job_id(local).startswith("20291231-230000-")


@pytest.mark.parametrize("bad", ["", "../etc", "a/b", ".hidden", "x" * 81, "a b", "C:"])
def test_unsafe_ids_are_rejected(bad: str, make_job: Callable[..., Job]) -> None:
    assert not is_safe_job_id(bad)
    with pytest.raises(ValidationError):
        make_job(id=bad)


def test_path_and_pydantic_config_are_snapshotted(make_job: Callable[..., Job]) -> None:
    class FakeTrainingConfig(BaseModel):
        rank: int = 8
        output: Path = Path("/out")

    job = make_job(dataset_path=Path("/data/cats"), config=FakeTrainingConfig())
    assert job.dataset_path == str(Path("/data/cats"))
    assert job.config == {"rank": 8, "output": str(Path("/out"))}


def test_non_json_config_is_refused_up_front(make_job: Callable[..., Job]) -> None:
    with pytest.raises(ValidationError, match="plain JSON"):
        make_job(config={"path": Path("/x")})


def test_naive_datetimes_are_refused_and_aware_ones_become_utc(
    make_job: Callable[..., Job],
) -> None:
    with pytest.raises(ValidationError):
        make_job(created_at=datetime(2025, 1, 1, 12, 0))
    job = make_job(created_at=datetime(2025, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5))))
    assert job.created_at == datetime(2025, 1, 1, 17, 0, tzinfo=UTC)
    assert job.created_at.utcoffset() == timedelta(0)


def test_secret_keys_are_stripped_but_training_keys_survive(make_job: Callable[..., Job]) -> None:
    state = {
        "prompt_ids": ["p1"],
        "token": "r8_secret",
        "api_key": "k",
        "Replicate-API-Token": "r8_x",
        "headers": {"Authorization": "Bearer abc", "X-Trace": "1"},
        "chunks": [{"client_id": "c1", "hf_token": "hf_x"}],
        "max_token_length": 225,
        "class_tokens": "cat",
    }
    job = make_job(backend_state=state)
    assert job.backend_state == {
        "prompt_ids": ["p1"],
        "headers": {"X-Trace": "1"},
        "chunks": [{"client_id": "c1"}],
        "max_token_length": 225,
        "class_tokens": "cat",
    }
    # A backend writing into the dict in place bypasses validation; dumping strips it again.
    job.backend_state["password"] = "hunter2"
    assert "hunter2" not in job.model_dump_json()
    assert strip_secrets({"a": {"secret": 1}}) == {"a": {}}


def test_error_text_is_redacted(make_job: Callable[..., Job]) -> None:
    job = make_job()
    job.error = "Replicate refused r8_AbCdEfGhIjKlMnOp: bad token"
    assert "r8_AbCdEfGhIjKlMnOp" not in (job.error or "")


def test_cost_must_be_a_finite_positive_amount(make_job: Callable[..., Job]) -> None:
    with pytest.raises(ValidationError):
        make_job(cost=-1.0)
    with pytest.raises(ValidationError):
        make_job(cost=float("inf"))
    assert make_job(cost=1.25).cost == 1.25


def test_transitions_record_time_and_set_start_and_finish(make_job: Callable[..., Job]) -> None:
    job = make_job()
    started = datetime(2025, 1, 1, 10, tzinfo=UTC)
    record = job.transition(JobStatus.RUNNING, "submitted", at=started)
    assert (record.from_status, record.to_status, record.at) == (
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        started,
    )
    assert job.started_at == started and job.finished_at is None
    job.transition(JobStatus.COMPLETED, at=started + timedelta(minutes=30))
    assert job.finished_at == started + timedelta(minutes=30)
    assert job.duration_seconds == 1800.0
    assert [t.to_status for t in job.history] == [JobStatus.RUNNING, JobStatus.COMPLETED]
    assert len(job.unsaved_transitions) == 2


def test_illegal_transition_raises_and_changes_nothing(make_job: Callable[..., Job]) -> None:
    job = make_job()
    with pytest.raises(JobError, match=job.id):
        job.transition(JobStatus.COMPLETED)
    assert job.status is JobStatus.QUEUED and not job.history and job.started_at is None
    job.transition(JobStatus.CANCELLED)
    with pytest.raises(JobError):
        job.transition(JobStatus.RUNNING)


def test_record_json_excludes_history_and_round_trips(make_job: Callable[..., Job]) -> None:
    job = make_job(cost=0.42, outputs=["https://example.com/w.safetensors"])
    job.transition(JobStatus.RUNNING)
    data = json.loads(job.record_json())
    assert "history" not in data
    again = Job.model_validate_json(job.record_json())
    assert again.model_dump(exclude={"history"}) == job.model_dump(exclude={"history"})


def test_records_from_a_newer_version_still_load(make_job: Callable[..., Job]) -> None:
    data = json.loads(make_job().record_json())
    data["field_from_the_future"] = {"x": 1}
    assert Job.model_validate(data).name == "Cat portraits"
