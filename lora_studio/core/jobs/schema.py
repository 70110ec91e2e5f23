"""Core: the job store's SQLite schema and its migrations.

The schema version lives in `PRAGMA user_version`. `MIGRATIONS[i]` turns version `i` into `i + 1`;
each runs in its own `BEGIN IMMEDIATE` transaction together with the version bump, so a crash mid-
upgrade leaves the previous version intact and the next start simply runs it again. Migrations are
Python functions rather than SQL strings so a step can backfill new columns from the stored JSON.
Never edit a released step: append a new one.

A job row keeps the complete `Job` as JSON in `record` (the source of truth, read back with
pydantic, so new fields with defaults need no migration) plus copies of the fields the store
filters and sorts on, as indexed columns.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from lora_studio.core.errors import StorageError

Migration = Callable[[sqlite3.Connection], None]


def _v1_initial(conn: sqlite3.Connection) -> None:
    statements = (
        """CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            backend TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            record TEXT NOT NULL
        )""",
        "CREATE INDEX jobs_status ON jobs(status)",
        """CREATE TABLE status_history (
            id INTEGER PRIMARY KEY,
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            from_status TEXT,
            to_status TEXT NOT NULL,
            at TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX status_history_job ON status_history(job_id, id)",
        """CREATE TABLE loss_points (
            id INTEGER PRIMARY KEY,
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            step INTEGER NOT NULL,
            value REAL,
            at TEXT NOT NULL
        )""",
        "CREATE INDEX loss_points_job ON loss_points(job_id, id)",
        """CREATE TABLE log_lines (
            id INTEGER PRIMARY KEY,
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            stream TEXT NOT NULL,
            text TEXT NOT NULL
        )""",
        "CREATE INDEX log_lines_job ON log_lines(job_id, id)",
    )
    for statement in statements:
        conn.execute(statement)


def _v2_revisions_and_speeds(conn: sqlite3.Connection) -> None:
    # `revision` makes `JobStore.update` refuse a stale copy; `finished_at`/`backend_job_id` let
    # the history view sort and the re-attach code look jobs up without parsing every record.
    conn.execute("ALTER TABLE jobs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE jobs ADD COLUMN finished_at TEXT")
    conn.execute("ALTER TABLE jobs ADD COLUMN backend_job_id TEXT")
    rows = conn.execute("SELECT id, record FROM jobs").fetchall()
    for job_id, record in rows:
        data = json.loads(record)
        conn.execute(
            "UPDATE jobs SET finished_at = ?, backend_job_id = ? WHERE id = ?",
            (data.get("finished_at"), data.get("backend_job_id"), job_id),
        )
    conn.execute("CREATE INDEX jobs_created ON jobs(created_at)")
    conn.execute("CREATE INDEX jobs_backend ON jobs(backend, backend_job_id)")
    conn.execute(
        """CREATE TABLE measured_speeds (
            id INTEGER PRIMARY KEY,
            job_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
            backend TEXT NOT NULL,
            family TEXT NOT NULL,
            resolution INTEGER NOT NULL,
            batch INTEGER NOT NULL,
            seconds_per_step REAL NOT NULL,
            at TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX measured_speeds_key ON measured_speeds(family, resolution, batch)")


MIGRATIONS: tuple[Migration, ...] = (_v1_initial, _v2_revisions_and_speeds)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: Path, target: int = SCHEMA_VERSION) -> int:
    """Bring the database at `path` up to `target`; returns the version it ended at.

    `conn` must be in autocommit mode (isolation_level=None): each step manages its transaction.
    """
    found = schema_version(conn)
    if found > SCHEMA_VERSION:
        raise StorageError(
            f"The job history {path} was written by a newer version of LoRA Studio "
            f"(format {found}; this version reads up to {SCHEMA_VERSION}). Update LoRA Studio, "
            "or point it at another data folder; the file was left untouched."
        )
    for version in range(found + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have upgraded while we waited for the write lock.
            if schema_version(conn) >= version:
                conn.execute("ROLLBACK")
                continue
            MIGRATIONS[version - 1](conn)
            conn.execute(f"PRAGMA user_version = {version:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return schema_version(conn)
