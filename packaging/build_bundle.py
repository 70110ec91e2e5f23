"""Build the PyInstaller bundle an artist downloads, and check it runs without the venv.

    python packaging/build_bundle.py            # build dist/lora-studio/ and the .tar.gz
    python packaging/build_bundle.py --check    # build, then run it with the venv out of reach

Output:
- `dist/lora-studio/` — a one-folder bundle with `lora-studio` (console; the GUI when started
  without a command) and `lora-studio-gui` (no console window on Windows/macOS);
- `dist/lora-studio-VERSION-linux-ARCH.tar.gz` — that folder plus the `.desktop` entry, the
  AppStream metadata, the icons in the hicolor layout and an `install.sh` that puts them in
  `~/.local` (Linux only).

The Windows `.ico` and macOS `.icns` icons are rendered from `resources/icons/*.png` with Pillow
into `build/bundle-icons/` before PyInstaller runs; the spec (`packaging/lora-studio.spec`) picks
the one for the platform. Needs PyInstaller, and the optional extras so the bundle reads HEIC/AVIF
and videos: `pip install ".[bundle,heif,video]"` (a non-editable install is the safest to bundle).

`--check` runs, from an empty temporary folder with a minimal environment (no venv on PATH, no
PYTHONPATH, a fresh HOME): `--version`, `--help`, every sub-command's `--help` and `--self-test`,
then prints the bundle's size and its start time next to the venv's.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DIST = ROOT / "dist"
BUILD = ROOT / "build"
BUNDLE = DIST / "lora-studio"
APP_ID = "io.github.lorastudio.LoraStudio"
ICON_SIZES = (16, 32, 48, 64, 128, 256)

INSTALL_SH = """#!/bin/sh
# Install LoRA Studio for the current user: the program under ~/.local/lib/lora-studio, launchers
# in ~/.local/bin, the menu entry, AppStream metadata and icons under ~/.local/share.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
prefix="${XDG_DATA_HOME:-$HOME/.local/share}"
lib="$HOME/.local/lib/lora-studio"
rm -rf "$lib" && mkdir -p "$lib" "$HOME/.local/bin" && cp -a "$here/lora-studio/." "$lib/"
ln -sf "$lib/lora-studio" "$HOME/.local/bin/lora-studio"
ln -sf "$lib/lora-studio-gui" "$HOME/.local/bin/lora-studio-gui"
cp -a "$here/share/." "$prefix/"
echo "Installed. Start it from the menu, or run: lora-studio"
"""


def version() -> str:
    sys.path.insert(0, str(ROOT))
    from lora_studio import __version__

    return __version__


def render_icons(target: Path) -> Path:
    """The .ico (Windows) and .icns (macOS) the spec needs, from the committed PNGs."""
    from PIL import Image

    target.mkdir(parents=True, exist_ok=True)
    largest = Image.open(ROOT / "resources" / "icons" / "lora-studio-256.png")
    largest.save(target / "lora-studio.ico", sizes=[(size, size) for size in ICON_SIZES])
    largest.save(target / "lora-studio.icns")
    return target


def run_pyinstaller(icons: Path) -> None:
    env = {**os.environ, "LORA_STUDIO_BUNDLE_ICONS": str(icons)}
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level=WARN"]
    command += ["--distpath", str(DIST), "--workpath", str(BUILD / "pyinstaller")]
    subprocess.run([*command, str(PACKAGING / "lora-studio.spec")], check=True, cwd=ROOT, env=env)


def make_tarball() -> Path:
    arch = platform.machine() or "unknown"
    name = f"lora-studio-{version()}-linux-{arch}"
    tarball = DIST / f"{name}.tar.gz"
    icons = ROOT / "resources" / "icons"
    extra = {
        f"share/applications/{APP_ID}.desktop": PACKAGING / f"{APP_ID}.desktop",
        f"share/metainfo/{APP_ID}.metainfo.xml": PACKAGING / f"{APP_ID}.metainfo.xml",
        f"share/icons/hicolor/scalable/apps/{APP_ID}.svg": icons / "lora-studio.svg",
    }
    for size in ICON_SIZES:
        extra[f"share/icons/hicolor/{size}x{size}/apps/{APP_ID}.png"] = (
            icons / f"lora-studio-{size}.png"
        )
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as handle:
        handle.write(INSTALL_SH)
        install_sh = Path(handle.name)
    try:
        with tarfile.open(tarball, "w:gz", compresslevel=6) as archive:
            archive.add(BUNDLE, arcname=f"{name}/lora-studio")
            for arcname, source in extra.items():
                archive.add(source, arcname=f"{name}/{arcname}")
            info = archive.gettarinfo(str(install_sh), arcname=f"{name}/install.sh")
            info.mode = 0o755
            with open(install_sh, "rb") as data:
                archive.addfile(info, data)
    finally:
        install_sh.unlink()
    return tarball


def folder_size(path: Path) -> int:
    """Bytes on disk, each file once (PyInstaller links some libraries under two names)."""
    return sum(
        entry.lstat().st_size
        for entry in path.rglob("*")
        if entry.is_file() and not entry.is_symlink()
    )


def share_launcher() -> None:
    """On Linux the windowed launcher is the console one under another name: a symlink saves its
    10 MB copy of the archive, and the name it is started by still picks `gui_main`."""
    if sys.platform.startswith("linux"):
        gui = BUNDLE / "lora-studio-gui"
        gui.unlink()
        gui.symlink_to("lora-studio")


def minimal_env(home: Path) -> dict[str, str]:
    """No venv on PATH, no PYTHONPATH/PYTHONHOME: the bundle must bring everything itself."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "LORA_STUDIO_HOME": str(home / "lora-studio"),
    }


