"""Schema migrations: a version-1 database is upgraded in place, data intact; failures roll back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from lora_studio.core.jobs import Job, JobStatus, JobStore, Progress
from lora_studio.core.jobs import schema as schema_module
from lora_studio.core.jobs.schema import SCHEMA_VERSION, migrate, schema_version


def _v1_database(path: Path, job: Job) -> None:
    """A database exactly as version 1 of the store wrote it."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert migrate(conn, path, target=1) == 1
        record = json.loads(job.record_json())
        del record["revision"]  # version 1 records had no revision
        conn.execute(
            "INSERT INTO jobs (id, name, backend, status, created_at, record) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (job.id, job.name, job.backend, job.status.value, "2025-01-01T00:00:00.000000Z",
             json.dumps(record)),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO status_history (job_id, from_status, to_status, at, message) VALUES "
            "(?, NULL, 'queued', '2025-01-01T00:00:00.000000Z', 'created'), "
            "(?, 'queued', 'running', '2025-01-01T00:01:00.000000Z', '')",
            (job.id, job.id),
        )
        conn.execute(
            "INSERT INTO loss_points (job_id, step, value, at) VALUES "
            "(?, 1, 0.5, '2025-01-01T00:02:00.000000Z'), (?, 2, NULL, '2025-01-01T00:03:00Z')",
            (job.id, job.id),
        )
        conn.execute(
            "INSERT INTO log_lines (job_id, at, stream, text) "
            "VALUES (?, '2025-01-01T00:02:00.000000Z', 'stdout', 'epoch 1')",
            (job.id,),
        )
    finally:
        conn.close()


def test_version_1_is_upgraded_with_everything_kept(
    store_path: Path, make_job: Callable[..., Job]
) -> None:
    job = make_job(backend="replicate", backend_job_id="rep-77")
    job.transition(JobStatus.RUNNING)
    _v1_database(store_path, job)

    with JobStore(store_path) as store:
        conn = sqlite3.connect(store_path)
        assert schema_version(conn) == SCHEMA_VERSION
        conn.close()
        again = store.get(job.id)
        assert again.name == job.name and again.status is JobStatus.RUNNING
        assert again.revision == 0
        assert [t.to_status for t in again.history] == [JobStatus.QUEUED, JobStatus.RUNNING]
        # Backfilled column: the re-attach lookup works on old rows.
        found = store.find_by_backend_id("replicate", "rep-77")
        assert found is not None and found.id == job.id
        assert [p.step for p in store.loss_series(job.id)] == [1, 2]
        assert [line.text for line in store.logs(job.id)] == ["epoch 1"]
        assert [j.id for j in store.unfinished()] == [job.id]
        # New features work on the upgraded file.
        assert store.record_event(job.id, Progress(3, 10)).revision == 1
        store.record_speed(job.id, "replicate", "flux", 1024, 1, 2.5)
        assert len(store.measured_speeds("flux", 1024, 1)) == 1

    with JobStore(store_path) as store:  # reopening does not migrate again
        assert store.get(job.id).progress.step == 3


def test_a_failing_step_rolls_back_and_keeps_the_old_version(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    JobStore(store_path).close()

    def broken_step(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("step failed half way")

    monkeypatch.setattr(schema_module, "MIGRATIONS", (*schema_module.MIGRATIONS, broken_step))
    conn = sqlite3.connect(store_path, isolation_level=None)
    try:
        with pytest.raises(RuntimeError):
            migrate(conn, store_path, target=SCHEMA_VERSION + 1)
        assert schema_version(conn) == SCHEMA_VERSION
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert "half_done" not in tables
    finally:
        conn.close()


def test_two_stores_opening_a_new_file_at_once_both_work(
    store_path: Path, make_job: Callable[..., Job]
) -> None:
    first = JobStore(store_path)
    second = JobStore(store_path)
    try:
        job = first.add(make_job())
        assert second.get(job.id).name == job.name
    finally:
        first.close()
        second.close()
