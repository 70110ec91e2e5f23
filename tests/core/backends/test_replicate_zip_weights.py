"""The flat training zip (sizes, captions, downscaling under the upload limit) and the safe
unpacking of the weights tar (path escapes, damaged files, size limits)."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from lora_studio.core.backends.base import DatasetItem
from lora_studio.core.backends.replicate.dataset_zip import build_dataset_zip
from lora_studio.core.backends.replicate.weights import extract_lora, pick_lora
from lora_studio.core.errors import BackendError, DatasetError
from tests.fakes import fake_replicate_trainer as trainer


def noise_png(path: Path, size: tuple[int, int]) -> Path:
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path)
    return path


def test_zip_is_flat_with_captions_beside_images(tmp_path: Path) -> None:
    (tmp_path / "10_cat").mkdir()
    a = noise_png(tmp_path / "10_cat" / "a b.png", (64, 48))
    b = noise_png(tmp_path / "c.png", (40, 40))
    rgba = tmp_path / "alpha.png"
    Image.new("RGBA", (32, 32), (255, 0, 0, 0)).save(rgba)
    report = build_dataset_zip(
        (DatasetItem(a, "ohwx cat"), DatasetItem(b, ""), DatasetItem(rgba, "clear")),
        tmp_path / "d.zip",
        resolution=1024,
    )
    names = zipfile.ZipFile(report.path).namelist()
    assert names == [
        "0001_a_b.png",
        "0001_a_b.txt",
        "0002_c.png",
        "0003_alpha.jpg",
        "0003_alpha.txt",
    ]
    assert report.captions == 2 and report.downscaled_to is None
    # What the trainer makes of it: images paired with same-stem captions.
    seen = trainer.read_zip(report.path.read_bytes())
    assert seen.captioned == {"0001_a_b.png", "0003_alpha.jpg"}
    assert zipfile.ZipFile(report.path).read("0002_c.png") == b.read_bytes()  # kept as is


def test_too_big_originals_are_reencoded_but_not_below_the_resolution(tmp_path: Path) -> None:
    items = tuple(
        DatasetItem(noise_png(tmp_path / f"{i}.png", (1600, 1200)), f"caption {i}")
        for i in range(3)
    )
    original = sum(item.image.stat().st_size for item in items)
    limit = 2 * 1024 * 1024 + 1_500_000  # 1.5 MB for the images after the zip headroom
    report = build_dataset_zip(items, tmp_path / "d.zip", resolution=1024, limit=limit)
    assert original > limit and report.size <= limit
    assert report.downscaled_to == 1024
    with zipfile.ZipFile(report.path) as archive:
        for name in archive.namelist():
            if name.endswith(".jpg"):
                with Image.open(io.BytesIO(archive.read(name))) as image:
                    assert max(image.size) == 1024


def test_a_dataset_too_big_even_downscaled_is_refused(tmp_path: Path) -> None:
    items = tuple(
        DatasetItem(noise_png(tmp_path / f"{i}.png", (1400, 1400)), "c") for i in range(2)
    )
    with pytest.raises(DatasetError, match="too large for Replicate"):
        build_dataset_zip(items, tmp_path / "d.zip", resolution=1024, limit=2 * 1024 * 1024 + 1000)
    assert not (tmp_path / "d.zip").exists()


def tar_of(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, payload in members:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def test_the_lora_is_copied_out_of_the_tar(tmp_path: Path) -> None:
    dataset = trainer.ExtractedDataset(["a.jpg"], {"a.jpg"}, {"a": "ohwx"})
    archive = tmp_path / "w.tar"
    archive.write_bytes(trainer.weights_tar(8, dataset))
    target = extract_lora(archive, tmp_path / "out.safetensors")
    assert target.read_bytes() == trainer.lora_bytes(8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.safetensors", "w.tar"]


def test_escaping_member_names_refuse_the_archive(tmp_path: Path) -> None:
    for evil in ("../../escaped.txt", "/etc/passwd", "C:\\x\\lora.safetensors"):
        archive = tmp_path / "w.tar.gz"
        archive.write_bytes(tar_of(("out/lora.safetensors", trainer.lora_bytes(4)), (evil, b"x")))
        with pytest.raises(BackendError, match="unsafe path"):
            extract_lora(archive, tmp_path / "out.safetensors")
        assert not (tmp_path / "out.safetensors").exists()
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_links_are_never_followed(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        link = tarfile.TarInfo("out/lora.safetensors")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    archive = tmp_path / "w.tar"
    archive.write_bytes(buffer.getvalue())
    with pytest.raises(BackendError, match=r"no \.safetensors file"):
        extract_lora(archive, tmp_path / "out.safetensors")


def test_pick_prefers_lora_safetensors() -> None:
    members = []
    for name, size in (("x/big.safetensors", 900), ("x/lora.safetensors", 10), ("x/c.txt", 5)):
        info = tarfile.TarInfo(name)
        info.size = size
        members.append(info)
    assert pick_lora(members).name == "x/lora.safetensors"


def test_size_limit_stops_a_huge_member(tmp_path: Path) -> None:
    archive = tmp_path / "w.tar"
    archive.write_bytes(tar_of(("lora.safetensors", b"\0" * 5000)))
    with pytest.raises(BackendError, match="MB"):
        extract_lora(archive, tmp_path / "out.safetensors", limit=1000)
    assert not (tmp_path / "out.safetensors").exists()
