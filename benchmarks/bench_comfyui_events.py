"""Benchmark: the ComfyUI event stream under 50 websocket events/s for 10 s — lag and backlog.

The fake ComfyUI trains at 25 steps/s and, like 0.3.64, sends two `logs` events per step (tqdm
redraws), i.e. 50 events/s to the subscribed client for 10 s. The client is the real
`ComfyUIBackend.events()` (websocket → per-prompt feed → tqdm parsing → typed events). Measured:
- lag: from the moment the fake sent the bar for step n to the moment `events()` yielded
  Progress(n) (both in this process, same monotonic clock);
- backlog: the deepest the prompt's feed got (messages received but not yet consumed).
Targets (issue 5): no backlog build-up — p95 lag < 100 ms and backlog < 50 messages.
Prints one JSON line. Usage: python benchmarks/bench_comfyui_events.py [--rate 50] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from PIL import Image  # noqa: E402

from lora_studio.core.backends.base import DatasetSummary  # noqa: E402
from lora_studio.core.backends.comfyui import ComfyUIBackend, ComfyUIOptions  # noqa: E402
from lora_studio.core.config.training_config import TrainingConfig  # noqa: E402
from lora_studio.core.jobs.events import Finished, Progress  # noqa: E402
from lora_studio.core.jobs.job import Job  # noqa: E402
from lora_studio.core.training.runner import typed_config  # noqa: E402
from tests.fakes.fake_comfyui import FakeComfyUI  # noqa: E402

TARGET_P95_MS = 100.0
TARGET_BACKLOG = 50


def make_dataset(folder: Path) -> DatasetSummary:
    folder.mkdir(parents=True)
    pairs = []
    for i in range(4):
        path = folder / f"{i}.png"
        Image.new("RGB", (64, 64), (60 * i, 90, 120)).save(path)
        pairs.append((path, f"ohwx, picture {i}"))
    return DatasetSummary.from_pairs(folder, pairs)


async def measure(fake: FakeComfyUI, dataset: DatasetSummary, steps: int) -> dict[str, object]:
    config = TrainingConfig(
        base_model_family="sd15",
        base_model="random_sd15.safetensors",
        max_steps=steps,
        resolution=256,
        bucketing=False,
        repeats=1,
    )
    job = Job(name="bench", backend="comfyui", dataset_path=str(dataset.folder), config=config)
    # One prompt, so one feed carries the whole stream (chunks would split it per prompt).
    backend = ComfyUIBackend(fake.url, options=ComfyUIOptions(chunked=False))
    lags: list[float] = []
    max_backlog = 0
    received = 0
    try:

        async def keep_state(state: Any, backend_job_id: str | None) -> None:
            job.backend_state = dict(state)  # no job store here: the state stays on the job
            if backend_job_id is not None:
                job.backend_job_id = backend_job_id

        await backend.submit(job, typed_config(job), dataset, keep_state)
        session = backend.session(backend.client_id)
        pid = job.backend_job_id or ""
        began = time.monotonic()
        sent_before = fake.messages_sent
        async for event in backend.events(job, typed_config(job)):
            feed = session.feed(pid)
            if feed is not None:
                max_backlog, received = max(max_backlog, feed.max_depth), feed.received
            if isinstance(event, Progress) and (pid, event.step) in fake.bar_sent:
                lags.append(time.monotonic() - fake.bar_sent[(pid, event.step)])
            if isinstance(event, Finished):
                break
        duration = time.monotonic() - began
        sent = fake.messages_sent - sent_before
    finally:
        await backend.aclose()
    lags_ms = sorted(1000 * lag for lag in lags)
    p95 = lags_ms[int(0.95 * (len(lags_ms) - 1))] if lags_ms else None
    return {
        "benchmark": "comfyui_events",
        "seconds": round(duration, 2),
        "ws_messages_sent": sent,
        "messages_per_second": round(sent / duration, 1),
        "feed_messages_received": received,
        "progress_events_timed": len(lags_ms),
        "lag_ms_p50": round(statistics.median(lags_ms), 2) if lags_ms else None,
        "lag_ms_p95": round(p95, 2) if p95 is not None else None,
        "lag_ms_max": round(lags_ms[-1], 2) if lags_ms else None,
        "max_backlog_messages": max_backlog,
        "ok": bool(p95 is not None and p95 < TARGET_P95_MS and max_backlog < TARGET_BACKLOG),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="websocket events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    steps_per_second = args.rate / 2  # two tqdm redraws per step
    with tempfile.TemporaryDirectory(prefix="bench-comfy-") as tmp:
        dataset = make_dataset(Path(tmp) / "dataset")
        fake = FakeComfyUI(Path(tmp) / "server", steps_per_second=steps_per_second)
        with fake:
            result = asyncio.run(measure(fake, dataset, int(steps_per_second * args.seconds)))
    result["target_rate"] = args.rate
    print(json.dumps(result))


if __name__ == "__main__":
    main()
