"""Core: mapping between `Job`/record objects and the job store's SQLite rows.

Helpers used inside `JobStore` transactions; they take an open connection and never commit.
Timestamps in columns are fixed-width UTC text (`2025-03-01T14:22:33.087000Z`) so that text order
is time order and `ORDER BY` needs no conversion.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lora_studio.core.errors import JobError, StorageError
from lora_studio.core.jobs.job import Job, StatusTransition
from lora_studio.core.jobs.records import LogLine, LossPoint, SpeedSample
from lora_studio.core.jobs.status import JobStatus

_SQL_VARIABLES = 500  # ids per IN (...) query, well under SQLite's oldest limit of 999


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def save_job(conn: sqlite3.Connection, job: Job, expected_revision: int | None) -> int:
    """Insert (`expected_revision=None`) or update the job row plus its new status transitions.

    An update only succeeds if the stored revision is still `expected_revision`, so a stale copy
    cannot overwrite progress recorded since it was read. Returns the new revision.
    """
    revision = 1 if expected_revision is None else expected_revision + 1
    record = job.model_dump(mode="json", exclude={"history"})
    record["revision"] = revision
    values = (
        job.name,
        job.backend,
        job.backend_job_id,
        job.status.value,
        ts(job.created_at),
        ts(job.finished_at) if job.finished_at else None,
        revision,
        json.dumps(record, ensure_ascii=False, allow_nan=False),
    )
    if expected_revision is None:
        conn.execute(
            "INSERT INTO jobs (name, backend, backend_job_id, status, created_at, finished_at, "
            "revision, record, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, job.id),
        )
    else:
        cursor = conn.execute(
            "UPDATE jobs SET name = ?, backend = ?, backend_job_id = ?, status = ?, "
            "created_at = ?, finished_at = ?, revision = ?, record = ? "
            "WHERE id = ? AND revision = ?",
            (*values, job.id, expected_revision),
        )
        if cursor.rowcount == 0:
            row = conn.execute("SELECT revision FROM jobs WHERE id = ?", (job.id,)).fetchone()
            if row is None:
                raise JobError(f"Job {job.id} is no longer in the job history (it was deleted).")
            raise stale_copy_error(job, int(row[0]))
    conn.executemany(
        "INSERT INTO status_history (job_id, from_status, to_status, at, message) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (job.id, t.from_status.value if t.from_status else None, t.to_status.value, ts(t.at),
             t.message)
            for t in job.unsaved_transitions
        ],
    )  # fmt: skip
    return revision


def stale_copy_error(job: Job, stored_revision: int) -> JobError:
    return JobError(
        f"Job '{job.name}' ({job.id}) was changed elsewhere after this copy was read "
        f"(revision {job.revision}, now {stored_revision}); reload it and apply the change again."
    )


def read_job(conn: sqlite3.Connection, path: Path, job_id: str, with_history: bool = False) -> Job:
    """The stored job; JobError if missing, StorageError if its record cannot be read."""
    row = conn.execute("SELECT record, revision FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise JobError(f"There is no job {job_id} in the job history {path}.")
    try:
        job = Job.model_validate_json(row[0])
    except ValidationError as exc:
        raise StorageError(
            f"The record of job {job_id} in the job history {path} cannot be read; the other "
            "jobs are unaffected. Export or delete this job.",
            detail=str(exc),
        ) from exc
    job.mark_saved(int(row[1]))
    if with_history:
        job.history = read_history(conn, [job_id]).get(job_id, [])
    return job


def read_history(
    conn: sqlite3.Connection, job_ids: Sequence[str]
) -> dict[str, list[StatusTransition]]:
    """Status histories of several jobs, oldest transition first."""
    result: dict[str, list[StatusTransition]] = {}
    for start in range(0, len(job_ids), _SQL_VARIABLES):
        chunk = job_ids[start : start + _SQL_VARIABLES]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT job_id, from_status, to_status, at, message FROM status_history "
            f"WHERE job_id IN ({marks}) ORDER BY id",
            tuple(chunk),
        )
        for job_id, from_status, to_status, at, message in rows:
            result.setdefault(job_id, []).append(
                # Our own rows, validated and redacted when written: skip re-validation, which
                # would run the redaction patterns again on every read.
                StatusTransition.model_construct(
                    from_status=JobStatus(from_status) if from_status else None,
                    to_status=JobStatus(to_status),
                    at=parse_ts(at),
                    message=message,
                )
            )
    return result


def job_columns(
    status: JobStatus | Iterable[JobStatus] | None, backend: str | None
) -> tuple[str, list[Any]]:
    """A WHERE clause (possibly empty) and its parameters for listing jobs."""
    clauses: list[str] = []
    params: list[Any] = []
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
        params.extend(JobStatus(item).value for item in statuses)
    if backend is not None:
        clauses.append("backend = ?")
        params.append(backend)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def loss_row(row: tuple[int, float | None, str]) -> LossPoint:
    step, value, at = row
    return LossPoint(step, math.nan if value is None else float(value), parse_ts(at))


def log_row(row: tuple[str, str, str]) -> LogLine:
    at, stream, text = row
    return LogLine(parse_ts(at), stream, text)


def speed_row(row: tuple[str | None, str, str, int, int, float, str]) -> SpeedSample:
    job_id, backend, family, resolution, batch, seconds, at = row
    return SpeedSample(job_id, backend, family, resolution, batch, seconds, parse_ts(at))
