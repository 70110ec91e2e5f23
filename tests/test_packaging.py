"""Packaging helpers: the bundle check covers every sub-command, the icons for Windows/macOS render,
and the frozen entry script picks the GUI or the CLI by the launcher's name."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from PIL import Image

from lora_studio.cli import build_parser

REPO = Path(__file__).resolve().parents[1]


def load(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, REPO / "packaging" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundle_check_finds_every_sub_command() -> None:
    subparsers = build_parser()._subparsers
    assert subparsers is not None
    registered = sorted(name for action in subparsers._group_actions for name in action.choices)  # type: ignore[attr-defined]
    help_text = subprocess.run(
        [sys.executable, "-m", "lora_studio", "--help"], capture_output=True, text=True, check=True
    ).stdout
    found = load("build_bundle").commands_in_help(help_text)
    assert found == registered and len(found) >= 8


def test_windows_and_macos_icons_render(tmp_path: Path) -> None:
    icons = load("build_bundle").render_icons(tmp_path)
    with Image.open(icons / "lora-studio.ico") as ico:
        assert ico.format == "ICO" and (256, 256) in ico.info["sizes"]
    with Image.open(icons / "lora-studio.icns") as icns:
        assert icns.format == "ICNS"


def test_the_launcher_name_picks_gui_or_cli(tmp_path: Path) -> None:
    entry = (REPO / "packaging" / "bundle_entry.py").read_text(encoding="utf-8")
    for name in ("lora-studio", "lora-studio-gui"):
        script = tmp_path / f"{name}.py"
        script.write_text(entry, encoding="utf-8")
        result = subprocess.run(
            [sys.executable, str(script), "--version"], capture_output=True, text=True, cwd=REPO
        )
        assert result.returncode == 0 and result.stdout.strip().endswith("0.1.0"), result.stderr
    assert "multiprocessing.freeze_support()" in entry
    assert entry.index("freeze_support()") < entry.index("from lora_studio.cli import")
