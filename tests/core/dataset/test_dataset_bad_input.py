"""Bad input (issue 4): each case is reported by name with a sentence; nothing crashes or stops."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from PIL import Image

from lora_studio.core.dataset import (
    DoctorOptions,
    DoctorReport,
    Kind,
    Severity,
    ThumbnailCache,
    Trash,
    generate_thumbnails,
    import_sources,
    run_doctor,
    scan_dataset,
)
from lora_studio.core.dataset import formats as formats_module
from lora_studio.core.errors import StorageError

UNICODE_NAME = "my café 写真.jpg"


@pytest.fixture(scope="module")
def bad_dataset(tmp_path_factory: pytest.TempPathFactory, pictures) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("bad") / "dataset"
    root.mkdir()
    pictures.jpeg(root / "good.jpg", seed=1)
    pictures.caption(root / "good.jpg", "a good picture")
    (root / "empty.jpg").write_bytes(b"")
    whole = pictures.jpeg(root / "whole.jpg", size=(640, 480), seed=2).read_bytes()
    (root / "whole.jpg").unlink()
    (root / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    (root / "notes.png").write_text("this is not a picture\n", encoding="utf-8")
    pictures.png_bomb(root / "bomb.png")
    pictures.jpeg(root / "print.jpg", seed=3, mode="CMYK")
    pictures.save(Image.new("I;16", (64, 48), 40000), root / "deep.png")
    palette = Image.new("P", (64, 48), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.paste(1, (10, 10, 40, 40))
    pictures.save(palette, root / "pal.png", transparency=0)
    frames = [pictures.content((64, 48), seed) for seed in (4, 5, 6)]
    frames[0].save(root / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    pictures.jpeg(root / "turned.jpg", size=(64, 48), seed=7, orientation=6)
    pictures.jpeg(root / "nocaption.jpg", seed=8)
    (root / "lonely.txt").write_text("a caption without its picture", encoding="utf-8")
    pictures.jpeg(root / "latin.jpg", seed=9)
    pictures.caption(root / "latin.jpg", "café crème, déjà vu", encoding="cp1252")
    os.symlink("loop.jpg", root / "loop.jpg")
    pictures.jpeg(root / UNICODE_NAME, seed=10)
    pictures.caption(root / UNICODE_NAME, "ünïcödé caption")
    return root


@pytest.fixture(scope="module")
def report(bad_dataset: Path) -> DoctorReport:
    return run_doctor(bad_dataset, DoctorOptions(resolution=512, workers=2))


def finding(report: DoctorReport, name: str, kind: str):  # type: ignore[no-untyped-def]
    matches = [f for f in report.findings if f.path.name == name and f.kind == kind]
    assert matches, (
        f"no {kind} finding for {name}: {[(f.path.name, f.kind) for f in report.findings]}"
    )
    found = matches[0]
    assert name in found.message and found.message.endswith("."), found.message
    return found


@pytest.mark.parametrize(
    ("name", "kind", "severity"),
    [
        ("empty.jpg", Kind.EMPTY_FILE, Severity.ERROR),
        ("cut.jpg", Kind.TRUNCATED, Severity.ERROR),
        ("notes.png", Kind.NOT_AN_IMAGE, Severity.ERROR),
        ("bomb.png", Kind.DECOMPRESSION_BOMB, Severity.ERROR),
        ("print.jpg", Kind.CMYK, Severity.WARNING),
        ("deep.png", Kind.HIGH_BIT_DEPTH, Severity.WARNING),
        ("pal.png", Kind.PALETTE, Severity.WARNING),
        ("anim.gif", Kind.ANIMATED, Severity.INFO),
        ("anim.gif", Kind.FORMAT_NOT_TRAINABLE, Severity.WARNING),
        ("turned.jpg", Kind.EXIF_ROTATION, Severity.WARNING),
        ("nocaption.jpg", Kind.MISSING_CAPTION, Severity.WARNING),
        ("lonely.txt", Kind.ORPHAN_CAPTION, Severity.INFO),
        ("latin.txt", Kind.CAPTION_NOT_UTF8, Severity.WARNING),
        ("loop.jpg", Kind.SYMLINK_LOOP, Severity.WARNING),
    ],
)
def test_each_bad_input_is_named_with_a_sentence(
    report: DoctorReport, name: str, kind: str, severity: Severity
) -> None:
    assert finding(report, name, kind).severity == severity


def test_scan_goes_on_past_every_bad_file(report: DoctorReport) -> None:
    names = {entry.name for entry in report.scan.entries}
    assert {"good.jpg", "turned.jpg", UNICODE_NAME, "latin.jpg", "cut.jpg", "empty.jpg"} <= names
    good = report.scan.get(report.scan.root / "good.jpg")
    assert good is not None and good.ok and good.caption == "a good picture"
    assert not [
        f for f in report.findings if f.path.name == "good.jpg" and f.severity == Severity.ERROR
    ]


def test_header_facts_of_odd_pictures(report: DoctorReport) -> None:
    by_name = {entry.name: entry for entry in report.scan.entries}
    assert (by_name["turned.jpg"].width, by_name["turned.jpg"].height) == (48, 64)
    assert by_name["turned.jpg"].stored_size == (64, 48)
    assert by_name["anim.gif"].animated
    assert by_name["pal.png"].has_transparency and by_name["pal.png"].mode == "P"
    assert by_name["deep.png"].high_bit_depth
    assert by_name["latin.jpg"].caption == "café crème, déjà vu"
    assert by_name["latin.jpg"].caption_encoding == "cp1252"
    assert by_name[UNICODE_NAME].caption == "ünïcödé caption"
    assert by_name["bomb.png"].width == 0 and by_name["bomb.png"].error_kind == "decompression_bomb"


def test_thumbnails_of_bad_files_fail_with_sentences(
    bad_dataset: Path, report: DoctorReport
) -> None:
    cache = ThumbnailCache.for_dataset(bad_dataset, bad_dataset.parent / "user-cache")
    batch = generate_thumbnails([e.path for e in report.scan.entries], cache, workers=2)
    failed = {path.name: message for path, message in batch.failed}
    assert set(failed) == {"empty.jpg", "cut.jpg", "notes.png", "bomb.png"}
    assert all(name in message for name, message in failed.items())
    assert batch.done == len(report.scan.entries)


def test_unreadable_file_is_reported(
    dataset: Path, pictures, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    secret = pictures.jpeg(dataset / "secret.jpg")
    pictures.jpeg(dataset / "fine.jpg", seed=2)
    if os.geteuid() == 0:
        # Root reads anything despite chmod 000: simulate the denial where the bytes are opened.
        real_open = formats_module.Image.open

        def deny(path, *args, **kwargs):  # type: ignore[no-untyped-def]
            if Path(path).name == "secret.jpg":
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(formats_module.Image, "open", deny)
    else:
        secret.chmod(0)
    report = run_doctor(dataset, DoctorOptions(resolution=512))
    found = finding(report, "secret.jpg", Kind.UNREADABLE)
    assert "permission" in found.message.lower()
    assert report.scan.get(dataset / "fine.jpg") is not None


def test_read_only_dataset_folder(dataset: Path, pictures, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    image = pictures.jpeg(dataset / "a.jpg")
    pictures.caption(image, "keep me")
    # Simulated: root ignores directory permissions, so make every write below the dataset fail
    # the way a read-only mount does.
    real_mkdir = Path.mkdir

    def read_only_mkdir(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if dataset in (self, *self.parents):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only_mkdir)
    scan = scan_dataset(dataset)  # reading works
    assert scan.entries[0].caption == "keep me"
    fallback = dataset.parent / "user-cache"
    cache = ThumbnailCache.for_dataset(dataset, fallback)  # falls back to the user cache dir
    assert cache.directory == fallback and dataset not in cache.directory.parents
    assert cache.load(image).width == 64
    with pytest.raises(StorageError) as raised:
        Trash(dataset).move_to_trash([image])
    assert "read-only" in raised.value.user_message
    assert image.exists() and image.with_suffix(".txt").exists()


def test_full_disk_during_import(
    tmp_path: Path, dataset: Path, pictures, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "incoming"
    for seed in range(3):
        pictures.jpeg(source / f"p{seed}.jpg", seed=seed)
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync_until_full(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] >= 2:  # the second file hits a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_until_full)
    with pytest.raises(StorageError) as raised:
        import_sources(dataset, [source])
    assert "p1.jpg" in raised.value.user_message and "full" in raised.value.user_message
    left = sorted(p.name for p in dataset.iterdir())
    assert left == ["p0.jpg"], left  # the complete one stays; no temporary or half file


def test_names_with_spaces_and_unicode_import_and_scan(
    tmp_path: Path, dataset: Path, pictures
) -> None:  # type: ignore[no-untyped-def]
    source = pictures.jpeg(tmp_path / "in" / UNICODE_NAME)
    pictures.caption(source, "ünïcödé")
    result = import_sources(dataset, [source])
    assert [f.destination.name for f in result.imported] == [UNICODE_NAME]
    entry = scan_dataset(dataset).entries[0]
    assert entry.name == UNICODE_NAME and entry.caption == "ünïcödé"
    assert (
        ThumbnailCache.for_dataset(dataset, tmp_path / "user-cache").load(entry.path).format
        == "JPEG"
    )
