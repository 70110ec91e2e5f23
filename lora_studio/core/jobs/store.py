"""Core: JobStore — every job, its status history, loss curve, logs and measured speeds, in SQLite.

Synchronous and thread-safe: one connection shared behind a lock; calls are short (a batch of 50
events is one small transaction), so a lock costs less than a connection per thread, and SQLite
allows one writer at a time anyway. Other processes (the `lora-studio jobs` command) can read
concurrently thanks to WAL. Code on an event loop never calls it directly: it goes through
`store.worker` (one thread for all of a process's store I/O, see `store_worker.py`), because a
write may wait for another process's lock.

Durability: WAL with `synchronous=NORMAL`. A committed transaction survives the app crashing or
being killed — the WAL is already in the OS cache — and the file can never be corrupted by any
interruption. Only an OS crash or power cut can lose the last second or so of commits; FULL would
fsync on every commit, which at dozens of event batches a minute buys little, as a lost final
progress tick or status is recovered by re-attaching to the backend at the next start.

Writes use `BEGIN IMMEDIATE` so a writer takes the lock up front (no deadlock between two
processes upgrading read locks); `busy_timeout` makes a second writer wait instead of failing.
"""

from __future__ import annotations

import builtins
import logging
import math
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from lora_studio.core.errors import JobError, StorageError
from lora_studio.core.jobs import export
from lora_studio.core.jobs.apply import apply_events
from lora_studio.core.jobs.events import JobEvent, Log, Loss
from lora_studio.core.jobs.job import Job, StatusTransition, utc_now
from lora_studio.core.jobs.records import LogLine, LossPoint, SpeedSample
from lora_studio.core.jobs.schema import migrate
from lora_studio.core.jobs.status import JobStatus
from lora_studio.core.jobs.store_errors import storage_error
from lora_studio.core.jobs.store_rows import (
    job_columns,
    log_row,
    loss_row,
    read_history,
    read_job,
    save_job,
    speed_row,
    stale_copy_error,
    ts,
)
from lora_studio.core.jobs.store_worker import StoreWorker

log = logging.getLogger(__name__)

UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)


