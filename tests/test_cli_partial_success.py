"""One rule for partial success (`import`, `prepare`); long and unwritable names; import warnings."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lora_studio.cli import main
from lora_studio.core import atomic_io


def picture(path: Path, seed: int = 0, size: tuple[int, int] = (320, 240)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    blocks = np.random.default_rng(seed).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    Image.fromarray(blocks).resize(size).save(path, "JPEG")
    return path


def test_import_partial_success_exits_1_and_warns_about_a_truncated_picture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = picture(tmp_path / "good.jpg", seed=1)
    whole = picture(tmp_path / "whole.jpg", seed=2, size=(640, 480)).read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    dataset = tmp_path / "ds"
    assert main(["import", str(dataset), str(good), str(tmp_path / "truncated.jpg")]) == 0
    out = capsys.readouterr().out
    assert "Imported 2 pictures" in out and "warning: truncated.jpg" in out
    assert "truncated" in out.split("warning:")[1]
    # Run again: already there (skipped on purpose) does not count against it…
    assert main(["import", str(dataset), str(good)]) == 0
    assert "same content" in capsys.readouterr().out
    # …a file that could not be imported does.
    assert main(["import", str(dataset), str(tmp_path / "notes.pdf"), str(good)]) == 1


def test_prepare_long_names_and_an_unwritable_name_is_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = tmp_path / "ds"
    long_name = "x" * 240 + ".jpg"  # 244 bytes: fits, but not with a long temp-file prefix
    picture(dataset / long_name, seed=1).with_suffix(".txt").write_text("long")
    picture(dataset / "bad.jpg", seed=2)
    picture(dataset / "ok.jpg", seed=3)
    real_replace = os.replace

    def replace(src, dst):  # type: ignore[no-untyped-def]
        if Path(dst).name.startswith("bad"):
            raise OSError(errno.EILSEQ, "Invalid or incomplete multibyte or wide character")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic_io.os, "replace", replace)
    out = tmp_path / "out"
    assert main(["prepare", str(dataset), "--out", str(out), "--resolution", "256"]) == 1
    captured = capsys.readouterr()
    assert "Prepared 2 pictures" in captured.out
    assert "skipped bad.jpg" in captured.err and "shorter or plainer name" in captured.err
    assert (out / long_name).exists() and (out / long_name).with_suffix(".txt").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
