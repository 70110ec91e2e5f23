"""Core/kohya: start, watch and stop one trainer run without blocking the event loop.

A run lives in its own folder (`RunFiles`): the dataset TOML, `stdout.log`/`stderr.log` (the
trainer writes to files, not pipes, so it keeps running — and its output stays readable — when
LoRA Studio quits or is killed), the launcher's pid and the exit status (see `launcher.py`). The
trainer starts in its own process group (session), unbuffered, with `COLUMNS=200` so rich does not
wrap its log lines, and inherits the rest of the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lora_studio.core.errors import BackendError

LAUNCHER = Path(__file__).with_name("launcher.py")


@dataclass(frozen=True)
class RunFiles:
    root: Path

    @property
    def stdout(self) -> Path:
        return self.root / "stdout.log"

    @property
    def stderr(self) -> Path:
        return self.root / "stderr.log"

    @property
    def exit_status(self) -> Path:
        return self.root / "exit_status"

    @property
    def cancel_mark(self) -> Path:
        return self.root / "cancel_requested"

    @property
    def launcher_pid(self) -> Path:
        return self.root / "launcher.pid"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def dataset_toml(self) -> Path:
        return self.root / "dataset.toml"

    @property
    def sample_prompts(self) -> Path:
        return self.root / "sample_prompts.txt"

    @property
    def command(self) -> Path:
        """The command that ran, as a script to run again by hand."""
        return self.root / "command.sh"

    def read_exit_status(self) -> int | None:
        try:
            return int(self.exit_status.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None

    def read_pid(self) -> int | None:
        try:
            return int(self.launcher_pid.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None


def pid_alive(pid: int | None) -> bool:
    """True while `pid` runs (a zombie child of ours counts as ended)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True  # no /proc (macOS): kill(0) is all we know


def trainer_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"  # else checkpoint saves arrive only at exit (Part A2)
    env.setdefault("COLUMNS", "200")  # rich wraps log lines at 80 columns on a file
    env.setdefault("PYTHONIOENCODING", "utf-8")
    env.update(extra or {})
    return env


def _open_logs(files: RunFiles) -> tuple[IO[bytes], IO[bytes]]:
    """Make the run's folders and open its two logs for appending."""
    files.root.mkdir(parents=True, exist_ok=True)
    files.output.mkdir(exist_ok=True)
    out = open(files.stdout, "ab")  # noqa: SIM115 - the caller closes it
    try:
        return out, open(files.stderr, "ab")
    except OSError:
        out.close()
        raise


async def start_run(
    files: RunFiles, python: str, command: Sequence[str], cwd: Path
) -> asyncio.subprocess.Process:
    """Start `command` through the launcher in a new session; output goes to the run's logs."""
    out, err = await asyncio.to_thread(_open_logs, files)  # disk work: off the event loop
    argv = [python, str(LAUNCHER), str(files.root), "--", *command]
    with out, err:
        try:
            return await asyncio.create_subprocess_exec(
                *argv,
                cwd=str(cwd),
                env=trainer_env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group: cancel stops all of it
            )
        except OSError as exc:
            raise BackendError(
                f"Could not start the kohya trainer with {python}: {exc.strerror or exc}. Check "
                "the Python set for kohya in Settings → Backends (or --python)."
            ) from exc


def signal_group(pid: int, sig: int) -> bool:
    """Send `sig` to the process group led by `pid`; False when it is gone."""
    if sys.platform == "win32":  # pragma: no cover - no process groups there
        with contextlib.suppress(OSError):
            os.kill(pid, sig)
        return False
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


async def wait_gone(
    pid: int,
    timeout: float,  # noqa: ASYNC109 - False at the deadline: the caller then sends SIGKILL
    interval: float = 0.1,
) -> bool:
    """Wait up to `timeout` seconds for `pid` to end; True when it did."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while pid_alive(pid):
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(interval)
    return True


async def terminate_group(pid: int, grace: float) -> str:
    """SIGTERM the run's process group, SIGKILL what is left after `grace` seconds."""
    if not signal_group(pid, signal.SIGTERM):
        return "gone"
    if await wait_gone(pid, grace):
        return "terminated"
    signal_group(pid, signal.SIGKILL)
    await wait_gone(pid, 5.0)
    return "killed"


class LogTail:
    """Reads what was appended to a log file since the last call (UTF-8, never blocking long)."""

    def __init__(self, path: Path, offset: int = 0) -> None:
        self.path = path
        self.offset = offset
        self._pending = b""

    def read(self, limit: int = 4 << 20) -> str:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read(limit)
        except FileNotFoundError:
            return ""
        self.offset += len(data)
        data = self._pending + data
        # Keep an incomplete UTF-8 sequence at the end for the next read.
        cut = len(data)
        for back in range(1, min(4, len(data)) + 1):
            byte = data[-back]
            if byte & 0xC0 == 0x80:
                continue
            if byte & 0x80:
                need = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4
                if back < need:
                    cut = len(data) - back
            break
        self._pending = data[cut:]
        return data[:cut].decode("utf-8", errors="replace")
