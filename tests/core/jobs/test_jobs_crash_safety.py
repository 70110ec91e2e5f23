"""Crash safety: a writer killed with SIGKILL mid-run leaves a sound database.

A child process records jobs and event batches as fast as it can and reports each job it has fully
committed. We kill it at a random moment, reopen the store and check that SQLite's integrity check
passes, every reported job is complete, and every other job is consistent — a batch is all or
nothing, so each job's loss points match its recorded progress exactly.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from lora_studio.core.jobs import JobStatus, JobStore

STEPS = 20

WRITER = f"""
import itertools, sys
from lora_studio.core.jobs import Checkpoint, Finished, Job, JobStore, Log, Loss, Progress
store = JobStore(sys.argv[1])
done = open(sys.argv[2], "a", buffering=1)
for n in itertools.count():
    job = store.add(Job(name=f"crash {{n}}", backend="kohya", dataset_path="/d",
                        config={{"n": n, "pad": "x" * 500}}, backend_state={{"chunk": 0}}))
    for step in range(1, {STEPS} + 1):
        store.record_events(job.id, [Progress(step, {STEPS}), Loss(step, 1 / step),
                                     Log(f"step {{step}}"), Log("y" * 200)])
    store.record_events(job.id, [Checkpoint(f"c{{n}}.safetensors"), Finished((f"w{{n}}",))])
    done.write(job.id + "\\n")
"""


def _kill_writer_mid_run(store_path: Path, done_path: Path, rng: random.Random) -> None:
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(store_path), str(done_path)])
    try:
        deadline = time.monotonic() + 10.0
        while not (done_path.exists() and done_path.read_text().count("\n") >= 1):
            assert child.poll() is None, "the writer exited early"
            assert time.monotonic() < deadline, "the writer never committed a job"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 0.35))
    finally:
        child.kill()  # SIGKILL on POSIX: no cleanup, no atexit, no close()
        child.wait()


def _check_store(store_path: Path, done_path: Path) -> int:
    raw = sqlite3.connect(store_path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        raw.close()
    committed = [line for line in done_path.read_text().split("\n")[:-1] if line]
    with JobStore(store_path) as store:
        for job_id in committed:
            job = store.get(job_id)
            assert job.status is JobStatus.COMPLETED and job.progress.step == STEPS
            assert len(job.outputs) == 1 and len(job.checkpoints) == 1
            assert len(store.loss_series(job_id)) == STEPS
            assert len(store.logs(job_id, limit=10_000)) == 2 * STEPS
            assert json.loads(store.export_json(job_id))["metrics"]["loss_points"] == STEPS
        for job in store.list(limit=100_000):
            # All or nothing per batch: progress, loss and logs always agree.
            assert len(store.loss_series(job.id)) == job.progress.step
            assert len(store.logs(job.id, limit=10_000)) == 2 * job.progress.step
            assert store.status_history(job.id)[0].to_status is JobStatus.QUEUED
    return len(committed)


def test_sigkill_mid_write_leaves_every_committed_job_readable(tmp_path: Path) -> None:
    store_path = tmp_path / "jobs.sqlite3"
    done_path = tmp_path / "done.txt"
    rng = random.Random(1234)
    committed = 0
    for _ in range(3):
        _kill_writer_mid_run(store_path, done_path, rng)
        committed = _check_store(store_path, done_path)
    assert committed >= 3
