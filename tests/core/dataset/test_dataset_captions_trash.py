"""Captions on disk, the sidecar manifest, and trash + undo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lora_studio.core.dataset import Sidecar, Trash, read_caption_for, write_caption
from lora_studio.core.dataset.captions import decode_caption, first_line
from lora_studio.core.dataset.sidecar import is_sidecar_path
from lora_studio.core.errors import DatasetError


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        ("plain, utf-8 ✓".encode(), "plain, utf-8 ✓", "utf-8"),
        (b"\xef\xbb\xbfwith bom", "with bom", "utf-8-sig"),
        ("utf-16 ✓".encode("utf-16"), "utf-16 ✓", "utf-16"),
        ("café".encode("cp1252"), "café", "cp1252"),
        (b"\x81\x8d", "\x81\x8d", "latin-1"),  # undefined in cp1252: Latin-1 never fails
    ],
)
def test_decode_caption(data: bytes, text: str, encoding: str) -> None:
    decoded = decode_caption(data)
    assert (decoded.text, decoded.encoding) == (text, encoding)


def test_write_caption_is_atomic_utf8(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    image = pictures.jpeg(dataset / "a.jpg")
    path = write_caption(image, "ohwx, ünïcode")
    assert path == dataset / "a.txt" and path.read_bytes() == "ohwx, ünïcode".encode()
    assert [p.name for p in dataset.iterdir() if p.name.startswith(".")] == []
    assert read_caption_for(image).text == "ohwx, ünïcode"  # type: ignore[union-attr]
    assert first_line("first\nsecond") == "first" and first_line("") == ""


def test_manifest_round_trip_and_damage(dataset: Path) -> None:
    sidecar = Sidecar(dataset)
    assert sidecar.load_manifest().trigger_word is None and not sidecar.directory.exists()
    saved = sidecar.update_manifest(trigger_word="ohwx", resolution=768)
    assert saved.created_at and saved.trigger_word == "ohwx"
    data = json.loads(sidecar.manifest_path.read_text())
    assert data["schema_version"] == 1 and data["resolution"] == 768
    data["future_key"] = 1
    sidecar.manifest_path.write_text(json.dumps(data))
    assert sidecar.load_manifest().extra == {"future_key": 1}
    sidecar.manifest_path.write_text("{ not json")
    assert sidecar.load_manifest().trigger_word is None
    assert any(p.name.startswith("manifest.json.damaged-") for p in sidecar.directory.iterdir())
    assert is_sidecar_path(sidecar.manifest_path, dataset) and not is_sidecar_path(
        dataset / "a.jpg", dataset
    )


def test_delete_moves_picture_and_caption_and_undo_restores(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    image = pictures.jpeg(dataset / "10_x" / "a.jpg")
    pictures.caption(image, "caption")
    other = pictures.jpeg(dataset / "b.jpg", seed=2)
    trash = Trash(dataset)
    batch = trash.move_to_trash([image, other])
    assert not image.exists() and not image.with_suffix(".txt").exists() and not other.exists()
    assert sorted(i.original for i in batch.items) == ["10_x/a.jpg", "10_x/a.txt", "b.jpg"]
    assert [b.id for b in trash.batches()] == [batch.id]
    report = trash.restore(batch.id)
    assert sorted(p.name for p in report.restored) == ["a.jpg", "a.txt", "b.jpg"]
    assert image.with_suffix(".txt").read_text() == "caption" and not report.conflicts
    assert trash.batches() == []


def test_restore_refuses_to_overwrite_and_says_so(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    image = pictures.jpeg(dataset / "a.jpg")
    trash = Trash(dataset)
    batch = trash.move_to_trash([image])
    pictures.jpeg(dataset / "a.jpg", seed=5)  # a new picture took the name
    before = image.read_bytes()
    report = trash.restore(batch.id)
    assert report.restored == () and len(report.conflicts) == 1
    assert "a.jpg exists in the dataset again" in report.conflicts[0][1]
    assert image.read_bytes() == before and len(trash.get(batch.id).items) == 1
    assert trash.restore(batch.id, overwrite=True).restored == (image,)


def test_trash_refuses_files_outside_the_dataset(dataset: Path, tmp_path: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    outside = pictures.jpeg(tmp_path / "elsewhere.jpg")
    with pytest.raises(DatasetError, match="not inside the dataset"):
        Trash(dataset).move_to_trash([outside])
    assert outside.exists()


def test_picture_and_its_caption_both_selected(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    image = pictures.jpeg(dataset / "a.jpg")
    caption = pictures.caption(image, "x")
    loop = dataset / "loop.jpg"
    loop.symlink_to("loop.jpg")
    batch = Trash(dataset).move_to_trash([image, caption, loop, dataset / "gone.jpg"])
    assert sorted(i.original for i in batch.items) == ["a.jpg", "a.txt", "loop.jpg"]
    assert sorted(p.name for p in dataset.iterdir()) == [".lorastudio"]
