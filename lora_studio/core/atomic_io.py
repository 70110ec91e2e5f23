"""Core: atomic file writes (temp file in the same folder + fsync + os.replace).

Everything that matters on disk — captions, settings, presets, manifests — goes through here, so a
crash or a full disk leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from lora_studio.core.errors import StorageError


def _fsync_dir(directory: Path) -> None:
    # Persist the rename itself; not possible on Windows, harmless to skip there.
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
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            # Keep the permissions the artist gave the original file.
            with contextlib.suppress(OSError):
                os.chmod(tmp_name, path.stat().st_mode & 0o7777)
        os.replace(tmp_name, path)
        tmp_name = None
        _fsync_dir(directory)
    except OSError as exc:
        raise StorageError(_describe_os_error(exc, path), detail=str(exc)) from exc
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
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"No permission to write {path}. Check that the folder is writable; nothing was changed."
    return f"Could not save {path}: {exc.strerror or exc}. Nothing was changed."
