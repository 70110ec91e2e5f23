"""Benchmark: save one edited caption in a 10,000-image dataset; target < 20 ms per save.

A save is what the editor's autosave does: `CaptionStore.write` — read the old text, append the
change to the journal (fsync), write the `.txt` atomically (temp + fsync + rename + directory
fsync), append the `done` marker. The dataset has 10,000 captioned pictures and a history that
already holds a whole-dataset batch operation (a 10,000-caption journal record) plus 200 edits,
so the store is opened the way it is after weeks of use. Also reports how long opening the store
(replaying the journal) takes. Prints one JSON line.
Usage: python benchmarks/bench_caption_save.py [--count 10000] [--saves 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from make_images import load_average, make_small_dataset

from lora_studio.core.captioning.batch import plan_trigger_word
from lora_studio.core.dataset.caption_store import CaptionStore

TARGET_MS = 20.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--saves", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-caption-save-", dir=Path.cwd()) as tmp:
        root = Path(tmp) / "dataset"
        images = make_small_dataset(root, args.count)
        for image in images[1::2]:  # make_small_dataset captions every other picture
            image.with_suffix(".txt").write_text(f"bench, picture {image.stem}", encoding="utf-8")
        store = CaptionStore(root)
        captions = {image: store.read(image) for image in images}
        plan = plan_trigger_word(captions, "ohwx")
        started = time.perf_counter()
        store.apply(plan.changes, label=plan.label)
        batch_seconds = time.perf_counter() - started
        for n in range(200):
            store.write(images[n * 37 % len(images)], f"ohwx, history edit {n}")

        started = time.perf_counter()
        store = CaptionStore(root)  # as after a restart
        open_ms = (time.perf_counter() - started) * 1000
        load = load_average()
        timings = []
        for n in range(args.saves):
            image = images[(n * 7919) % len(images)]
            text = f"ohwx, edited caption number {n}, red hair, smiling"
            started = time.perf_counter()
            store.write(image, text)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        result = {
            "benchmark": "caption_save",
            "images": len(images),
            "saves": len(timings),
            "median_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
            "max_ms": round(timings[-1], 2),
            "target_ms": TARGET_MS,
            "pass": statistics.median(timings) < TARGET_MS,
            "open_store_ms": round(open_ms, 1),
            "batch_all_seconds": round(batch_seconds, 2),
            "undo_steps": len(store.history()),
            "load_average_before": round(load, 2),
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
