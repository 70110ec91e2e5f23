"""The command-line shell: --version, --help, --data-dir, --self-test (with screenshots)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lora_studio import __version__
from lora_studio.cli import build_parser, main


def run_cli(*args: str, home: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LORA_STUDIO_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, "-m", "lora_studio", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"LoRA Studio {__version__}"


def test_help_mentions_global_options() -> None:
    text = build_parser().format_help()
    for option in ("--version", "--data-dir", "--self-test", "--screenshot-dir"):
        assert option in text


def test_screenshot_dir_without_self_test_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--screenshot-dir", "x"])
    assert exit_info.value.code == 2
    assert "--self-test" in capsys.readouterr().err


def test_self_test_writes_one_readable_png_per_page(tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    home = tmp_path / "home"
    result = run_cli(
        "--data-dir",
        str(home),
        "--self-test",
        "--screenshot-dir",
        str(shots),
        home=tmp_path / "unused",
    )
    assert result.returncode == 0, result.stderr
    assert "self-test: OK" in result.stdout
    pngs = sorted(shots.glob("*.png"))
    names = [p.stem.split("-", 1)[1] for p in pngs]
    assert names == ["dataset", "captions", "presets", "train", "jobs", "settings"]
    from PIL import Image

    for png in pngs:
        with Image.open(png) as image:
            image.load()
            assert image.width >= 800 and image.height >= 500
            # A blank grab would be a single colour.
            assert len(image.convert("L").getcolors(maxcolors=4096) or range(4097)) > 5
    # --data-dir redirected every user directory under home.
    assert (home / "logs" / "lora-studio.log").exists()
    assert (home / "config").is_dir()


def test_self_test_reports_problems_with_nonzero_exit(tmp_path: Path) -> None:
    """An unwritable screenshot target is a failure with a message, not a crash."""
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    result = run_cli("--self-test", "--screenshot-dir", str(blocker), home=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "self-test:" in result.stderr and str(blocker) in result.stderr
