"""JobStore: persistence of jobs, events, histories, logs and speeds; concurrency rules."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lora_studio import paths
from lora_studio.core.errors import JobError, StorageError
from lora_studio.core.jobs import (
    Checkpoint,
    Failed,
    Finished,
    Job,
    JobStatus,
    JobStore,
    Log,
    Loss,
    Progress,
    StatusChanged,
)


def test_the_apps_store_lives_in_the_data_dir_with_its_locks_beside_it() -> None:
    with JobStore(paths.job_store_file()) as default_store:
        assert default_store.path == paths.data_dir() / "jobs.sqlite3"
        assert default_store.path.exists()
        assert default_store.locks_dir == paths.data_dir() / "locks"


def test_database_runs_in_wal_mode(store: JobStore, store_path: Path) -> None:
    conn = sqlite3.connect(store_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_add_and_get_round_trip(store: JobStore, make_job: Callable[..., Job]) -> None:
    job = make_job(backend_job_id="r-123", cost=0.5, backend_state={"prompt_ids": ["a"]})
    store.add(job)
    again = store.get(job.id)
    assert again.model_dump(exclude={"history"}) == job.model_dump(exclude={"history"})
    assert [(t.from_status, t.to_status, t.message) for t in again.history] == [
        (None, JobStatus.QUEUED, "created")
    ]
    assert again.revision == 1


def test_duplicate_id_and_missing_job_are_job_errors(
    store: JobStore, make_job: Callable[..., Job]
) -> None:
    job = store.add(make_job())
    with pytest.raises(JobError, match="already"):
        store.add(make_job(id=job.id))
    with pytest.raises(JobError, match="no job nope"):
        store.get("nope")


def test_update_saves_changes_and_new_transitions(
    store: JobStore, make_job: Callable[..., Job]
) -> None:
    job = store.add(make_job())
    job.transition(JobStatus.RUNNING, "submitted to kohya")
    job.backend_job_id = "pid-42"
    store.update(job)
    again = store.get(job.id)
    assert again.status is JobStatus.RUNNING and again.backend_job_id == "pid-42"
    assert [t.message for t in store.status_history(job.id)] == ["created", "submitted to kohya"]
    assert store.find_by_backend_id("kohya", "pid-42") is not None
    assert store.find_by_backend_id("kohya", "pid-43") is None


def test_stale_copy_cannot_overwrite_newer_progress(
    store: JobStore, make_job: Callable[..., Job]
) -> None:
    stale = store.add(make_job())
    store.record_events(stale.id, [Progress(50, 100)])
    stale.name = "renamed"
    with pytest.raises(JobError, match="changed elsewhere"):
        store.update(stale)
    assert store.get(stale.id).progress.step == 50
    renamed = store.modify(stale.id, lambda job: setattr(job, "name", "renamed"))
    assert renamed.progress.step == 50 and store.get(stale.id).name == "renamed"


def test_direct_status_assignment_is_still_checked(
    store: JobStore, make_job: Callable[..., Job]
) -> None:
    job = store.add(make_job())
    job.status = JobStatus.COMPLETED  # skipping running
    with pytest.raises(JobError, match="cannot go from queued to completed"):
        store.update(job)
    job = store.get(job.id)
    job.status = JobStatus.RUNNING
    store.update(job)
    assert [t.to_status for t in store.status_history(job.id)][-1] is JobStatus.RUNNING


def test_transition_by_id(store: JobStore, make_job: Callable[..., Job]) -> None:
    job = store.add(make_job())
    store.transition(job.id, JobStatus.RUNNING)
    done = store.transition(job.id, JobStatus.CANCELLED, "cancelled by the artist")
    assert done.finished_at is not None and done.is_finished
    with pytest.raises(JobError):
        store.transition(job.id, JobStatus.RUNNING)
    assert store.get(job.id).status is JobStatus.CANCELLED


def test_list_filters_sorts_and_pages(store: JobStore, make_job: Callable[..., Job]) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    made = []
    for i in range(6):
        job = make_job(
            name=f"job {i}",
            backend="replicate" if i % 2 else "comfyui",
            created_at=base + timedelta(hours=i),
        )
        store.add(job)
        made.append(job)
    store.transition(made[1].id, JobStatus.RUNNING)
    store.transition(made[2].id, JobStatus.FAILED, "refused")
    assert [j.name for j in store.list()] == [f"job {i}" for i in reversed(range(6))]
    assert [j.name for j in store.list(limit=2, offset=1)] == ["job 4", "job 3"]
    assert [j.name for j in store.list(backend="replicate")] == ["job 5", "job 3", "job 1"]
    assert [j.name for j in store.list(status=JobStatus.FAILED)] == ["job 2"]
    assert [j.name for j in store.unfinished()] == ["job 0", "job 1", "job 3", "job 4", "job 5"]
    listed = {j.id: j for j in store.list()}
    assert [t.to_status for t in listed[made[2].id].history] == [
        JobStatus.QUEUED,
        JobStatus.FAILED,
    ]


def test_record_events_applies_a_whole_batch(store: JobStore, make_job: Callable[..., Job]) -> None:
    job = store.add(make_job())
    events = [
        Progress(1, 3),
        Loss(1, 0.9),
        Log("step 1"),
        Checkpoint("ckpt-1.safetensors", step=1),
        Progress(2, 3),
        Loss(2, float("nan")),
        Finished(("final.safetensors",)),
    ]
    done = store.record_events(job.id, events)
    assert done.status is JobStatus.COMPLETED and done.progress.step == 3
    stored = store.get(job.id)
    assert stored.outputs == ["final.safetensors"]
    assert [c.location for c in stored.checkpoints] == ["ckpt-1.safetensors"]
    series = store.loss_series(job.id)
    assert [p.step for p in series] == [1, 2] and series[0].value == 0.9
    assert series[1].value != series[1].value  # NaN survives as NaN
    assert [line.text for line in store.logs(job.id)] == ["step 1"]
    assert [t.to_status for t in stored.history] == [
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.COMPLETED,
    ]
    assert done.revision == stored.revision


def test_loss_and_log_only_batches_leave_the_record_alone(
    store: JobStore, make_job: Callable[..., Job]
) -> None:
    job = store.add(make_job())
    after = store.record_events(job.id, [Loss(1, 0.5), Log("x")])
    assert after.revision == job.revision
    job.name = "still valid"
    store.update(job)


def test_a_batch_with_an_illegal_move_is_not_stored_at_all(
    store: JobStore, make_job: Callable[..., Job]
) -> None:
    job = store.add(make_job())
    with pytest.raises(JobError):
        store.record_events(
            job.id, [Progress(1, 10), Loss(1, 0.5), Log("a"), StatusChanged(JobStatus.QUEUED)]
        )
    assert store.loss_series(job.id) == [] and store.logs(job.id) == []
    assert store.get(job.id).status is JobStatus.QUEUED


def test_failure_is_recorded_with_its_detail_in_the_logs(
    store: JobStore, make_job: Callable[..., Job]
) -> None:
    job = store.add(make_job())
    store.record_event(job.id, Progress(5, 10))
    failed = store.record_event(job.id, Failed("Out of memory", "Traceback ... CUDA OOM"))
    assert failed.status is JobStatus.FAILED and failed.error == "Out of memory"
    assert store.logs(job.id)[-1].text == "Traceback ... CUDA OOM"
    assert store.status_history(job.id)[-1].message == "Out of memory"


def test_logs_are_trimmed_in_batches_and_filtered(
    store_path: Path, make_job: Callable[..., Job]
) -> None:
    with JobStore(store_path, max_log_lines=100, log_trim_batch=30) as store:
        job = store.add(make_job())
        for batch in range(20):
            store.record_events(job.id, [Log(f"line {batch * 10 + i}") for i in range(10)])
        raw = sqlite3.connect(store_path)
        count = raw.execute("SELECT COUNT(*) FROM log_lines").fetchone()[0]
        raw.close()
        assert 100 <= count < 100 + 30
        last = store.logs(job.id, limit=5)
        assert [line.text for line in last] == [f"line {i}" for i in range(195, 200)]
        store.record_events(job.id, [Log("100% done_ok"), Log("1000 done")])
        assert [line.text for line in store.logs(job.id, contains="0% DONE_")] == ["100% done_ok"]


def test_measured_speeds(store: JobStore, make_job: Callable[..., Job]) -> None:
    job = store.add(make_job())
    store.record_speed(job.id, "comfyui", "sdxl", 1024, 1, 1.8)
    store.record_speed(None, "replicate", "sdxl", 1024, 1, 1.2)
    store.record_speed(None, "comfyui", "sdxl", 768, 1, 0.9)
    assert [s.seconds_per_step for s in store.measured_speeds("sdxl", 1024, 1)] == [1.2, 1.8]
    only = store.measured_speeds("sdxl", 1024, 1, backend="comfyui")
    assert [(s.job_id, s.backend) for s in only] == [(job.id, "comfyui")]
    with pytest.raises(JobError):
        store.record_speed(None, "comfyui", "sdxl", 1024, 1, float("nan"))
    store.delete(job.id)  # the measurement outlives the job
    assert store.measured_speeds("sdxl", 1024, 1, backend="comfyui")[0].job_id is None


def test_delete_removes_everything_of_the_job(
    store: JobStore, make_job: Callable[..., Job]
) -> None:
    job = store.add(make_job())
    store.record_events(job.id, [Progress(1, 2), Loss(1, 1.0), Log("x")])
    store.delete(job.id)
    assert store.list() == [] and store.loss_series(job.id) == [] and store.logs(job.id) == []
    assert store.status_history(job.id) == []


def test_export_json(store: JobStore, make_job: Callable[..., Job]) -> None:
    started = datetime.now(UTC) - timedelta(seconds=100)
    job = store.add(make_job(cost=0.75))
    store.record_events(job.id, [Progress(0, 10)], at=started)
    store.record_events(job.id, [Loss(5, 0.5), Loss(6, float("nan")), Loss(10, 0.25)])
    store.record_events(job.id, [Progress(10, 10), Finished(("w.safetensors",))])
    doc = json.loads(store.export_json(job.id))
    assert doc["format"] == "lora-studio-job" and doc["job"]["config"]["rank"] == 16
    assert [p["value"] for p in doc["loss"]] == [0.5, None, 0.25]
    assert [h["to_status"] for h in doc["status_history"]] == ["queued", "running", "completed"]
    metrics = doc["metrics"]
    assert metrics["final_loss"] == 0.25 and metrics["min_loss_step"] == 10
    assert metrics["non_finite_loss_points"] == 1 and metrics["cost_usd"] == 0.75
    assert metrics["duration_seconds"] == pytest.approx(100, abs=5)
    assert metrics["seconds_per_step"] == pytest.approx(10, abs=0.5)


def test_secrets_never_reach_the_database_file(
    store: JobStore, store_path: Path, make_job: Callable[..., Job]
) -> None:
    job = store.add(make_job(backend_state={"client_id": "c", "api_key": "SECRET-ONE-1234"}))
    job.backend_state["token"] = "SECRET-TWO-1234"
    store.update(job)
    store.record_events(
        job.id,
        [Log("using token SECRET-THREE-1234"), Failed("auth failed: Bearer SECRET-FOUR-1234")],
    )
    store.close()
    raw = b"".join(p.read_bytes() for p in store_path.parent.glob("jobs.sqlite3*"))
    for number in ("ONE", "TWO", "THREE", "FOUR"):
        assert f"SECRET-{number}".encode() not in raw


def test_threads_can_share_one_store(store: JobStore, make_job: Callable[..., Job]) -> None:
    jobs = [store.add(make_job(name=f"job {i}")) for i in range(4)]
    errors: list[BaseException] = []

    def worker(job: Job) -> None:
        try:
            for step in range(1, 51):
                store.record_events(job.id, [Progress(step, 50), Loss(step, 1 / step), Log("l")])
                store.list(limit=5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for job in jobs:
        assert store.get(job.id).progress.step == 50
        assert len(store.loss_series(job.id)) == 50


def test_closed_store_says_so(store: JobStore) -> None:
    store.close()
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.list()


def test_returned_jobs_carry_their_full_history(
    store: JobStore, make_job: Callable[..., Job]
) -> None:
    job = store.add(make_job())
    running = store.record_event(job.id, Progress(1, 10))
    assert [t.to_status for t in running.history] == [JobStatus.QUEUED, JobStatus.RUNNING]
    done = store.transition(job.id, JobStatus.COMPLETED)
    assert done.history == store.get(job.id).history and len(done.history) == 3


def test_event_times_must_be_timezone_aware(store: JobStore, make_job: Callable[..., Job]) -> None:
    job = store.add(make_job())
    with pytest.raises(JobError, match="timezone"):
        store.record_event(job.id, Progress(1), at=datetime(2025, 1, 1))
