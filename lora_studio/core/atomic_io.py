"""Core: atomic file writes (temp file in the same folder + fsync + os.replace).

Everything that matters on disk — captions, settings, presets, manifests — goes through here, so a
crash or a full disk leaves either the old file or the new one, never a torn one.

Temporary files have short names (`.~ls<pid>-XXXXXXXX.tmp`) so that a file whose own name is near
the 255-byte limit can still be written, and carry the writer's process id so that leftovers of a
killed run are recognisable: `clean_stale_temps(folder)` removes those whose process is gone.
A new file gets the usual mode under the user's umask (0644 typically), not mkstemp's 0600;
a replaced file keeps the mode the artist gave it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from lora_studio.core.errors import StorageError


class NameNotWritableError(StorageError):
    """Only this file's name is the problem (too long, or refused by that file system)."""


_NAME_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL})

TEMP_MARK = ".~ls"  # every temporary file this app creates beside a user's file starts so
# Names earlier versions used: mkstemp's 8 random characters between a prefix and a suffix.
_LEGACY_TEMP = re.compile(r"^\.(import-|.+\.)[a-z0-9_]{8}\.(tmp|part)$")
_LEGACY_AGE = 3600.0  # older temp names carry no pid: only an hour-old one is surely abandoned


def _current_umask() -> int:
    # Linux reports it without changing it; elsewhere set-and-restore once, at import time
    # (before any worker thread exists).
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def new_file_mode() -> int:
    """The mode a file created with open() would get: 0o666 under the umask."""
    return 0o666 & ~_UMASK


def make_temp(directory: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """mkstemp in `directory` with a short name carrying our pid (see the module docstring)."""
    return tempfile.mkstemp(prefix=f"{TEMP_MARK}{os.getpid()}-", suffix=suffix, dir=directory)


def display_name(path: Path) -> str:
    """The name to show for `path`: a staging file `.~ls<pid>-<token>-<name>` shows as `<name>`."""
    name = Path(path).name
    if name.startswith(TEMP_MARK):
        parts = name[len(TEMP_MARK) :].split("-", 2)
        if len(parts) == 3 and parts[0].isdigit() and parts[2]:
            return parts[2]
    return name


def _pid_of(name: str) -> int:
    text = name[len(TEMP_MARK) :].split("-", 1)[0]
    return int(text) if text.isdigit() else -1


def _pid_alive(pid: int) -> bool:
    if pid < 0:
        return True  # not one of ours after all: keep it
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (someone else's), or we cannot tell: keep the file
    return True


def clean_stale_temps(directory: Path) -> int:
    """Remove temporary files a killed run of this app left in `directory`; returns how many.

    Ours are removed when their process is gone; older-style names (`.x.tmp`, `.import-*.part`)
    only when over an hour old, so a concurrent writer of another version is never disturbed.
    """
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        name = entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                if name.startswith(TEMP_MARK) and not _pid_alive(_pid_of(name)):
                    shutil.rmtree(entry.path, ignore_errors=True)  # a video's extraction folder
                    removed += 1
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            if name.startswith(TEMP_MARK):
                if _pid_alive(_pid_of(name)):
                    continue
            elif not (_LEGACY_TEMP.match(name) and now - entry.stat().st_mtime > _LEGACY_AGE):
                continue
            os.unlink(entry.path)
            removed += 1
        except OSError:
            continue
    return removed


def fsync_dir(directory: Path) -> None:
    """Persist renames in `directory`; not possible on Windows, harmless to skip there."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_stream(path: Path, fill: Callable[[BinaryIO], None]) -> None:
    """Write `path` atomically from a callback that streams into the temporary file.

    For big files (a LoRA's data section) that must never be held in memory whole. Raises
    StorageError with a readable message; on any failure the old file is untouched.
    """
    path = Path(path)
    directory = path.parent
    tmp_name: str | None = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = make_temp(directory)
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # Keep the permissions the artist gave the original file; a new one gets the usual mode.
        try:
            mode = path.stat().st_mode & 0o7777
        except OSError:
            mode = new_file_mode()
        with contextlib.suppress(OSError):
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
        tmp_name = None
        fsync_dir(directory)
    except OSError as exc:
        kind = NameNotWritableError if exc.errno in _NAME_ERRNOS else StorageError
        raise kind(_describe_os_error(exc, path), detail=str(exc)) from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically. Raises StorageError with a readable message."""

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    atomic_write_stream(path, write)


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write `text` to `path` atomically (UTF-8 by default, no newline translation)."""
    atomic_write_bytes(path, text.encode(encoding))


def _describe_os_error(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"The disk is full: could not save {path}. Free some space and try again; the previous version is untouched."
    if exc.errno in _NAME_ERRNOS:
        return (
            f"Could not save {path.name} in {path.parent}: this file system does not accept that "
            f"name ({exc.strerror or exc}). Give it a shorter or plainer name."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"No permission to write {path}. Check that the folder is writable; nothing was changed."
    return f"Could not save {path}: {exc.strerror or exc}. Nothing was changed."
