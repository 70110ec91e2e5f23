"""Core/dataset: the import destination — unique, portable names and all-or-nothing writes.

`Destination` is one dataset folder receiving files. Every file is streamed into a hidden temporary
file beside its final name, fsynced, then renamed, so a failure (a full disk, a source that stops
halfway) never leaves a half-written picture. Errors writing the destination become StorageError
naming the file; errors reading a source propagate unchanged for the importer to report per file.

Names: the stem must be unused by any file in the folder, compared case-insensitively (pictures
and captions pair by stem, and the dataset must also work on Windows/macOS); `_2`, `_3`, … are
appended until it is. Characters Windows forbids become `_`; spaces and non-ASCII letters stay.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from io import BytesIO
from pathlib import Path
from typing import IO

from lora_studio.core.dataset.sidecar import SIDECAR_NAME
from lora_studio.core.errors import StorageError

_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10))} | {
    f"LPT{i}" for i in range(10)
}
_CHUNK = 1 << 20


def safe_file_name(name: str) -> str:
    """A name that is valid on every desktop OS; spaces and non-ASCII letters are kept."""
    cleaned = _FORBIDDEN.sub("_", name).strip().rstrip(".")
    stem, ext = os.path.splitext(cleaned)
    stem = stem.lstrip(".") or "image"
    if stem.upper() in _RESERVED:
        stem = f"{stem}_"
    return f"{stem}{ext.lower()}"


class Destination:
    """A folder receiving imported files (used from one thread at a time)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            names = os.listdir(folder)
        except OSError:
            names = []
        self._taken = {os.path.splitext(name)[0].casefold() for name in names}

    def allocate(self, name: str) -> Path:
        """Reserve a unique path for a file that wants to be called `name`."""
        stem, ext = os.path.splitext(safe_file_name(name))
        candidate, number = stem, 2
        while candidate.casefold() in self._taken or candidate == SIDECAR_NAME:
            candidate = f"{stem}_{number}"
            number += 1
        self._taken.add(candidate.casefold())
        return self.folder / f"{candidate}{ext}"

    def copy_to_temp(self, reader: IO[bytes], label: str) -> Path:
        """Stream `reader` into a hidden temporary file here; the caller commits or deletes it."""
        try:
            fd, name = tempfile.mkstemp(prefix=".import-", suffix=".part", dir=self.folder)
        except OSError as exc:
            raise self.error(exc, label) from exc
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := reader.read(_CHUNK):  # a source error is that file's problem
                    try:
                        out.write(chunk)
                    except OSError as exc:
                        raise self.error(exc, label) from exc
                try:
                    out.flush()
                    os.fsync(out.fileno())
                except OSError as exc:
                    raise self.error(exc, label) from exc
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return tmp

    def commit(self, tmp: Path, final: Path, label: str) -> None:
        try:
            os.replace(tmp, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise self.error(exc, label) from exc

    def write(self, path: Path, data: bytes, label: str) -> None:
        """Write `data` to `path` atomically (temporary file + rename)."""
        self.commit(self.copy_to_temp(BytesIO(data), label), path, label)

    def error(self, exc: OSError, label: str) -> StorageError:
        name = Path(label).name
        if exc.errno == errno.ENOSPC:
            message = (
                f"The disk is full: could not import {name} into {self.folder}. Nothing "
                "half-written was left behind; free some space and import the rest again."
            )
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            message = (
                f"Cannot write into {self.folder} (read-only or no permission), so {name} "
                "was not imported."
            )
        else:
            message = f"Could not write {name} into {self.folder}: {exc.strerror or exc}."
        return StorageError(message, detail=str(exc))
