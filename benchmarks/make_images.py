"""Benchmark helper: generate photo-like test pictures into a folder (no image sets committed).

Real photos are smooth with some texture, which is what JPEG decoders are tuned for; pure noise
would decode slower and compress worse than any photo. So each picture is a low-frequency colour
field (random 40×30 grid upscaled bicubically) with a few hard-edged shapes and mild grain.
A handful of distinct pictures are encoded, the rest are byte copies (decoding speed is what the
benchmarks measure; the file cache is warmed before timing).

    python benchmarks/make_images.py OUT --count 200 --size 4000x3000
"""

from __future__ import annotations

import argparse
import os
import shutil
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def photo_like(width: int, height: int, seed: int, grain: int = 6) -> Image.Image:
    """`grain` is the noise amplitude: 6 gives ~1.9 MB per 12 MP at q90 (a typical phone photo);
    0 gives ~0.9 MB (a very clean picture, decodes ~2× faster)."""
    rng = np.random.default_rng(seed)
    field = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    image = Image.fromarray(field).resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = (
            x0 + int(rng.integers(width // 20, width // 4)),
            y0 + int(rng.integers(height // 20, height // 4)),
        )
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    if grain <= 0:
        return image
    pixels = np.asarray(image, dtype=np.int16)
    noise = rng.integers(-grain, grain + 1, pixels.shape, dtype=np.int16)
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))


def make_jpegs(
    folder: Path,
    count: int,
    size: tuple[int, int] = (4000, 3000),
    unique: int = 8,
    quality: int = 90,
    grain: int = 6,
    camera: bool = False,
    mpf: bool = False,
) -> list[Path]:
    """`count` JPEGs of `size` in `folder` (`unique` distinct ones, the rest copies). With
    `camera`, each carries a 160 px EXIF thumbnail like a camera's or a phone's; with `mpf`, also
    a 1620 px MPF large preview after the photo (Canon, Nikon, Sony, Fujifilm, many phones)."""
    from lora_studio.core.dataset.camera_files import with_camera_previews, with_exif_thumbnail

    folder.mkdir(parents=True, exist_ok=True)
    originals: list[Path] = []
    for seed in range(min(unique, count)):
        path = folder / f"photo_{seed:05d}.jpg"
        if mpf:
            with_camera_previews(photo_like(*size, seed, grain), path, quality=quality)
        elif camera:
            with_exif_thumbnail(photo_like(*size, seed, grain), path, quality=quality)
        else:
            photo_like(*size, seed, grain).save(path, "JPEG", quality=quality)
        originals.append(path)
    paths = list(originals)
    for index in range(len(originals), count):
        path = folder / f"photo_{index:05d}.jpg"
        shutil.copyfile(originals[index % len(originals)], path)
        paths.append(path)
    return paths


def make_small_dataset(folder: Path, count: int, size: tuple[int, int] = (64, 48)) -> list[Path]:
    """A kohya-layout dataset of `count` small JPEGs (real headers), every other one captioned."""
    concept = folder / "10_bench"
    concept.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    templates = []
    for _ in range(16):
        image = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
        buffer = BytesIO()
        image.save(buffer, "JPEG", quality=80)
        templates.append(buffer.getvalue())
    paths = []
    for index in range(count):
        path = concept / f"img_{index:05d}.jpg"
        path.write_bytes(templates[index % len(templates)])
        if index % 2 == 0:
            path.with_suffix(".txt").write_text(
                f"bench, picture {index}, a caption", encoding="utf-8"
            )
        paths.append(path)
    return paths


def warm(paths: list[Path]) -> None:
    """Read every file once so timings measure decoding, not the first disk read."""
    for path in paths:
        path.read_bytes()


def mean_file_mb(paths: list[Path]) -> float:
    return sum(os.path.getsize(p) for p in paths) / len(paths) / 2**20


def load_average() -> float:
    """1-minute load before a run: other processes on a 2-core machine skew every timing."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return -1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--size", default="4000x3000")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    print(len(make_jpegs(args.out, args.count, (width, height))), "pictures in", args.out)


if __name__ == "__main__":
    main()
