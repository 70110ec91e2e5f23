"""Core: local-file safety for backend downloads — safe names, contained paths, quick verification.

Server-supplied file names are untrusted: a name must never make us write outside the folder the
artist chose. `safe_filename` rejects traversal outright (rather than "fixing" it) because a server
that sends `../x` is misbehaving and the artist should hear about it.

`check_safetensors_file` is a minimal structural check of a downloaded `.safetensors` file
(docs/protocols.md §6.1); the shared validator in `core.weights` will replace it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import struct
from pathlib import Path, PurePosixPath, PureWindowsPath

from lora_studio.core.atomic_io import TEMP_MARK, clean_stale_temps, fsync_dir
from lora_studio.core.errors import BackendError, WeightsError

_MAX_NAME = 200
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The reference implementation refuses headers above 100 MB; LoRA headers are KBs.
_MAX_HEADER = 100 * 1024 * 1024


def safe_filename(name: str) -> str:
    """Return the bare file name to use locally for a server-supplied `name`, or raise.

    Directories are stripped (`loras/x.safetensors` → `x.safetensors`); empty names, absolute
    paths, `..` anywhere, control characters and names that are only dots are refused.
    """
    if not name or not name.strip():
        raise BackendError("The server sent an empty file name; nothing was saved.")
    if _CONTROL.search(name):
        raise BackendError(
            "The server sent a file name with control characters; nothing was saved."
        )
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if (
        posix.is_absolute()
        or windows.is_absolute()
        or windows.drive
        or name.startswith(("/", "\\"))
    ):
        raise BackendError(
            f"The server sent an absolute file name ({name!r}); refusing to write outside the "
            "output folder."
        )
    parts = re.split(r"[\\/]+", name)
    if any(part == ".." for part in parts):
        raise BackendError(
            f"The server sent a file name that climbs out of the output folder ({name!r}); "
            "nothing was saved."
        )
    base = parts[-1].strip()
    if not base or set(base) == {"."}:
        raise BackendError(f"The server sent an unusable file name ({name!r}); nothing was saved.")
    if base.startswith("."):
        base = "_" + base.lstrip(".")  # no hidden files appearing in the artist's folder
    if _WINDOWS_RESERVED.match(base):
        base = "_" + base
    if len(base) > _MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: _MAX_NAME - len(ext) - 1] + dot + ext) if dot else base[:_MAX_NAME]
    return base


def safe_join(folder: Path, name: str) -> Path:
    """`folder / safe_filename(name)`, double-checked to resolve inside `folder`."""
    root = Path(folder).resolve()
    target = (root / safe_filename(name)).resolve()
    if target.parent != root:
        raise BackendError(f"Refusing to write {name!r} outside {root}.")
    return target


def reserve_new_path(folder: Path, name: str) -> Path:
    """A path in `folder` for a new download that overwrites nothing: `name`, else `stem-2…`.

    The file is created empty (O_EXCL) so two downloads running at once, or a LoRA the artist
    already has under that name, can never be overwritten; the download then replaces the empty
    placeholder atomically. Callers remove the placeholder when the download fails. A killed
    process leaves the empty placeholder behind: new code uses `NewFile`, which does not.
    """
    first = safe_join(Path(folder), name)
    first.parent.mkdir(parents=True, exist_ok=True)
    for index in range(1, 1000):
        candidate = first if index == 1 else first.with_name(f"{first.stem}-{index}{first.suffix}")
        try:
            os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        return candidate
    raise BackendError(f"{folder} already holds 999 files named like {name}; clear some out.")


class NewFile:
    """A new download that overwrites nothing and leaves nothing under a final name if killed.

    Written to `staging` (a temporary name carrying our pid, in the same folder); `commit()` then
    gives it the first free name — `name`, `stem-2`, … — with a hard link, which fails instead of
    replacing an existing file, so an existing LoRA or a concurrent job's download keeps its name.
    A `kill -9` before `commit()` leaves only the staging file, which the next download into that
    folder removes (`core.atomic_io.clean_stale_temps`).
    """

    def __init__(self, folder: Path, name: str) -> None:
        self.first = safe_join(Path(folder), name)
        self.first.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(self.first.parent)
        token = secrets.token_hex(4)
        # The final name rides along (for messages: `atomic_io.display_name`); a name is at most
        # 200 characters (`safe_filename`), so this stays within the 255-byte limit.
        self.staging = self.first.parent / f"{TEMP_MARK}{os.getpid()}-{token}-{self.first.name}"

    def commit(self) -> Path:
        """Move the finished staging file to its final, unused name and return that."""
        for index in range(1, 1000):
            first = self.first
            candidate = (
                first if index == 1 else first.with_name(f"{first.stem}-{index}{first.suffix}")
            )
            try:
                os.link(self.staging, candidate)
            except FileExistsError:
                continue
            except OSError:
                # No hard links here (FAT, some network shares): claim the name, then replace.
                try:
                    os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                except FileExistsError:
                    continue
                os.replace(self.staging, candidate)
            else:
                os.unlink(self.staging)
            with contextlib.suppress(OSError):
                fsync_dir(candidate.parent)
            return candidate
        raise BackendError(
            f"{self.first.parent} already holds 999 files named like {self.first.name}; clear "
            "some out."
        )

    def discard(self) -> None:
        self.staging.unlink(missing_ok=True)


def check_safetensors_file(path: Path) -> int:
    """Raise WeightsError unless `path` is a structurally complete safetensors file.

    Checks: ≥ 8 bytes, sane header length, header is a JSON object, tensor offsets are
    contiguous from 0 and the last one ends exactly at end of file (a truncated download fails
    here). Returns the number of tensors. Reads only the header.
    """
    path = Path(path)
    size = path.stat().st_size
    if size < 8:
        raise WeightsError(f"{path.name} is too short to be a .safetensors file ({size} bytes).")
    with path.open("rb") as handle:
        (header_len,) = struct.unpack("<Q", handle.read(8))
        if header_len > _MAX_HEADER or 8 + header_len > size:
            raise WeightsError(
                f"{path.name} is damaged or incomplete: its header claims {header_len} bytes "
                f"but the file has {size}."
            )
        raw = handle.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WeightsError(f"{path.name} has an unreadable header; the file is damaged.") from exc
    if not isinstance(header, dict):
        raise WeightsError(f"{path.name} has a malformed header; the file is damaged.")
    spans: list[tuple[int, int]] = []
    for key, info in header.items():
        if key == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(v, int) for v in offsets)
        ):
            raise WeightsError(f"{path.name}: tensor {key!r} has no valid data offsets.")
        spans.append((offsets[0], offsets[1]))
    spans.sort()
    position = 0
    for begin, end in spans:
        if begin != position or end < begin:
            raise WeightsError(
                f"{path.name}: tensor data overlaps or has gaps; the file is damaged."
            )
        position = end
    data_size = size - 8 - header_len
    if position != data_size:
        raise WeightsError(
            f"{path.name} is incomplete: the tensors need {position} bytes of data but the file "
            f"holds {data_size}. Download it again."
        )
    return len(spans)
