"""Benchmark: metadata rewrite and inspection of a ~200 MB LoRA, time and memory.

Generates an SDXL-style kohya LoRA (F16, rank 64) of about 200 MB in a temp folder without ever
holding it in memory, then rewrites its metadata a few times and inspects it. Peak RSS is sampled
from a background thread during each rewrite; the point is that it stays near the 1 MB copy
buffer, far below the file size. Prints one JSON object.

    .venv/bin/python benchmarks/bench_weights.py [--megabytes 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil

from lora_studio.core.weights import (
    TrainingMetadataInput,
    build_training_metadata,
    inspect_lora,
    read_header,
    write_metadata,
)
from lora_studio.core.weights.header import TensorInfo
from lora_studio.core.weights.writer import encode_header

RANK, WIDTH = 64, 2048
CHUNK = 1 << 20


def generate(path: Path, megabytes: int) -> int:
    """Write a valid LoRA of ~`megabytes` MB by streaming pseudo-random chunks."""
    module_bytes = 2 * (2 * RANK * WIDTH) + 4  # F16 down + up, F32 alpha
    modules = max(1, megabytes * (1 << 20) // module_bytes)
    infos: list[TensorInfo] = []
    position = 0
    # Reference order: F32 alphas first (wider dtype), then F16 weights by name.
    names = [
        f"lora_unet_output_blocks_{i // 10}_1_transformer_blocks_{i % 10}_attn2_to_k"
        for i in range(modules)
    ]
    for name in sorted(names):
        infos.append(TensorInfo(f"{name}.alpha", "F32", (), position, position + 4))
        position += 4
    for name in sorted(names):
        for part, shape in (
            (".lora_down.weight", (RANK, WIDTH)),
            (".lora_up.weight", (WIDTH, RANK)),
        ):
            size = 2 * shape[0] * shape[1]
            infos.append(TensorInfo(name + part, "F16", shape, position, position + size))
            position += size
    block = os.urandom(CHUNK)
    with open(path, "wb") as handle:
        handle.write(encode_header(infos, {"ss_network_dim": str(RANK)}))
        remaining = position
        while remaining:
            count = min(CHUNK, remaining)
            handle.write(block[:count])
            remaining -= count
    return position


def data_sha256(path: Path) -> str:
    header = read_header(path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        handle.seek(header.data_start)
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class PeakRss:
    """Samples this process's RSS every 2 ms while active."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.baseline = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.002)

    def __enter__(self) -> PeakRss:
        self.baseline = self.peak = self.process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def training_metadata(run: int) -> dict[str, str]:
    tags = {"10_subject": {f"tag {i}": 500 - i for i in range(400)}}
    return build_training_metadata(
        TrainingMetadataInput(
            output_name=f"bench_{run}",
            family="sdxl",
            base_model="sd_xl_base_1.0.safetensors",
            rank=RANK,
            alpha=32,
            learning_rate=1e-4,
            job_id=f"bench-{run}",
            dataset_fingerprint="sha256:" + "0" * 64,
            backend="benchmark",
            dataset_dirs={"10_subject": (10, 40)},
            tag_frequency=tags,
            started_at=time.time(),
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_weights_") as folder:
        path = Path(folder) / "bench_sdxl_lora.safetensors"
        generate(path, args.megabytes)
        file_size = path.stat().st_size
        before = data_sha256(path)

        rewrites = []
        for run in range(args.repeats):
            metadata = training_metadata(run)
            with PeakRss() as rss:
                start = time.perf_counter()
                write_metadata(path, metadata, merge=False)
                seconds = time.perf_counter() - start
            rewrites.append({"seconds": round(seconds, 3), "rss_growth_bytes": rss.growth})

        start = time.perf_counter()
        info = inspect_lora(path)
        inspect_seconds = time.perf_counter() - start
        identical = data_sha256(path) == before

    growth = max(r["rss_growth_bytes"] for r in rewrites)
    print(
        json.dumps(
            {
                "benchmark": "weights_metadata_rewrite",
                "file_bytes": file_size,
                "tensors": info.tensor_count,
                "header_bytes": info.header_size,
                "rewrite_seconds": [r["seconds"] for r in rewrites],
                "rewrite_mb_per_second": round(
                    file_size / 1e6 / min(r["seconds"] for r in rewrites), 1
                ),
                "peak_rss_growth_bytes": growth,
                "peak_rss_growth_fraction_of_file": round(growth / file_size, 4),
                "inspect_seconds": round(inspect_seconds, 4),
                "tensor_bytes_identical": identical,
                "rank": info.rank.most_common if info.rank else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
