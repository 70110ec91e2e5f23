"""Benchmark: re-attach N unfinished jobs at start-up against the fake ComfyUI (target: N=100
in < 2 s).

The jobs were submitted by an earlier session that was then closed; while it was away the server
trained them all (the fake server runs in its own process). Re-attaching resyncs each job from /history, downloads and verifies its LoRA,
stamps the metadata and marks it completed. Prints one JSON line.

    python benchmarks/bench_reattach.py [--jobs 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lora_studio.core.jobs import JobStatus, JobStore  # noqa: E402
from lora_studio.core.training.service import TrainingService  # noqa: E402
from tests.e2e.test_cli_train_comfyui import make_dataset  # noqa: E402
from tests.fakes.earlier_session import submit_async  # noqa: E402


async def submit_all(url: str, store: JobStore, folder: Path, count: int) -> None:
    for index in range(count):
        await submit_async(url, folder, store, name=f"job {index}", max_steps=2)


async def reattach(store: JobStore, out: Path) -> float:
    service = TrainingService(store, out)
    started = time.perf_counter()
    try:
        service.reattach_unfinished()
        await asyncio.gather(*service.tasks.values())
    finally:
        await service.aclose()
    return time.perf_counter() - started


SERVER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from tests.fakes.fake_comfyui import FakeComfyUI
with FakeComfyUI(Path(sys.argv[2]), steps_per_second=2000, node_delay=0.0005) as fake:
    print(fake.url, flush=True)
    sys.stdin.read()  # runs until the benchmark closes our stdin
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        os.environ["LORA_STUDIO_HOME"] = str(root / "home")
        # The server runs in its own process, as a real ComfyUI would, so its work does not
        # compete with the client for this interpreter's GIL.
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(ROOT), str(root / "server")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            folder = make_dataset(root / "dataset", count=2)
            with JobStore(root / "jobs.sqlite3") as store:
                asyncio.run(submit_all(url, store, folder, args.jobs))
                asyncio.run(_wait_until_idle(url))
                seconds = asyncio.run(reattach(store, root / "out"))
                statuses = [job.status for job in store.list(limit=args.jobs + 10)]
        finally:
            if server.stdin:
                server.stdin.close()
            server.wait(10)
    completed = sum(status is JobStatus.COMPLETED for status in statuses)
    print(
        json.dumps(
            {
                "benchmark": "reattach_unfinished_jobs",
                "jobs": args.jobs,
                "seconds": round(seconds, 3),
                "completed": completed,
                "target_seconds": 2.0,
                "meets_target": seconds < 2.0 and completed == args.jobs,
            }
        )
    )
    return 0


async def _wait_until_idle(url: str) -> None:
    """Until the server has trained everything it was given (GET /queue is empty)."""
    import httpx

    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(1200):
            queue = (await client.get("/queue")).json()
            if not queue["queue_running"] and not queue["queue_pending"]:
                return
            await asyncio.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
