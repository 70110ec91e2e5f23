"""`lora-studio doctor | import | prepare`: output, JSON shape, progress line and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lora_studio.cli import main


def picture(path: Path, size: tuple[int, int] = (640, 480), seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    blocks = np.random.default_rng(seed).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    Image.fromarray(blocks).resize(size).save(path, "JPEG")
    return path


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "dataset"
    picture(root / "10_ohwx" / "good.jpg", seed=1).with_suffix(".txt").write_text(
        "ohwx, a portrait"
    )
    picture(root / "10_ohwx" / "nocaption.jpg", seed=2)
    (root / "10_ohwx" / "broken.jpg").write_bytes(b"")
    return root


def test_doctor_json_lists_findings(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", str(dataset), "--resolution", "512", "--trigger", "ohwx", "--json"]) == 0
    findings = json.loads(capsys.readouterr().out)
    assert all(set(f) == {"path", "kind", "severity", "message", "fix"} for f in findings)
    by = {(Path(f["path"]).name, f["kind"]): f for f in findings}
    assert by[("broken.jpg", "empty_file")]["severity"] == "error"
    assert by[("broken.jpg", "empty_file")]["fix"] == "move_to_trash"
    assert by[("nocaption.jpg", "missing_caption")]["path"] == str(
        dataset / "10_ohwx" / "nocaption.jpg"
    )
    assert ("good.jpg", "missing_trigger") not in by


def test_doctor_table_and_manifest_defaults(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lora_studio.core.dataset import Sidecar

    Sidecar(dataset).update_manifest(trigger_word="zzz", resolution=512)
    assert main(["doctor", str(dataset), "--batch", "4"]) == 0
    out = capsys.readouterr().out
    assert "ERROR    empty_file" in out and "10_ohwx/broken.jpg  [fix: move_to_trash]" in out
    assert 'trigger word "zzz"' in out and "small_bucket" in out
    assert "2 pictures:" not in out and "3 pictures: 1 error," in out
    assert "Buckets at 512:" in out


def test_doctor_bad_input_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["doctor", str(tmp_path), "--resolution", "16"]) == 2
    assert "too small" in capsys.readouterr().err


def test_import_files_and_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "new dataset"
    photo = picture(tmp_path / "in" / "photo.jpg")
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(picture(tmp_path / "z" / "z.jpg", seed=3), "z.jpg")
        zf.writestr("z.txt", "zipped caption")
    code = main(["import", str(target), str(photo), str(archive), "--folder", "3_thing"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Imported 2 pictures" in captured.out and "(1 with a caption)" in captured.out
    assert sorted(p.name for p in (target / "3_thing").iterdir()) == ["photo.jpg", "z.jpg", "z.txt"]
    bad = tmp_path / "bad.jpg"
    bad.write_text("text")
    assert main(["import", str(target), str(bad), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["imported"] == [] and "bad.jpg" in result["failed"][0]["message"]


def test_prepare_writes_buckets_with_progress(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "prepared"
    # broken.jpg cannot be prepared: partial success exits 1 (the rule shared with `import`).
    assert (
        main(["prepare", str(dataset), "--out", str(out), "--resolution", "256", "--format", "png"])
        == 1
    )
    captured = capsys.readouterr()
    # Not a terminal: no progress line, only the result and what was skipped.
    assert "Preparing" not in captured.err and "skipped broken.jpg" in captured.err
    assert "Prepared 2 pictures" in captured.out and "(256×256: 2)" in captured.out
    assert sorted(p.name for p in (out / "10_ohwx").iterdir()) == [
        "good.png",
        "good.txt",
        "nocaption.png",
    ]
    assert main(["prepare", str(dataset), "--out", str(dataset / "x")]) == 2
    assert "inside the dataset" in capsys.readouterr().err
    (dataset / "10_ohwx" / "broken.jpg").unlink()
    assert (
        main(["prepare", str(dataset), "--out", str(out), "--no-buckets", "--resolution", "128"])
        == 0
    )
    with Image.open(out / "10_ohwx" / "good.jpg") as image:
        assert image.size == (128, 128)


def test_commands_have_help() -> None:
    for command in ("doctor", "import", "prepare"):
        result = subprocess.run(
            [sys.executable, "-m", "lora_studio", command, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0 and command in result.stdout


def test_doctor_piped_prints_no_progress_lines(dataset: Path) -> None:
    """Progress is for a terminal; a pipe gets only the report (stderr stays empty)."""
    result = subprocess.run(
        [sys.executable, "-m", "lora_studio", "doctor", str(dataset), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stderr == ""
    assert json.loads(result.stdout)
