"""A LoRA Studio home that cannot be written, or a full disk under the job history: a sentence
that names the folder and says what to do — never a traceback."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

from lora_studio.cli import main
from lora_studio.core.jobs import store_errors


def test_home_that_cannot_be_created_is_a_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LORA_STUDIO_HOME", str(blocker / "home"))  # mkdir fails even as root
    for command in (["jobs"], ["presets"], ["jobs", "show", "x"]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert "cannot create its folder" in err and "--data-dir" in err and "Traceback" not in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="mounting needs root")
def test_read_only_home_and_full_disk_in_a_subprocess(tmp_path: Path) -> None:
    mount = tmp_path / "mnt"
    mount.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        env = {**os.environ, "LORA_STUDIO_HOME": str(mount / "home")}
        run = [sys.executable, "-m", "lora_studio", "jobs"]
        assert subprocess.run(run, env=env, capture_output=True).returncode == 0
        for name in os.listdir(mount / "home" / "data"):
            os.unlink(mount / "home" / "data" / name)
        with open(mount / "filler", "wb", buffering=0) as filler:  # fill the disk
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError:
                pass
        full = subprocess.run(run, env=env, capture_output=True, text=True)
        assert full.returncode == 1 and "Traceback" not in full.stderr
        assert "is full" in full.stderr and "removable" not in full.stderr
        os.unlink(mount / "filler")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        env["LORA_STUDIO_HOME"] = str(mount / "other")
        for command in ("jobs", "presets"):
            result = subprocess.run(
                [sys.executable, "-m", "lora_studio", command],
                env=env,
                capture_output=True,
                text=True,
            )
            assert result.returncode == 1 and "Traceback" not in result.stderr
            assert "Read-only file system" in result.stderr
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_sqlite_io_error_on_a_full_disk_says_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = sqlite3.OperationalError("disk I/O error")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10**9, 10**9, 0))
    message = store_errors.storage_error(
        error, tmp_path / "jobs.sqlite3", "save job x"
    ).user_message
    assert "is full" in message and "removable" not in message
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10**9, 0, 10**9))
    message = store_errors.storage_error(
        error, tmp_path / "jobs.sqlite3", "save job x"
    ).user_message
    assert "disk level" in message
