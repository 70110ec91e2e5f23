"""Import: files, folders, zip archives (safely), videos; copies with unique names and captions."""

from __future__ import annotations

import builtins
import hashlib
import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from lora_studio.core.dataset import ImportLimits, import_sources, scan_dataset
from lora_studio.core.dataset.importer import safe_file_name


def jpeg_bytes(pictures, seed: int = 0) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    pictures.content((64, 48), seed).save(buffer, "JPEG")
    return buffer.getvalue()


def test_files_are_copied_with_captions_and_unique_names(
    tmp_path: Path, dataset: Path, pictures
) -> None:  # type: ignore[no-untyped-def]
    pictures.jpeg(dataset / "a.jpg", seed=1)
    source = pictures.jpeg(tmp_path / "in" / "a.jpg", seed=2)
    pictures.caption(source, "café".encode("cp1252").decode("latin-1"), encoding="latin-1")
    other = pictures.png(tmp_path / "in" / "A.png", seed=3)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    report = import_sources(dataset, [source, other])
    assert [f.destination.name for f in report.imported] == ["a_2.jpg", "A_3.png"]
    assert report.imported[0].caption == dataset / "a_2.txt"
    assert (dataset / "a_2.txt").read_text(encoding="utf-8") == "café"  # now UTF-8
    assert hashlib.sha256(source.read_bytes()).hexdigest() == digest and other.exists()  # copied
    assert not report.failed and not [p for p in dataset.iterdir() if p.name.startswith(".")]


def test_folders_recursive_hidden_skipped_links_not_followed(
    tmp_path: Path, dataset: Path, pictures
) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "shoot"
    pictures.caption(pictures.jpeg(source / "one.jpg"), "one")
    pictures.jpeg(source / "day 2" / "two.jpg", seed=2)
    pictures.jpeg(source / ".lorastudio" / "trash" / "old.jpg", seed=3)
    (source / "notes.md").write_text("hi")
    (source / "lonely.txt").write_text("no picture")
    os.symlink(source, source / "day 2" / "loop")  # a folder link back up: must not loop
    report = import_sources(dataset, [source], folder="5_ohwx")
    assert sorted(f.destination.name for f in report.imported) == ["one.jpg", "two.jpg"]
    assert (dataset / "5_ohwx" / "one.txt").read_text() == "one"
    skipped = " ".join(p.message for p in report.skipped)
    assert "notes.md" in skipped and "lonely.txt" in skipped and "loop" in skipped
    assert scan_dataset(dataset).entries[0].repeats == 5


