"""Core: turn sqlite3 exceptions from the job store into messages an artist can act on.

Each message names the database file and says what to do. The store never deletes or rewrites a
damaged file: the artist (or support) decides whether it can be rescued.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

from lora_studio.core.errors import StorageError

_BUSY = {"SQLITE_BUSY", "SQLITE_LOCKED"}
_DAMAGED = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}
_READ_ONLY = {"SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"}
_NEARLY_FULL = 1 << 20  # below a megabyte free, SQLite's journal and WAL cannot grow


def _disk_full(path: Path) -> bool:
    """SQLite often reports a full disk as a generic I/O error (or worse): ask the disk itself."""
    for folder in (path.parent, *path.parents):
        with contextlib.suppress(OSError):
            return shutil.disk_usage(folder).free < _NEARLY_FULL
    return False


def _code(exc: sqlite3.Error) -> str:
    # Python 3.11 names the primary code; extended codes ("SQLITE_IOERR_WRITE") share its prefix.
    name = getattr(exc, "sqlite_errorname", "") or ""
    parts = name.split("_")
    return "_".join(parts[:2]) if len(parts) > 2 else name


def storage_error(exc: sqlite3.Error, path: Path, action: str) -> StorageError:
    """A StorageError for `exc`, raised while trying to `action` (e.g. "save job 2025…")."""
    code = _code(exc)
    text = str(exc).lower()
    if code in _BUSY or "locked" in text or "busy" in text:
        message = (
            f"Could not {action}: {path} is busy — another LoRA Studio window or command is "
            "writing to it. Wait a moment and try again, or close the other one."
        )
    elif code in _DAMAGED or "not a database" in text or "malformed" in text:
        message = (
            f"Could not {action}: {path} is damaged or is not a LoRA Studio job history. "
            f"It was left untouched. Rename or move it (for example to {path.name}.broken, "
            f"together with any {path.name}-wal and -shm files beside it) and restart LoRA "
            "Studio to start a new history, or restore it from a backup."
        )
    elif code == "SQLITE_FULL" or "disk is full" in text or _disk_full(path):
        message = (
            f"Could not {action}: the disk holding {path} is full. Free some "
            "space and try again; jobs recorded so far are safe."
        )
    elif code in _READ_ONLY or "readonly" in text or "unable to open" in text:
        message = (
            f"Could not {action}: {path} cannot be opened for writing. Check "
            "that the file and its folder exist and are writable."
        )
    elif code == "SQLITE_IOERR" or "disk i/o" in text:
        message = (
            f"Could not {action}: reading or writing {path} failed at the disk level. "
            "Check the drive (is it removable or a network share?) and try again."
        )
    else:
        message = f"Could not {action} ({path}): {exc}."
    return StorageError(message, detail=f"{type(exc).__name__}: {exc} [{code or 'no code'}]")
