"""Benchmark: JobStore throughput and latency, printed as JSON.

Measures what the monitor and the start-up re-attach depend on:
- events per second through `record_events` in batches (a backend at 50 events/s must cost a
  small fraction of one core) and one event per call for comparison;
- milliseconds to list 100 unfinished jobs among 1,000 finished ones (start-up re-attach);
- milliseconds to export a job with 10,000 loss points.

Run: `.venv/bin/python benchmarks/bench_job_store.py` (uses a temporary folder, touches nothing).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lora_studio.core.jobs import Job, JobEvent, JobStatus, JobStore, Log, Loss, Progress


def _job(i: int, status: JobStatus = JobStatus.QUEUED) -> Job:
    job = Job(
        name=f"bench {i}",
        backend="comfyui",
        dataset_path="/datasets/cats",
        dataset_fingerprint="f" * 64,
        config={f"option_{k}": k for k in range(60)},  # about the size of a TrainingConfig dump
        backend_state={"prompt_ids": [f"p{i}"], "client_id": "c"},
    )
    if status is not JobStatus.QUEUED:
        job.transition(JobStatus.RUNNING)
        if status is not JobStatus.RUNNING:
            job.transition(status)
    return job


def _events(first_step: int, count: int) -> list[JobEvent]:
    # A realistic mix per step: progress, loss and a log line.
    events: list[JobEvent] = []
    step = first_step
    while len(events) < count:
        step += 1
        events += [Progress(step, 1_000_000), Loss(step, 0.1 + 1 / step), Log(f"step {step} ok")]
    return events[:count]


def bench_events(store: JobStore, batch: int, batches: int) -> float:
    job = store.add(_job(0))
    start = time.perf_counter()
    step = 0
    for _ in range(batches):
        store.record_events(job.id, _events(step, batch))
        step += batch
    return batch * batches / (time.perf_counter() - start)


def bench_unfinished(store: JobStore) -> float:
    for i in range(1_000):
        store.add(_job(i, JobStatus.COMPLETED))
    for i in range(100):
        store.add(_job(i, JobStatus.RUNNING if i % 2 else JobStatus.QUEUED))
    timings = []
    for _ in range(20):
        start = time.perf_counter()
        jobs = store.unfinished()
        timings.append(time.perf_counter() - start)
    assert len(jobs) == 100
    return statistics.median(timings) * 1000


def bench_export(store: JobStore) -> float:
    job = store.add(_job(1))
    for first in range(0, 10_000, 500):
        store.record_events(job.id, [Loss(first + i, 1 / (first + i + 1)) for i in range(500)])
    start = time.perf_counter()
    store.export_json(job.id)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        with JobStore(root / "events.sqlite3") as store:
            batched = bench_events(store, batch=50, batches=200)
            single = bench_events(store, batch=1, batches=500)
        with JobStore(root / "list.sqlite3") as store:
            unfinished_ms = bench_unfinished(store)
        with JobStore(root / "export.sqlite3") as store:
            export_ms = bench_export(store)
    json.dump(
        {
            "benchmark": "job_store",
            "python": sys.version.split()[0],
            "events_per_s_batch_50": round(batched),
            "events_per_s_single": round(single),
            "unfinished_100_of_1100_ms": round(unfinished_ms, 2),
            "export_10k_loss_points_ms": round(export_ms, 1),
        },
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