def best_start_time(command: list[str], env: dict[str, str], cwd: Path, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def commands_in_help(text: str) -> list[str]:
    """The sub-command names listed under "commands:" in `lora-studio --help`."""
    block = text.split("commands:", 1)[1]
    return re.findall(r"^    (\w[\w-]*)(?:\s|$)", block, flags=re.MULTILINE)


def subcommands(executable: Path, env: dict[str, str], cwd: Path) -> list[str]:
    """The sub-commands the bundle's own --help lists (so a new command is checked too)."""
    text = subprocess.run(
        [str(executable), "--help"], env=env, cwd=cwd, check=True, capture_output=True, text=True
    ).stdout
    return commands_in_help(text)


def check_bundle() -> int:
    executable = BUNDLE / "lora-studio"
    with tempfile.TemporaryDirectory(prefix="lora-studio-bundle-check-") as scratch:
        cwd = Path(scratch)
        env = minimal_env(cwd)
        failures = []
        commands = subcommands(executable, env, cwd)
        runs = [["--version"], ["--help"], *([name, "--help"] for name in commands)]
        runs.append(["--self-test", "--screenshot-dir", str(cwd / "shots")])
        for arguments in runs:
            result = subprocess.run(
                [str(executable), *arguments], env=env, cwd=cwd, capture_output=True, text=True
            )
            status = "ok" if result.returncode == 0 else f"FAILED ({result.returncode})"
            print(f"  lora-studio {' '.join(arguments)}: {status}")
            if result.returncode != 0:
                failures.append(" ".join(arguments))
                print(result.stderr[-2000:], file=sys.stderr)
        shots = sorted((cwd / "shots").glob("*.png"))
        print(f"  self-test screenshots: {len(shots)}")
        bundle_start = best_start_time([str(executable), "--version"], env, cwd)
        venv_env = {**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"}
        venv_start = best_start_time(
            [sys.executable, "-m", "lora_studio", "--version"], venv_env, cwd
        )
    print(f"bundle: {folder_size(BUNDLE) / 1e6:.0f} MB in {BUNDLE}")
    print(f"start (--version, best of 3): bundle {bundle_start:.2f} s, venv {venv_start:.2f} s")
    if len(commands) < 8:
        failures.append(f"only {len(commands)} sub-commands found in --help")
    if failures:
        print("bundle check failed: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="run the built bundle without the venv"
    )
    parser.add_argument("--no-build", action="store_true", help="only --check an existing bundle")
    args = parser.parse_args(argv)
    if not args.no_build:
        started = time.perf_counter()
        shutil.rmtree(BUNDLE, ignore_errors=True)
        run_pyinstaller(render_icons(BUILD / "bundle-icons"))
        share_launcher()
        tarball = make_tarball()
        print(f"built {BUNDLE} in {time.perf_counter() - started:.0f} s")
        print(f"archive: {tarball.name}, {tarball.stat().st_size / 1e6:.0f} MB")
    return check_bundle() if args.check or args.no_build else 0


if __name__ == "__main__":
    sys.exit(main())
