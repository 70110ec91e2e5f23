"""Benchmark: what reading the decode verdicts adds to a Dataset page open (worker time).

The open's quick checks (`core_adapter.quick_check`, in the executor) are `doctor --quick`: the
checks that need no decoding plus the pictures `.lorastudio/decode.json` names as not decoding
(`decode_check.known_failures`). This times, on `--count` pictures (an in-memory scan over small
files, so only the checks and the verdict file are measured, never Pillow):
- `known_failures_ms`: reading the verdicts of every picture, `--failures` of them damaged;
- `no_verdicts_ms`: the same with no verdict file (a dataset never checked);
- `checks_before_ms` / `checks_after_ms`: the quick checks without and with the verdicts.
Medians of `--repeat` runs. Prints one JSON line. Usage:
python benchmarks/bench_open_verdicts.py [--count 5000] [--failures 10] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lora_studio.core.dataset.checks import quick_findings
from lora_studio.core.dataset.decode_check import DecodeFailure, DecodeVerdicts, known_failures
from lora_studio.core.dataset.findings import sort_findings
from lora_studio.core.dataset.models import DatasetScan, ImageEntry
from lora_studio.viewmodels.dataset import core_adapter


def _scan(root: Path, count: int) -> DatasetScan:
    entries = []
    for index in range(count):
        path = root / f"img_{index:05d}.jpg"
        path.write_bytes(b"\xff\xd8" + bytes(100))
        stat = os.stat(path)
        entries.append(
            ImageEntry(
                path=path,
                rel_path=path.name,
                folder="",
                concept=None,
                repeats=1,
                width=1024,
                height=768,
                format="JPEG",
                mode="RGB",
                file_size=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
                caption="ohwx, tag",
                caption_encoding="utf-8",
                error=None,
                error_kind=None,
            )
        )
    return DatasetScan(root, "flat", tuple(entries))


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    call()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--failures", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder).absolute()
        scan = _scan(root, args.count)
        paths = [entry.path for entry in scan.entries]
        options = core_adapter.doctor_options(1024, "ohwx")
        before = lambda: sort_findings(quick_findings(scan, options))  # noqa: E731
        after = lambda: core_adapter.quick_check(scan, options)  # noqa: E731
        no_verdicts = _median_ms(lambda: known_failures(root, paths), args.repeat)
        every = max(1, args.count // max(1, args.failures))
        store = DecodeVerdicts(root)
        store.save(
            {
                entry.rel_path: store.entry(
                    entry.path,
                    os.stat(entry.path),
                    DecodeFailure(entry.path, "truncated", f"{entry.path.name} is truncated.")
                    if index % every == 0
                    else None,
                )
                for index, entry in enumerate(scan.entries)
            }
        )
        result = {
            "pictures": args.count,
            "failures": len(known_failures(root, paths)),
            "known_failures_ms": _median_ms(lambda: known_failures(root, paths), args.repeat),
            "no_verdicts_ms": no_verdicts,
            "checks_before_ms": _median_ms(before, args.repeat),
            "checks_after_ms": _median_ms(after, args.repeat),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
