"""Benchmark: what the training's "does every picture decode?" check costs (core/dataset/decode_check).

Three cases on the same folder of 12 MP photo-like JPEGs:
- `decode`: nothing known yet — every picture is decoded at draft scale (2 threads);
- `verdicts`: a second check — every verdict comes from `.lorastudio/decode.json`;
- `thumbnails`: no verdict file, but the grid's thumbnail cache is complete (a dataset opened on
  the Dataset page) — every verdict comes from a cached thumbnail.
Also `png_scan`: a header scan of PNGs, which used to decode each one while looking for EXIF.
Prints one JSON line. Usage: python benchmarks/bench_decode_check.py [--count 60]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from make_images import load_average, make_jpegs, photo_like, warm

from lora_studio.core.dataset import ThumbnailCache, generate_thumbnails, scan_dataset
from lora_studio.core.dataset.decode_check import DecodeVerdicts, verify_decodes
from lora_studio.core.dataset.sidecar import Sidecar


def _timed(func) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = func()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--pngs", type=int, default=40)
    args = parser.parse_args()
    load = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-decode-") as tmp:
        root = Path(tmp) / "set"
        paths = make_jpegs(root, args.count, (4000, 3000), unique=4)
        warm(paths)
        decode_s, first = _timed(lambda: verify_decodes(root, paths))
        verdicts_s, second = _timed(lambda: verify_decodes(root, paths))
        DecodeVerdicts(root).path.unlink()
        generate_thumbnails(paths, ThumbnailCache(Sidecar(root).thumbnails_dir))
        thumbs_s, third = _timed(lambda: verify_decodes(root, paths))

        pngs = Path(tmp) / "pngs"
        pngs.mkdir()
        template = pngs / "p_00000.png"
        photo_like(1024, 1024, 1).save(template, "PNG", compress_level=1)
        for index in range(1, args.pngs):
            shutil.copyfile(template, pngs / f"p_{index:05d}.png")
        warm(sorted(pngs.glob("*.png")))
        png_scan_s, _ = _timed(lambda: scan_dataset(pngs))
    assert first.decoded == args.count and second.decoded == 0 and third.decoded == 0  # type: ignore[attr-defined]
    print(
        json.dumps(
            {
                "pictures": args.count,
                "decode_ms_per_picture": round(decode_s / args.count * 1000, 2),
                "decode_pictures_per_s": round(args.count / decode_s, 1),
                "verdicts_ms_total": round(verdicts_s * 1000, 2),
                "thumbnails_ms_total": round(thumbs_s * 1000, 2),
                "png_scan_ms_per_picture": round(png_scan_s / args.pngs * 1000, 3),
                "load_before": load,
            }
        )
    )


if __name__ == "__main__":
    main()
