"""Benchmark: scan 10,000 images (target ≤ 3 s) and the process RSS with the scan in memory.

The pictures are small real JPEGs (64×48) because a scan reads headers only: what is measured is
listing, stat, header parsing and caption reading, not decoding. Half have captions. Run once
with a warm file cache (the usual case right after copying a dataset) and report both the first
(cold-ish) and the best of three runs. Prints one JSON line.
Usage: python benchmarks/bench_scan.py [--count 10000]
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from pathlib import Path

import psutil
from make_images import make_small_dataset

from lora_studio.core.dataset import DoctorOptions, quick_findings, scan_dataset

TARGET_SECONDS = 3.0
TARGET_RSS_MB = 500.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    process = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        root = Path(tmp) / "dataset"
        make_small_dataset(root, args.count)
        gc.collect()
        rss_before = process.memory_info().rss
        timings = []
        scan = None
        for _ in range(3):
            scan = None
            gc.collect()
            start = time.perf_counter()
            scan = scan_dataset(root)
            timings.append(time.perf_counter() - start)
        assert scan is not None
        start = time.perf_counter()
        findings = quick_findings(scan, DoctorOptions(resolution=1024))
        quick_seconds = time.perf_counter() - start
        rss_after = process.memory_info().rss
    print(
        json.dumps(
            {
                "benchmark": "scan",
                "images": len(scan.entries),
                "captions": sum(1 for e in scan.entries if e.caption is not None),
                "first_seconds": round(timings[0], 3),
                "best_seconds": round(min(timings), 3),
                "us_per_image": round(1e6 * min(timings) / len(scan.entries), 1),
                "quick_findings_seconds": round(quick_seconds, 3),
                "findings": len(findings),
                "rss_mb": round(rss_after / 2**20, 1),
                "rss_growth_mb": round((rss_after - rss_before) / 2**20, 1),
                "target_seconds": TARGET_SECONDS,
                "target_rss_mb": TARGET_RSS_MB,
                "meets_target": max(timings) <= TARGET_SECONDS
                and rss_after / 2**20 <= TARGET_RSS_MB,
            }
        )
    )


if __name__ == "__main__":
    main()
