"""Links that leave the dataset are never read; odd names and broken links never crash training."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.dataset import DoctorOptions, quick_findings, scan_dataset
from lora_studio.core.jobs.fingerprint import dataset_files, dataset_fingerprint
from lora_studio.core.training.dataset_input import load_training_dataset

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symlinks and byte names")


@pytest.fixture
def linked(tmp_path: Path, pictures) -> Path:  # type: ignore[no-untyped-def]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----")
    pictures.jpeg(outside / "far.jpg", seed=7)
    root = tmp_path / "dataset"
    pictures.caption(pictures.jpeg(root / "a.jpg", seed=1), "ohwx a")
    pictures.jpeg(root / "b.jpg", seed=2)
    (root / "b.txt").symlink_to("../outside/id_rsa")  # a caption that leaks a secret
    (root / "far.jpg").symlink_to(outside / "far.jpg")
    (root / "10_linked").symlink_to(outside, target_is_directory=True)
    pictures.caption(pictures.jpeg(root / "inside" / "c.jpg", seed=3), "ohwx c")
    (root / "c.jpg").symlink_to("inside/c.jpg")  # inside the dataset: fine
    (root / "c.txt").symlink_to("inside/c.txt")
    return root


def test_links_leaving_the_dataset_are_flagged_and_never_read(linked: Path) -> None:
    scan = scan_dataset(linked)
    names = sorted(entry.rel_path for entry in scan.entries)
    assert names == ["a.jpg", "b.jpg", "c.jpg", "inside/c.jpg"]
    b = next(entry for entry in scan.entries if entry.rel_path == "b.jpg")
    assert b.caption is None  # the secret was not read
    c = next(entry for entry in scan.entries if entry.rel_path == "c.jpg")
    assert c.caption == "ohwx c"
    outside = sorted(p.path.name for p in scan.problems if p.kind == "link_outside")
    assert outside == ["10_linked", "b.txt", "far.jpg"]
    findings = [f for f in quick_findings(scan, DoctorOptions()) if f.kind == "link_outside"]
    assert len(findings) == 3 and all(f.severity.value == "warning" for f in findings)
    assert "never read or uploaded" in findings[0].message

    dataset = load_training_dataset(linked, TrainingConfig())
    uploaded = list(dataset.summary.items)
    assert not [item for item in uploaded if "outside" in str(os.path.realpath(item.image))]
    assert all("BEGIN" not in item.caption for item in uploaded)
    hashed = [relative for relative, _ in dataset_files(linked)]
    assert "b.txt" not in hashed and "far.jpg" not in hashed and "c.txt" in hashed


def test_fingerprint_with_a_non_utf8_name_a_broken_link_and_a_pipe(
    tmp_path: Path, pictures
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "dataset"
    pictures.jpeg(root / "a.jpg")
    odd = os.fsencode(root) + b"/bad\xffbytes.jpg"
    with open(odd, "wb") as handle:
        handle.write((root / "a.jpg").read_bytes())
    (root / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    os.mkfifo(root / "pipe.jpg")
    first = dataset_fingerprint(root)
    assert len(first) == 64 and dataset_fingerprint(root) == first
    os.unlink(odd)
    assert dataset_fingerprint(root) != first  # the odd name was hashed, not dropped
