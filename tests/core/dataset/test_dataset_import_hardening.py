"""Import under attack: pipes and devices, kill -9, reruns, full disks, long names, damaged files."""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from lora_studio.core import atomic_io
from lora_studio.core.dataset import ImportLimits, import_sources
from lora_studio.core.dataset import import_files as import_files_module
from lora_studio.core.errors import StorageError


def _run_with_deadline(*args, **kwargs):  # type: ignore[no-untyped-def]
    """import_sources in a thread: a hang fails the test instead of blocking the suite."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(import_sources(*args, **kwargs)))
    thread.daemon = True
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "import blocked"
    return result[0]


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_named_like_a_picture_is_refused_without_blocking(
    tmp_path: Path, dataset: Path, pictures
) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "in"
    pictures.jpeg(source / "good.jpg")
    os.mkfifo(source / "pipe.jpg")
    os.mkfifo(source / "good.txt")  # a caption that is a pipe must not block either
    os.mkfifo(source / "clip.mp4")  # nor a video
    report = _run_with_deadline(dataset, [source / "pipe.jpg", source])
    assert [f.destination.name for f in report.imported] == ["good.jpg"]
    assert report.imported[0].caption is None
    assert any("pipe.jpg" in p.message and "not a regular file" in p.message for p in report.failed)
    assert any("clip.mp4" in p.message and "not a regular file" in p.message for p in report.failed)
    assert not _hidden(dataset)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_link_to_a_device_is_refused(tmp_path: Path, dataset: Path) -> None:
    link = tmp_path / "zero.jpg"
    link.symlink_to("/dev/zero")
    report = _run_with_deadline(dataset, [link])
    assert not report.imported and "not a regular file" in report.failed[0].message
    assert list(dataset.iterdir()) == []


def test_every_file_has_a_size_limit(tmp_path: Path, dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    big = pictures.png(tmp_path / "big.png", size=(256, 256))
    report = import_sources(dataset, [big], limits=ImportLimits(max_member_bytes=1000))
    assert not report.imported and "larger than" in report.failed[0].message
    assert list(dataset.iterdir()) == []


def test_rerun_skips_same_content_and_completes_a_missing_caption(
    tmp_path: Path, dataset: Path, pictures
) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "in"
    for seed in range(3):
        pictures.caption(pictures.jpeg(source / f"p{seed}.jpg", seed=seed), f"caption {seed}")
    first = import_sources(dataset, [source])
    assert len(first.imported) == 3
    (dataset / "p1.txt").unlink()  # as a kill between the two renames would leave it
    again = import_sources(dataset, [source])
    assert not again.imported and len(again.skipped) == 3
    assert "same content" in again.skipped[0].message
    assert (dataset / "p1.txt").read_text() == "caption 1"
    assert sorted(p.name for p in dataset.iterdir()) == [
        "p0.jpg",
        "p0.txt",
        "p1.jpg",
        "p1.txt",
        "p2.jpg",
        "p2.txt",
    ]
    # Same picture given twice in one run: copied once.
    other = dataset.parent / "other"
    twice = import_sources(other, [source / "p0.jpg", tmp_path / "in" / "p0.jpg"])
    assert len(twice.imported) == 1 and len(twice.skipped) == 1


_KILL_SCRIPT = """
import sys
from pathlib import Path
from lora_studio.core.dataset import import_sources
import_sources(Path(sys.argv[1]), [Path(sys.argv[2])])
print("done", flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_kill_9_during_import_leaves_pairs_and_a_rerun_completes(
    tmp_path: Path, dataset: Path, pictures
) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "in"
    count = 40
    for seed in range(count):
        pictures.caption(
            pictures.jpeg(source / f"p{seed:02d}.jpg", size=(256, 192), seed=seed), f"c{seed}"
        )
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT)
    for delay in (0.45, 0.6, 0.75, 0.9):
        process = subprocess.Popen(
            [sys.executable, str(script), str(dataset), str(source)], stdout=subprocess.PIPE
        )
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finished = subprocess.run(
        [sys.executable, str(script), str(dataset), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "done" in finished.stdout, finished.stderr
    names = sorted(p.name for p in dataset.iterdir())
    jpgs = [n for n in names if n.endswith(".jpg")]
    assert len(jpgs) == count and not [n for n in jpgs if "_" in n]  # no _2 duplicates
    assert all(n[:-4] + ".txt" in names for n in jpgs)  # every picture has its caption
    assert not [n for n in names if n.startswith(".")]  # killed runs' temp files cleaned up


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="mounting needs root")
def test_full_disk_keeps_pairs_and_says_so(tmp_path: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        source = tmp_path / "in"
        for seed in range(30):
            image = pictures.png(source / f"p{seed:02d}.png", size=(160, 160), seed=seed)
            pictures.caption(image, f"caption {seed} " * 40)
        with pytest.raises(StorageError) as caught:
            import_sources(mount, [source])
        assert "disk is full" in caught.value.user_message
        names = sorted(p.name for p in mount.iterdir())
        pngs = [n for n in names if n.endswith(".png")]
        assert pngs and all(n[:-4] + ".txt" in names for n in pngs)
        assert not [n for n in names if n.startswith(".")]
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_full_disk_while_staging_the_caption_keeps_neither(
    tmp_path: Path, dataset: Path, pictures, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    image = pictures.jpeg(tmp_path / "a.jpg")
    pictures.caption(image, "a caption")
    real_write_all = import_files_module.Destination._write_all
    calls = {"n": 0}

    def failing_write(self, out, chunk, label):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 1:  # the picture fits, the caption does not
            raise self.error(OSError(errno.ENOSPC, "No space left on device"), label)
        real_write_all(self, out, chunk, label)

    monkeypatch.setattr(import_files_module.Destination, "_write_all", failing_write)
    with pytest.raises(StorageError) as caught:
        import_sources(dataset, [image])
    assert "disk is full" in caught.value.user_message and "a.jpg" in caught.value.user_message
    assert list(dataset.iterdir()) == []


def test_long_names_fit_and_an_unwritable_name_is_skipped(
    tmp_path: Path, dataset: Path, pictures, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    long_stem = "x" * 240
    image = pictures.jpeg(tmp_path / f"{long_stem}.jpg")  # 244 bytes: the limit is 255
    pictures.caption(image, "long")
    archive = tmp_path / "a.zip"
    buffer = io.BytesIO()
    pictures.content(seed=5).save(buffer, "JPEG")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"dir/{'é' * 150}.jpg", buffer.getvalue())  # 300-byte member name
        zf.writestr("dir/ok.jpg", buffer.getvalue() + b"\0")  # different bytes
    pictures.jpeg(tmp_path / "bad.jpg", seed=9)
    real_replace = os.replace

    def replace(src, dst):  # type: ignore[no-untyped-def]
        if Path(dst).name.startswith("bad"):
            raise OSError(errno.EILSEQ, "Invalid or incomplete multibyte or wide character")
        return real_replace(src, dst)

    monkeypatch.setattr(import_files_module.os, "replace", replace)
    report = import_sources(dataset, [image, archive, tmp_path / "bad.jpg"])
    assert len(report.imported) == 3  # the zip's two members have different bytes
    assert all(len(f.destination.name.encode()) <= 255 for f in report.imported)
    assert report.imported[0].caption is not None and report.imported[0].caption.exists()
    assert len(report.failed) == 1 and "bad.jpg" in report.failed[0].message
    assert "Rename it" in report.failed[0].message


def test_caption_write_with_a_long_name_uses_a_short_temp_name(tmp_path: Path) -> None:
    target = tmp_path / ("y" * 251 + ".txt")  # 255 bytes
    atomic_io.atomic_write_text(target, "hello")
    assert target.read_text() == "hello"


def test_truncated_picture_is_imported_with_the_doctors_warning(
    tmp_path: Path, dataset: Path, pictures
) -> None:  # type: ignore[no-untyped-def]
    whole = pictures.jpeg(tmp_path / "whole.jpg", size=(512, 384)).read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(whole[: len(whole) // 2])
    report = import_sources(dataset, [truncated])
    assert [f.destination.name for f in report.imported] == ["truncated.jpg"]
    assert len(report.warnings) == 1 and "truncated" in report.warnings[0].message


def test_new_files_get_the_usual_mode_and_commit_syncs_the_folder(
    tmp_path: Path, dataset: Path, pictures, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    synced: list[Path] = []
    monkeypatch.setattr(import_files_module, "fsync_dir", lambda folder: synced.append(folder))
    image = pictures.jpeg(tmp_path / "a.jpg")
    pictures.caption(image, "a")
    report = import_sources(dataset, [image])
    expected = atomic_io.new_file_mode()
    assert expected & 0o044  # a usual umask lets others read; 0600 would not
    for path in (report.imported[0].destination, report.imported[0].caption):
        assert path is not None and path.stat().st_mode & 0o777 == expected
    assert synced == [dataset]
    atomic_io.atomic_write_text(tmp_path / "new.txt", "x")
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == expected


def test_leftover_temp_files_of_dead_runs_are_cleaned(
    tmp_path: Path, dataset: Path, pictures
) -> None:  # type: ignore[no-untyped-def]
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    dead_pid = int(dead.stdout)
    (dataset / f".~ls{dead_pid}-abcd1234.part").write_bytes(b"x")
    (dataset / f".~ls{dead_pid}-dir").mkdir()
    legacy = dataset / ".import-abcd_123.part"
    legacy.write_bytes(b"x")
    os.utime(legacy, (time.time() - 7200, time.time() - 7200))
    fresh_legacy = dataset / ".import-zzzz_123.part"  # could be another version's live import
    fresh_legacy.write_bytes(b"x")
    live = dataset / f".~ls{os.getppid()}-live1234.part"  # a running process's temp file
    live.write_bytes(b"x")
    import_sources(dataset, [pictures.jpeg(tmp_path / "a.jpg")])
    assert _hidden(dataset) == sorted([fresh_legacy.name, live.name])
