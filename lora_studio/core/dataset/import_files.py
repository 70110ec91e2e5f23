"""Core/dataset: the import destination — unique, portable names and all-or-nothing writes.

`Destination` is one dataset folder receiving files. Every file is streamed into a hidden temporary
file beside its final name (short name, `core.atomic_io.make_temp`), fsynced, then renamed and the
folder fsynced, so a failure (a full disk, a source that stops halfway, a `kill -9`) never leaves a
half-written picture. Leftover temporary files of a killed run are removed when the next import
opens the folder. Errors writing the destination become StorageError naming the file when the
whole folder is unusable (full, read-only), or DatasetError when only that one name cannot be
written (too long, not valid on that file system): the importer skips that file and goes on.
Errors reading a source propagate unchanged for the importer to report per file.

Names: the stem must be unused by any file in the folder, compared case-insensitively (pictures
and captions pair by stem, and the dataset must also work on Windows/macOS); `_2`, `_3`, … are
appended until it is. Characters Windows forbids become `_`; spaces and non-ASCII letters stay;
a stem is cut (at a character boundary) to `MAX_STEM_BYTES` so that the name, a `_NNN` suffix and
the caption's `.txt` always fit in 255 bytes.

Same content: `find_same` answers whether a file with identical bytes is already in the folder
(size first, then SHA-256 of the few files of that size), so an import run again — after a kill,
or by mistake — skips what is already there instead of adding `_2` copies.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import IO

from lora_studio.core.atomic_io import clean_stale_temps, fsync_dir, make_temp, new_file_mode
from lora_studio.core.dataset.sidecar import SIDECAR_NAME
from lora_studio.core.errors import DatasetError, StorageError

_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10))} | {
    f"LPT{i}" for i in range(10)
}
_CHUNK = 1 << 20
MAX_STEM_BYTES = 240  # + "_1234" + ".jpeg" or ".txt" still fits the 255-byte name limit
# The whole folder is unusable: stop the import. Anything else concerns this one file.
_FOLDER_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
)


def safe_file_name(name: str) -> str:
    """A name that is valid on every desktop OS; spaces and non-ASCII letters are kept."""
    cleaned = _FORBIDDEN.sub("_", name).strip().rstrip(".")
    stem, ext = os.path.splitext(cleaned)
    stem = stem.lstrip(".") or "image"
    if stem.upper() in _RESERVED:
        stem = f"{stem}_"
    if len(ext.encode("utf-8", "surrogateescape")) > 16:  # not a real extension
        stem, ext = stem + ext, ""
    return f"{_cut(stem, MAX_STEM_BYTES)}{ext.lower()}"


def _cut(text: str, limit: int) -> str:
    encoded = text.encode("utf-8", "surrogateescape")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", "ignore").rstrip() or "image"


@dataclass(frozen=True)
class Staged:
    """A file written to a temporary name here, waiting to be committed (or discarded)."""

    path: Path
    size: int
    digest: str  # SHA-256 of the content

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


class Destination:
    """A folder receiving imported files (used from one thread at a time)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        clean_stale_temps(folder)  # what a killed import left behind
        try:
            names = os.listdir(folder)
        except OSError:
            names = []
        self._taken = {os.path.splitext(name)[0].casefold() for name in names}
        self._by_size: dict[int, list[Path]] | None = None  # built on first find_same
        self._digests: dict[Path, str] = {}

    def allocate(self, name: str) -> Path:
        """Reserve a unique path for a file that wants to be called `name`."""
        stem, ext = os.path.splitext(safe_file_name(name))
        candidate, number = stem, 2
        while candidate.casefold() in self._taken or candidate == SIDECAR_NAME:
            candidate = f"{stem}_{number}"
            number += 1
        self._taken.add(candidate.casefold())
        return self.folder / f"{candidate}{ext}"

    def stage(self, reader: IO[bytes], label: str, limit: int | None = None) -> Staged:
        """Stream `reader` into a hidden temporary file here (at most `limit` bytes).

        A source that is longer than `limit` is refused with a DatasetError naming it (a device
        or a runaway file never fills the disk). Write errors become StorageError/DatasetError.
        """
        try:
            fd, name = make_temp(self.folder, ".part")
        except OSError as exc:
            raise self.error(exc, label) from exc
        tmp = Path(name)
        digest = hashlib.sha256()
        size = 0
        try:
            # Unbuffered: a full disk surfaces in write(), never later from close().
            with os.fdopen(fd, "wb", buffering=0) as out:
                while chunk := reader.read(_CHUNK):  # a source error is that file's problem
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise DatasetError(
                            f"{Path(label).name} is larger than {limit / 2**20:.0f} MB, the "
                            "limit for one imported file; it was not imported."
                        )
                    digest.update(chunk)
                    self._write_all(out, chunk, label)
                try:
                    os.fsync(out.fileno())
                    os.chmod(tmp, new_file_mode())
                except OSError as exc:
                    raise self.error(exc, label) from exc
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return Staged(tmp, size, digest.hexdigest())

    def _write_all(self, out: IO[bytes], chunk: bytes, label: str) -> None:
        view = memoryview(chunk)
        try:
            while view:
                view = view[out.write(view) or 0 :]
        except OSError as exc:
            raise self.error(exc, label) from exc

    def copy_to_temp(self, reader: IO[bytes], label: str) -> Path:
        """Stream `reader` into a hidden temporary file here; the caller commits or deletes it."""
        return self.stage(reader, label).path

    def find_same(self, staged: Staged, extensions: frozenset[str]) -> Path | None:
        """A file already in the folder (with one of `extensions`) holding exactly these bytes."""
        if self._by_size is None:
            self._by_size = {}
            with contextlib.suppress(OSError):
                for entry in os.scandir(self.folder):
                    if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                        continue
                    if os.path.splitext(entry.name)[1].lower() in extensions:
                        with contextlib.suppress(OSError):
                            size = entry.stat(follow_symlinks=False).st_size
                            self._by_size.setdefault(size, []).append(Path(entry.path))
        for candidate in self._by_size.get(staged.size, []):
            if self._digest(candidate) == staged.digest:
                return candidate
        return None

    def _digest(self, path: Path) -> str | None:
        if path not in self._digests:
            digest = hashlib.sha256()
            try:
                with open(path, "rb") as handle:
                    while chunk := handle.read(_CHUNK):
                        digest.update(chunk)
            except OSError:
                return None
            self._digests[path] = digest.hexdigest()
        return self._digests[path]

    def remember(self, path: Path, staged: Staged) -> None:
        """Record a committed file so a second copy in the same run is recognised."""
        if self._by_size is not None:
            self._by_size.setdefault(staged.size, []).append(path)
        self._digests[path] = staged.digest

    def commit(self, tmp: Path, final: Path, label: str, *, sync: bool = True) -> None:
        """Rename `tmp` to `final`, then fsync the folder so the rename survives a power cut."""
        try:
            os.replace(tmp, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise self.error(exc, label) from exc
        if sync:
            self.sync()

    def sync(self) -> None:
        with contextlib.suppress(OSError):  # the data itself is already fsynced
            fsync_dir(self.folder)

    def write(self, path: Path, data: bytes, label: str) -> None:
        """Write `data` to `path` atomically (temporary file + rename)."""
        self.commit(self.stage(BytesIO(data), label).path, path, label)

    def error(self, exc: OSError, label: str) -> StorageError | DatasetError:
        name = Path(label).name
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            message = (
                f"The disk is full: could not import {name} into {self.folder}. Nothing "
                "half-written was left behind; free some space and import the rest again."
            )
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            message = (
                f"Cannot write into {self.folder} (read-only or no permission), so {name} "
                "was not imported."
            )
        elif exc.errno not in _FOLDER_ERRNOS:
            # Too long, or a character this file system refuses: only this file is affected.
            return DatasetError(
                f"{name} could not be written into {self.folder} under its name "
                f"({exc.strerror or exc}); it was skipped. Rename it and import it again.",
                detail=str(exc),
            )
        else:
            message = f"Could not write {name} into {self.folder}: {exc.strerror or exc}."
        return StorageError(message, detail=str(exc))
