"""Scanning: kohya and flat layouts, captions, orphans, the sidecar staying invisible, cancel."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.core.dataset import CancelToken, Sidecar, scan_dataset
from lora_studio.core.dataset.models import LAYOUT_FLAT, LAYOUT_KOHYA
from lora_studio.core.dataset.scan import parse_concept_folder
from lora_studio.core.errors import CancelledByUserError, DatasetError


def test_kohya_layout_repeats_concepts_and_captions(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    a = pictures.jpeg(dataset / "10_ohwx person" / "a.jpg", size=(80, 60))
    pictures.caption(a, "ohwx person, smiling\n")
    pictures.png(dataset / "3_style" / "b.png", size=(30, 90), seed=2)
    (dataset / "3_style" / "c.txt").write_text("orphan", encoding="utf-8")
    scan = scan_dataset(dataset)
    assert scan.layout == LAYOUT_KOHYA
    by_name = {e.name: e for e in scan.entries}
    entry = by_name["a.jpg"]
    assert (entry.repeats, entry.concept, entry.folder) == (10, "ohwx person", "10_ohwx person")
    assert entry.rel_path == "10_ohwx person/a.jpg"
    assert (entry.width, entry.height, entry.format, entry.mode) == (80, 60, "JPEG", "RGB")
    assert entry.caption == "ohwx person, smiling\n" and entry.caption_encoding == "utf-8"
    assert entry.file_size == a.stat().st_size and entry.mtime_ns == a.stat().st_mtime_ns
    assert by_name["b.png"].caption is None and by_name["b.png"].repeats == 3
    assert scan.orphan_captions == (dataset / "3_style" / "c.txt",)
    assert [e.rel_path for e in scan.entries] == ["10_ohwx person/a.jpg", "3_style/b.png"]


def test_flat_layout_and_plain_subfolders(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    pictures.jpeg(dataset / "top.jpg")
    pictures.jpeg(dataset / "extra" / "inner.jpg", seed=3)
    pictures.jpeg(dataset / "extra" / "deeper" / "too_deep.jpg", seed=4)
    scan = scan_dataset(dataset)
    assert scan.layout == LAYOUT_FLAT
    inner = next(e for e in scan.entries if e.name == "inner.jpg")
    assert (inner.concept, inner.repeats) == ("extra", 1)
    assert "too_deep.jpg" not in {e.name for e in scan.entries}
    assert [p.kind for p in scan.problems] == ["nested_folder"]
    assert not [p for p in scan.problems if p.kind == "ignored_by_trainer"]


def test_sidecar_and_hidden_files_are_invisible(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    pictures.jpeg(dataset / "a.jpg")
    sidecar = Sidecar(dataset)
    sidecar.ensure()
    pictures.jpeg(sidecar.directory / "trash" / "x" / "files" / "old.jpg")
    pictures.jpeg(dataset / ".hidden.jpg")
    scan = scan_dataset(dataset)
    assert [e.name for e in scan.entries] == ["a.jpg"]
    # kohya would not take the sidecar for a concept folder either.
    assert parse_concept_folder(sidecar.directory.name) is None


def test_shared_caption_stem_is_reported(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    pictures.jpeg(dataset / "a.jpg")
    pictures.png(dataset / "a.png")
    pictures.caption(dataset / "a.jpg", "one caption for two pictures")
    scan = scan_dataset(dataset)
    assert all(e.caption == "one caption for two pictures" for e in scan.entries)
    shared = [p for p in scan.problems if p.kind == "shared_caption"]
    assert len(shared) == 1 and "a.jpg and a.png" in shared[0].message


def test_top_level_pictures_in_kohya_layout_are_flagged(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    pictures.jpeg(dataset / "5_x" / "in.jpg")
    pictures.jpeg(dataset / "stray.jpg")
    pictures.jpeg(dataset / "misc" / "m.jpg")
    kinds = {(p.path.name, p.kind) for p in scan_dataset(dataset).problems}
    assert ("stray.jpg", "ignored_by_trainer") in kinds and ("misc", "ignored_by_trainer") in kinds


def test_progress_and_cancel(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    for i in range(70):
        pictures.jpeg(dataset / f"{i:03d}.jpg", size=(8, 8), seed=i)
    calls: list[tuple[int, int]] = []
    scan_dataset(dataset, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 70) and calls[-1] == (70, 70) and len(calls) >= 3
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledByUserError):
        scan_dataset(dataset, cancel=token)


def test_missing_folder_and_file_given(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        scan_dataset(tmp_path / "nope")
    file = tmp_path / "f.txt"
    file.write_text("x")
    with pytest.raises(DatasetError, match="is a file"):
        scan_dataset(file)


def test_heic_without_plugin_says_what_to_install(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lora_studio.core.dataset import formats

    monkeypatch.setattr(formats, "_heif_state", False)
    (dataset / "phone.heic").write_bytes(b"\0\0\0\x18ftypheic" + b"\0" * 64)
    entry = scan_dataset(dataset).entries[0]
    assert entry.error is not None and "pillow-heif" in entry.error


def test_heic_with_plugin_is_read(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    pillow_heif = pytest.importorskip("pillow_heif")
    from lora_studio.core.dataset import formats

    assert formats.heif_available()
    pillow_heif.from_pillow(pictures.content((40, 30))).save(str(dataset / "phone.heic"))
    entry = scan_dataset(dataset).entries[0]
    assert entry.ok and (entry.width, entry.height) == (40, 30)


def test_avif_webp_bmp_tiff_and_linked_files(tmp_path: Path, dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    from PIL import features

    image = pictures.content((40, 30))
    for suffix in (".webp", ".bmp", ".tif") + ((".avif",) if features.check("avif") else ()):
        pictures.save(image, dataset / f"p{suffix}")
    inside = pictures.jpeg(dataset / "kept" / "elsewhere.jpg", size=(20, 10))
    (dataset / "linked.jpg").symlink_to(inside)  # a link that stays inside the dataset is followed
    (dataset / "away.jpg").symlink_to(
        pictures.jpeg(tmp_path / "away.jpg")
    )  # one that leaves is not
    scan = scan_dataset(dataset)
    entries = [e for e in scan.entries if not e.folder]
    assert all(e.ok and (e.width, e.height) == (40, 30) for e in entries if e.name != "linked.jpg")
    linked = next(e for e in entries if e.name == "linked.jpg")
    assert linked.ok and (linked.width, linked.height) == (20, 10)
    assert "away.jpg" not in [e.name for e in scan.entries]
    assert [p.kind for p in scan.problems if p.path.name == "away.jpg"] == ["link_outside"]