class JobStore:
    """The persistent job history. Create once (in `app.py` or a CLI command), `close()` at exit."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_log_lines: int = 5_000,
        log_trim_batch: int = 500,
        busy_timeout_s: float = 5.0,
    ) -> None:
        self.path = Path(path)  # the caller (app.py, a CLI command) says where: no default here
        self.max_log_lines = max_log_lines
        self._trim_batch = max(1, log_trim_batch)
        self._lines_since_trim: dict[str, int] = {}
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = self._open(busy_timeout_s)
        self._worker: StoreWorker | None = None
        # Not `self._lock`: that one is held while SQLite waits for another process's write
        # lock, and the event loop asking for the worker must never wait behind it.
        self._worker_lock = threading.Lock()

    @property
    def locks_dir(self) -> Path:
        """Where the `JobLock`s of this store's jobs live: beside it, so every process that
        shares the store (the app, the CLI) shares the locks too."""
        return self.path.parent / "locks"

    @property
    def worker(self) -> StoreWorker:
        """The thread that does this store's I/O for code running on an event loop."""
        with self._worker_lock:
            if self._worker is None:
                self._worker = StoreWorker(self)
            return self._worker

    def _open(self, busy_timeout_s: float) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"Could not create the folder {self.path.parent} for the job history: "
                f"{exc.strerror or exc}. Check that it is writable.",
                detail=str(exc),
            ) from exc
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves (the module's implicit
            # transactions do not cover DDL and would split a migration).
            conn = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise storage_error(exc, self.path, "open the job history") from exc
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # e.g. some network file systems
                log.warning("Job store %s runs in %s journal mode, not WAL", self.path, mode)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            migrate(conn, self.path)
        except sqlite3.Error as exc:
            conn.close()
            raise storage_error(exc, self.path, "open the job history") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _read(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise StorageError(f"Could not {action}: the job history {self.path} is closed.")
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path, action) from exc

    @contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._read(action) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        log.exception("Rollback failed in %s", self.path)  # keep the first error
                raise

    def close(self) -> None:
        """Close the database (idempotent) after writing what the worker has queued. SQLite
        checkpoints the WAL into the main file."""
        with self._worker_lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- jobs --------------------------------------------------------------------------------

    def add(self, job: Job) -> Job:
        """Store a new job (JobError if its id exists); records its creation in the history."""
        job.record_creation()
        with self._write(f"save the new job {job.id}") as conn:
            try:
                save_job(conn, job, expected_revision=None)
            except sqlite3.IntegrityError as exc:
                raise JobError(
                    f"A job with id {job.id} is already in the job history {self.path}; "
                    "create the new job with a fresh id."
                ) from exc
        job.mark_saved(1)
        return job

    def update(self, job: Job) -> Job:
        """Save changes to a job read from this store. JobError if another writer saved it since
        (reload with `get()` and redo the change) or if its status moved illegally."""
        with self._write(f"save job {job.id}") as conn:
            stored = read_job(conn, self.path, job.id)
            if stored.revision != job.revision:
                raise stale_copy_error(job, stored.revision)
            if not job.unsaved_transitions:
                # Status assigned directly instead of via transition(): still enforce the rules.
                job.adopt_status(stored.status)
            revision = save_job(conn, job, expected_revision=job.revision)
        job.mark_saved(revision)
        return job

    def modify(self, job_id: str, change: Callable[[Job], None]) -> Job:
        """Read, `change(job)` in place, and save — atomically, so no concurrent write is lost."""
        with self._write(f"save job {job_id}") as conn:
            job = read_job(conn, self.path, job_id, with_history=True)
            change(job)
            revision = save_job(conn, job, expected_revision=job.revision)
        job.mark_saved(revision)
        return job

    def transition(self, job_id: str, new_status: JobStatus, message: str = "") -> Job:
        """Move a stored job to `new_status`; JobError if the move is illegal."""

        def move(job: Job) -> None:
            job.transition(new_status, message)

        return self.modify(job_id, move)

    def get(self, job_id: str) -> Job:
        """The job with its status history; JobError if there is no such job."""
        with self._read(f"read job {job_id}") as conn:
            return read_job(conn, self.path, job_id, with_history=True)

    def find_by_backend_id(self, backend: str, backend_job_id: str) -> Job | None:
        """The job a backend knows as `backend_job_id`, if any (for re-attach and de-duplication)."""
        with self._read("look up a job") as conn:
            row = conn.execute(
                "SELECT id FROM jobs WHERE backend = ? AND backend_job_id = ? LIMIT 1",
                (backend, backend_job_id),
            ).fetchone()
            return None if row is None else read_job(conn, self.path, row[0], with_history=True)

    def list(
        self,
        status: JobStatus | Iterable[JobStatus] | None = None,
        backend: str | None = None,
        limit: int = 200,
        offset: int = 0,
        oldest_first: bool = False,
    ) -> builtins.list[Job]:
        """Jobs newest first (or oldest first), optionally filtered by status(es) and backend."""
        clauses, params = job_columns(status, backend)
        order = "ASC" if oldest_first else "DESC"
        sql = (
            f"SELECT id, record, revision FROM jobs {clauses} "
            f"ORDER BY created_at {order}, id {order} LIMIT ? OFFSET ?"
        )
        with self._read("list jobs") as conn:
            rows = conn.execute(sql, (*params, max(0, limit), max(0, offset))).fetchall()
            jobs = [job for row in rows if (job := self._decode_for_list(row)) is not None]
            histories = read_history(conn, [job.id for job in jobs])
        for job in jobs:
            job.history = histories.get(job.id, [])
        return jobs

    def _decode_for_list(self, row: tuple[str, str, int]) -> Job | None:
        # One unreadable record must not hide the whole history from the artist.
        try:
            job = Job.model_validate_json(row[1])
        except ValueError:
            log.warning("Skipping unreadable record of job %s in %s", row[0], self.path)
            return None
        job.mark_saved(row[2])
        return job

    def unfinished(self) -> builtins.list[Job]:
        """Queued and running jobs, oldest first: the ones to re-attach to at start-up."""
        return self.list(status=UNFINISHED, limit=10_000, oldest_first=True)

    def delete(self, job_id: str) -> None:
        """Remove a job and everything recorded for it (speed measurements are kept)."""
        with self._write(f"delete job {job_id}") as conn:
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        self._lines_since_trim.pop(job_id, None)

    # -- events ------------------------------------------------------------------------------

    def record_event(self, job_id: str, event: JobEvent, at: datetime | None = None) -> Job:
        """Apply one backend event; see `record_events`."""
        return self.record_events(job_id, [event], at)

    def record_events(
        self, job_id: str, events: Iterable[JobEvent], at: datetime | None = None
    ) -> Job:
        """Apply a batch of events in one transaction and return the updated job.

        All or nothing: if one event is an illegal move (JobError) none of the batch is stored.
        Events carry no time of their own; they are stamped `at` (default: now, UTC).
        """
        batch = list(events)
        if at is not None and at.tzinfo is None:
            raise JobError(f"Events of job {job_id} need a timezone-aware time, not {at}.")
        stamp = (at or utc_now()).astimezone(UTC)
        with self._write(f"record events of job {job_id}") as conn:
            job = read_job(conn, self.path, job_id, with_history=True)
            revision = job.revision
            applied = apply_events(job, batch, stamp)
            # Loss and log lines go to their own tables; only other events change the record.
            if any(not isinstance(event, Loss | Log) for event in batch):
                revision = save_job(conn, job, expected_revision=revision)
            self._insert_rows(conn, job_id, applied.loss_points, applied.log_lines)
        job.mark_saved(revision)
        return job

    def _insert_rows(
        self,
        conn: sqlite3.Connection,
        job_id: str,
        loss: builtins.list[LossPoint],
        lines: builtins.list[LogLine],
    ) -> None:
        if loss:
            conn.executemany(
                "INSERT INTO loss_points (job_id, step, value, at) VALUES (?, ?, ?, ?)",
                [
                    (job_id, p.step, None if math.isnan(p.value) else p.value, ts(p.at))
                    for p in loss
                ],
            )
        if lines:
            conn.executemany(
                "INSERT INTO log_lines (job_id, at, stream, text) VALUES (?, ?, ?, ?)",
                [(job_id, ts(line.at), line.stream, line.text) for line in lines],
            )
            # Trim in batches: counting on every insert would cost more than the insert itself.
            pending = self._lines_since_trim.get(job_id)
            pending = len(lines) + (pending if pending is not None else self._trim_batch)
            if pending >= self._trim_batch:
                conn.execute(
                    "DELETE FROM log_lines WHERE job_id = ? AND id <= (SELECT id FROM log_lines "
                    "WHERE job_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (job_id, job_id, self.max_log_lines),
                )
                pending = 0
            self._lines_since_trim[job_id] = pending

    # -- reading what a job accumulated ------------------------------------------------------

    def loss_series(self, job_id: str, skip: int = 0) -> builtins.list[LossPoint]:
        """Every loss point in arrival order (a restarted run's steps may repeat; NaN = diverged);
        `skip` leaves out the first ones (a monitor that already shows them asks for the rest)."""
        with self._read(f"read the loss of job {job_id}") as conn:
            rows = conn.execute(
                "SELECT step, value, at FROM loss_points WHERE job_id = ? ORDER BY id "
                "LIMIT -1 OFFSET ?",
                (job_id, max(0, skip)),
            ).fetchall()
        return [loss_row(row) for row in rows]

    def logs(
        self, job_id: str, limit: int = 1_000, contains: str | None = None
    ) -> builtins.list[LogLine]:
        """The last `limit` log lines, oldest first; `contains` filters (case-insensitive ASCII)."""
        sql = "SELECT at, stream, text FROM log_lines WHERE job_id = ?"
        params: builtins.list[object] = [job_id]
        if contains:
            escaped = contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            sql += " AND text LIKE ? ESCAPE '\\'"
            params.append(f"%{escaped}%")
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(max(0, limit))
        with self._read(f"read the logs of job {job_id}") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [log_row(row) for row in reversed(rows)]

    def status_history(self, job_id: str) -> builtins.list[StatusTransition]:
        with self._read(f"read the history of job {job_id}") as conn:
            return read_history(conn, [job_id]).get(job_id, [])

    def export_json(self, job_id: str) -> str:
        """The job as a JSON document: record and config, metrics, status history, loss series."""
        with self._read(f"export job {job_id}") as conn:
            job = read_job(conn, self.path, job_id, with_history=True)
            loss = self.loss_series(job_id)
        return export.export_json(job, job.history, loss)

    # -- measured speeds ---------------------------------------------------------------------

    def record_speed(
        self,
        job_id: str | None,
        backend: str,
        family: str,
        resolution: int,
        batch: int,
        seconds_per_step: float,
    ) -> None:
        """Remember how fast a run went, to refine the duration estimate of similar runs."""
        if not (math.isfinite(seconds_per_step) and seconds_per_step > 0):
            raise JobError(f"A measured speed must be a positive number, not {seconds_per_step}.")
        with self._write("record a measured speed") as conn:
            conn.execute(
                "INSERT INTO measured_speeds (job_id, backend, family, resolution, batch, "
                "seconds_per_step, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job_id, backend, family, resolution, batch, seconds_per_step, ts(utc_now())),
            )

    def measured_speeds(
        self,
        family: str,
        resolution: int,
        batch: int,
        backend: str | None = None,
        limit: int = 20,
    ) -> builtins.list[SpeedSample]:
        """Speeds measured for this model family, resolution and batch size, newest first."""
        sql = (
            "SELECT job_id, backend, family, resolution, batch, seconds_per_step, at "
            "FROM measured_speeds WHERE family = ? AND resolution = ? AND batch = ?"
        )
        params: builtins.list[object] = [family, resolution, batch]
        if backend is not None:
            sql += " AND backend = ?"
            params.append(backend)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(max(0, limit))
        with self._read("read measured speeds") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [speed_row(row) for row in rows]
