"""Preprocessing: bucket-sized output that matches the trainer's crop, captions copied."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lora_studio.core.dataset import (
    BucketSelector,
    BucketSettings,
    CancelToken,
    PrepareOptions,
    prepare_dataset,
    scan_dataset,
)
from lora_studio.core.errors import DatasetError


def test_outputs_are_bucket_sized_with_captions(tmp_path: Path, dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    pictures.caption(
        pictures.jpeg(dataset / "10_ohwx" / "wide.jpg", size=(1600, 1200), seed=1), "ohwx wide"
    )
    pictures.jpeg(dataset / "10_ohwx" / "tall.jpg", size=(600, 900), seed=2)
    pictures.png(dataset / "10_ohwx" / "tall.png", size=(600, 900), seed=3)  # same stem
    pictures.save(Image.new("RGBA", (512, 512), (0, 0, 0, 0)), dataset / "10_ohwx" / "clear.png")
    (dataset / "10_ohwx" / "broken.jpg").write_bytes(b"nope")
    out = tmp_path / "out"
    report = prepare_dataset(dataset, out, PrepareOptions(resolution=512))
    selector = BucketSelector(BucketSettings(512))
    assert sorted(p.destination.name for p in report.written) == [
        "clear.jpg",
        "tall.jpg",
        "tall_2.jpg",
        "wide.jpg",
    ]
    for item in report.written:
        with Image.open(item.destination) as image:
            assert image.size == item.bucket and image.mode == "RGB"
            with Image.open(item.source) as source:
                assert item.bucket == selector.select(*source.size).bucket
    assert (out / "10_ohwx" / "wide.txt").read_text() == "ohwx wide"
    assert [path.name for path, _ in report.failed] == ["broken.jpg"]
    with Image.open(out / "10_ohwx" / "clear.jpg") as flat:
        assert min(flat.getpixel((10, 10))) > 245  # type: ignore[arg-type]  # white, not black
    assert scan_dataset(out).layout == "kohya"


def test_crop_matches_the_trainer(tmp_path: Path, dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    # Left half red, right half blue, 1000×500 → square 256: kohya keeps the middle 500 px.
    pixels = np.zeros((500, 1000, 3), dtype=np.uint8)
    pixels[:, :500] = (255, 0, 0)
    pixels[:, 500:] = (0, 0, 255)
    pictures.save(Image.fromarray(pixels), dataset / "split.png")
    report = prepare_dataset(
        dataset, tmp_path / "sq", PrepareOptions(resolution=256, buckets=False, format="png")
    )
    with Image.open(report.written[0].destination) as image:
        assert image.size == (256, 256)
        assert image.getpixel((5, 128))[0] > 200 and image.getpixel((250, 128))[2] > 200  # type: ignore[index]


def test_exif_rotation_is_baked_in(tmp_path: Path, dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    pictures.jpeg(dataset / "turned.jpg", size=(800, 400), orientation=6)
    report = prepare_dataset(dataset, tmp_path / "o", PrepareOptions(resolution=512, format="webp"))
    with Image.open(report.written[0].destination) as image:
        assert image.format == "WEBP" and image.height > image.width
        assert image.getexif().get(0x0112) is None


def test_refuses_output_inside_dataset_and_cancels(tmp_path: Path, dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DatasetError, match="inside the dataset"):
        prepare_dataset(dataset, dataset / "prepared")
    for i in range(10):
        pictures.jpeg(dataset / f"{i}.jpg", size=(300, 300), seed=i)
    token = CancelToken()

    def progress(done: int, total: int) -> None:
        if done == 2:
            token.cancel()

    report = prepare_dataset(
        dataset, tmp_path / "c", PrepareOptions(resolution=256), cancel=token, progress=progress
    )
    assert report.cancelled and 2 <= len(report.written) < 10
    with pytest.raises(DatasetError, match="output format"):
        PrepareOptions(format="gif")  # type: ignore[arg-type]