def test_bad_sources_are_reported_by_name(tmp_path: Path, dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "fake.jpg"
    fake.write_text("not really")
    caption = tmp_path / "only.txt"
    caption.write_text("x")
    report = import_sources(
        dataset, [fake, caption, tmp_path / "missing.png", tmp_path / "doc.pdf"]
    )
    messages = {Path(p.source).name: p.message for p in report.failed}
    assert set(messages) == {"fake.jpg", "only.txt", "missing.png", "doc.pdf"}
    assert all(name in message for name, message in messages.items())
    assert list(dataset.iterdir()) == []  # nothing half-written


def make_zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


def test_zip_import_is_safe(tmp_path: Path, dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    archive = make_zip(
        tmp_path / "set.zip",
        {
            "a.jpg": jpeg_bytes(pictures, 1),
            "a.txt": b"ohwx, from the zip",
            "sub/b.jpg": jpeg_bytes(pictures, 2),
            "../evil.jpg": jpeg_bytes(pictures, 3),
            "/abs.jpg": jpeg_bytes(pictures, 4),
            "notes.md": b"hello",
            "__MACOSX/._a.jpg": b"junk",
            "inner.zip": b"PK",
        },
        links=("link.jpg",),
    )
    report = import_sources(dataset, [archive])
    assert sorted(f.destination.name for f in report.imported) == ["a.jpg", "b.jpg"]
    assert (dataset / "a.txt").read_text() == "ohwx, from the zip"
    refused = " ".join(p.message for p in report.failed)
    assert "../evil.jpg" in refused and "/abs.jpg" in refused and "link.jpg" in refused
    assert "symbolic link" in refused and "outside the archive" in refused
    skipped = " ".join(p.message for p in report.skipped)
    assert "notes.md" in skipped and "inner.zip" in skipped
    assert not (tmp_path / "evil.jpg").exists()
    assert sorted(p.name for p in dataset.iterdir()) == ["a.jpg", "a.txt", "b.jpg"]


def test_zip_bombs_are_refused(tmp_path: Path, dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    bomb = make_zip(
        tmp_path / "bomb.zip", {"huge.png": b"\0" * (20 << 20), "ok.jpg": jpeg_bytes(pictures)}
    )
    report = import_sources(dataset, [bomb])
    assert [f.destination.name for f in report.imported] == ["ok.jpg"]
    assert "huge.png" in report.failed[0].message and "zip bomb" in report.failed[0].message
    many = make_zip(tmp_path / "many.zip", {f"{i}.jpg": jpeg_bytes(pictures, i) for i in range(5)})
    report = import_sources(dataset, [many], limits=ImportLimits(max_members=3))
    assert not report.imported and "more than the limit of 3" in report.failed[0].message
    report = import_sources(dataset, [many], limits=ImportLimits(max_total_bytes=1000))
    assert not report.imported and "unpack to" in report.failed[0].message
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert "not a readable zip" in import_sources(dataset, [broken]).failed[0].message


def make_video(path: Path, seconds: int = 3, fps: int = 10) -> Path:
    av = pytest.importorskip("av")
    import numpy as np

    container = av.open(str(path), mode="w")
    stream = container.add_stream("mpeg4", rate=fps)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    for index in range(seconds * fps):
        pixels = np.full((48, 64, 3), index * 8 % 256, dtype=np.uint8)
        for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def test_video_frames_every_n_seconds(tmp_path: Path, dataset: Path) -> None:
    video = make_video(tmp_path / "clip.mp4")
    report = import_sources(dataset, [video], frame_interval=1.0)
    names = [f.destination.name for f in report.imported]
    assert names == ["clip_0000000ms.jpg", "clip_0001000ms.jpg", "clip_0002000ms.jpg"], names
    assert all(e.ok and e.width == 64 for e in scan_dataset(dataset).entries)


def test_video_inside_zip(tmp_path: Path, dataset: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=2)
    archive = make_zip(tmp_path / "v.zip", {"films/clip.mp4": video.read_bytes()})
    report = import_sources(dataset, [archive], frame_interval=1.0)
    assert len(report.imported) == 2 and sorted(p.name for p in dataset.iterdir()) == [
        "clip_0000000ms.jpg",
        "clip_0001000ms.jpg",
    ]


def test_video_without_pyav_says_what_to_install(
    tmp_path: Path, dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\0\0\0\x18ftypmp42")
    real_import = builtins.__import__

    def no_av(name: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "av" or name.startswith("av."):
            raise ImportError("No module named 'av'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_av)
    report = import_sources(dataset, [video])
    assert not report.imported and "PyAV" in report.failed[0].message
    assert "lora-studio[video]" in report.failed[0].message


def test_safe_file_names() -> None:
    assert safe_file_name("my café 写真.JPG") == "my café 写真.jpg"
    assert safe_file_name("a<b>:c?.png") == "a_b__c_.png"
    assert safe_file_name(".hidden.jpg") == "hidden.jpg"
    assert safe_file_name("CON.jpg") == "CON_.jpg"


def test_picture_and_caption_given_together(tmp_path: Path, dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    image = pictures.jpeg(tmp_path / "in" / "x.jpg")
    caption = pictures.caption(image, "together")
    report = import_sources(dataset, [image, caption])
    assert not report.failed and report.imported[0].caption == dataset / "x.txt"
