"""JobStore facing damaged, locked, newer or unreadable databases: readable errors, no data loss."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from lora_studio.core.errors import StorageError
from lora_studio.core.jobs import Job, JobStore, Progress
from lora_studio.core.jobs.schema import SCHEMA_VERSION
from lora_studio.core.jobs.store_errors import storage_error


def test_a_file_that_is_not_sqlite_is_named_and_left_untouched(store_path: Path) -> None:
    garbage = b"this is not a database, it is a shopping list\n" * 200
    store_path.write_bytes(garbage)
    with pytest.raises(StorageError) as info:
        JobStore(store_path)
    message = info.value.user_message
    assert str(store_path) in message and "damaged" in message and ".broken" in message
    assert store_path.read_bytes() == garbage


def test_damaged_pages_give_a_storage_error_naming_the_file(
    store_path: Path, make_job: Callable[..., Job]
) -> None:
    with JobStore(store_path) as store:
        for i in range(30):
            store.add(make_job(name=f"job {i}", config={"blob": "x" * 2000}))
    data = bytearray(store_path.read_bytes())
    page = 4096
    data[page:] = b"\xa5" * (len(data) - page)  # keep the header page, wreck the rest
    store_path.write_bytes(bytes(data))
    with pytest.raises(StorageError) as info, JobStore(store_path) as store:
        store.list()
    assert str(store_path) in info.value.user_message
    assert store_path.read_bytes() == bytes(data)


def test_a_newer_schema_is_refused_without_touching_it(store_path: Path) -> None:
    JobStore(store_path).close()
    raw = sqlite3.connect(store_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StorageError, match="newer version of LoRA Studio"):
        JobStore(store_path)


def test_a_busy_database_says_who_to_wait_for(
    store_path: Path, make_job: Callable[..., Job]
) -> None:
    with JobStore(store_path, busy_timeout_s=0.05) as store:
        job = store.add(make_job())
        other = sqlite3.connect(store_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            with pytest.raises(StorageError) as info:
                store.record_event(job.id, Progress(1, 10))
            assert str(store_path) in info.value.user_message
            assert "busy" in info.value.user_message
            # Reading still works while another process writes (WAL).
            assert store.get(job.id).progress.step == 0
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert store.record_event(job.id, Progress(1, 10)).progress.step == 1


def test_one_unreadable_record_does_not_hide_the_others(
    store: JobStore, store_path: Path, make_job: Callable[..., Job]
) -> None:
    good = store.add(make_job(name="good"))
    bad = store.add(make_job(name="bad"))
    raw = sqlite3.connect(store_path)
    raw.execute("UPDATE jobs SET record = ? WHERE id = ?", (json.dumps({"name": 5}), bad.id))
    raw.commit()
    raw.close()
    assert [job.id for job in store.list()] == [good.id]
    with pytest.raises(StorageError, match=bad.id):
        store.get(bad.id)


def test_an_unwritable_folder_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(StorageError) as info:
        JobStore(blocker / "sub" / "jobs.sqlite3")
    assert str(blocker / "sub") in info.value.user_message


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (sqlite3.OperationalError("database or disk is full"), "is full"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "writable"),
        (sqlite3.OperationalError("disk I/O error"), "disk level"),
        (sqlite3.DatabaseError("database disk image is malformed"), "damaged"),
        (sqlite3.OperationalError("no such table: jobs"), "no such table"),
    ],
)
def test_every_sqlite_failure_names_the_file_and_the_action(
    error: sqlite3.Error, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "jobs.sqlite3"
    result = storage_error(error, path, "save job J1")
    assert result.user_message.startswith("Could not save job J1")
    assert str(path) in result.user_message and expected in result.user_message
