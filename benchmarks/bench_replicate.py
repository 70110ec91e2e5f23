"""Benchmark: the Replicate backend's local work — packing the training zip and parsing the log.

1. Zip: 60 photo-like 12 MP JPEGs (~3 MB each, `make_images.photo_like`): ~180 MB as they are,
   over Replicate's 100 MB upload limit, so every picture is re-encoded at 2048 px (then smaller
   if needed, never below the 1024 px training resolution). Reports seconds, the level used and
   the zip size. Runs in a worker thread in the app (`asyncio.to_thread`), timed here directly.
2. Logs: a 6000-step run's log (~650 KB, one bar line per step, as Replicate returns it) polled
   the way the follower does — 300 growing snapshots, each parsed only where it is new — plus a
   re-attach that reads the full log once (only its 64 KB tail is parsed).
Prints one JSON line. Usage: python benchmarks/bench_replicate.py [--images 60]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from make_images import make_jpegs, warm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.fakes (the log format)

from lora_studio.core.backends.base import DatasetItem
from lora_studio.core.backends.progress.replicate import LogReader
from lora_studio.core.backends.replicate.dataset_zip import build_dataset_zip
from tests.fakes import fake_replicate_trainer as trainer


def bench_zip(count: int) -> dict[str, float | int | None]:
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_jpegs(Path(tmp) / "ds", count, size=(4000, 3000), unique=6, grain=10)
        warm(paths)
        items = tuple(DatasetItem(p, f"ohwx, photo {i}") for i, p in enumerate(paths))
        original = sum(p.stat().st_size for p in paths)
        began = time.perf_counter()
        report = build_dataset_zip(items, Path(tmp) / "d.zip", resolution=1024)
        seconds = time.perf_counter() - began
        return {
            "zip_images": count,
            "zip_original_mb": round(original / 1e6, 1),
            "zip_seconds": round(seconds, 2),
            "zip_ms_per_image": round(1000 * seconds / count, 1),
            "zip_mb": round(report.size / 1e6, 1),
            "zip_downscaled_to": report.downscaled_to,
        }


def bench_logs(steps: int = 6000, polls: int = 300) -> dict[str, float | int]:
    dataset = trainer.ExtractedDataset([f"{i}.jpg" for i in range(20)], set(), {})
    lines = trainer.preamble(dataset, steps) + [
        trainer.bar(s, steps, 4e-4, s / 1.2, 1.2) for s in range(1, steps + 1)
    ]
    full = "\n".join(lines) + "\n"
    cut = [full[: full.find("\n", len(full) * k // polls) + 1] for k in range(1, polls + 1)]
    reader = LogReader(steps=steps)
    began = time.perf_counter()
    events = sum(len(reader.feed(snapshot)) for snapshot in cut)
    follow_s = time.perf_counter() - began
    began = time.perf_counter()
    LogReader(steps=steps).feed(full)
    attach_s = time.perf_counter() - began
    return {
        "log_kb": len(full) // 1024,
        "log_polls": polls,
        "log_events": events,
        "log_follow_ms_per_poll": round(1000 * follow_s / polls, 3),
        "log_reattach_ms": round(1000 * attach_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=60)
    args = parser.parse_args()
    print(json.dumps({**bench_logs(), **bench_zip(args.images)}))


if __name__ == "__main__":
    main()
