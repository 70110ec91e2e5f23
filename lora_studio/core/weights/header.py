"""Core/weights: read and fully validate a safetensors header without loading any tensor.

Layout (docs/protocols.md §6.1): 8 bytes little-endian header length N, N bytes of UTF-8 JSON (possibly
right-padded with spaces), then the tensor data. Only the first 8+N bytes are ever read here, so a
10 GB checkpoint costs the same as a 10 MB LoRA. Validation follows the download checklist: sizes,
dtypes, contiguous offsets, and that the data section has exactly the length the header promises
— a file cut short by an interrupted download fails the last check with a message that says so.

Every problem with the file's content is a `WeightsError`; problems reaching it (missing,
unreadable) are a `StorageError`. Both name the file and say what to do.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any

from lora_studio.core.errors import StorageError, WeightsError
from lora_studio.core.weights.dtypes import expected_nbytes

# The reference implementation refuses larger headers; a bigger N means "not a safetensors file".
MAX_HEADER_BYTES = 100_000_000
METADATA_KEY = "__metadata__"
_REDOWNLOAD = "download or export it again"


@dataclass(frozen=True)
class TensorInfo:
    """One header entry: where a tensor's bytes live, relative to the start of the data section."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int

    @property
    def numel(self) -> int:
        return prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.end - self.begin


@dataclass(frozen=True)
class SafetensorsHeader:
    """A validated header. `tensors` keeps the order of the file's JSON."""

    path: Path
    file_size: int
    header_size: int
    tensors: dict[str, TensorInfo]
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def data_start(self) -> int:
        return 8 + self.header_size

    @property
    def data_size(self) -> int:
        return self.file_size - self.data_start


def label(path: Path) -> str:
    """How messages name a file: its name in quotes (the full path is in the log detail)."""
    return f'"{Path(path).name}"'


def read_header(path: Path | str) -> SafetensorsHeader:
    """Read and validate the header of `path`; raises WeightsError / StorageError."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            file_size = os.fstat(handle.fileno()).st_size
            head = handle.read(9)
            header_size = _check_length_prefix(path, head, file_size)
            header_bytes = head[8:] + handle.read(header_size - 1)
    except FileNotFoundError as exc:
        raise StorageError(
            f"{label(path)} does not exist. Check the path; the file may have been moved or "
            "deleted.",
            detail=str(path),
        ) from exc
    except IsADirectoryError as exc:
        raise StorageError(
            f"{label(path)} is a folder, not a .safetensors file. Pick the file inside it.",
            detail=str(path),
        ) from exc
    except PermissionError as exc:
        raise StorageError(
            f"No permission to read {label(path)}. Check the file's permissions.", detail=str(path)
        ) from exc
    except OSError as exc:
        raise StorageError(
            f"Could not read {label(path)}: {exc.strerror or exc}.", detail=str(path)
        ) from exc
    if len(header_bytes) != header_size:
        # The file shrank between stat and read (still being written or downloaded).
        raise WeightsError(
            f"{label(path)} is truncated: its header needs {header_size:,} bytes but only "
            f"{len(header_bytes):,} could be read — the file may still be downloading; "
            "wait for it to finish or download it again.",
            detail=str(path),
        )
    return parse_header(path, header_bytes, file_size)


def _check_length_prefix(path: Path, head: bytes, file_size: int) -> int:
    """Check the 8-byte length (+ the header's first byte, `head[8]`) before reading further."""
    prefix = head[:8]
    if file_size < 8 or len(prefix) < 8:
        raise WeightsError(
            f"{label(path)} is not a usable safetensors file: it is only {file_size} bytes long. "
            f"It is probably an empty or failed download; {_REDOWNLOAD}.",
            detail=str(path),
        )
    header_size: int = struct.unpack("<Q", prefix)[0]
    if header_size < 2 or header_size > MAX_HEADER_BYTES:
        raise _not_safetensors(path, head, header_size)
    if 8 + header_size > file_size:
        # A real header starts with "{": anything else is another kind of file whose first bytes
        # happen to read as a plausible length (a zip's "PK\3\4" reads as 67 MB), not a cut one.
        if head[8:9] not in (b"{", b""):
            raise _not_safetensors(path, head, header_size)
        raise WeightsError(
            f"{label(path)} is truncated: its header alone needs {header_size:,} bytes but only "
            f"{file_size - 8:,} follow — the download was interrupted; download it again.",
            detail=str(path),
        )
    return header_size


def _not_safetensors(path: Path, head: bytes, header_size: int) -> WeightsError:
    return WeightsError(
        f"{label(path)} is not a safetensors file{_sniff(head[:8])}. Check that you picked the "
        "right file; if it came from a download, the server may have sent an error page "
        "instead of the model.",
        detail=f"{path}: header length {header_size}, first bytes {head!r}",
    )


def _sniff(prefix: bytes) -> str:
    """A hint about what the file is instead, from its first bytes."""
    if prefix.lstrip()[:1] == b"<":
        return " (it looks like a web page)"
    if prefix.startswith(b"PK"):
        return " (it is a zip archive — a .ckpt or a compressed download?)"
    if prefix.startswith(b"\x80"):
        return " (it looks like a PyTorch pickle file such as .ckpt/.pt/.bin)"
    if all(32 <= byte < 127 or byte in b"\t\r\n" for byte in prefix):
        return " (it looks like a text file)"
    return ""


def parse_header(path: Path | str, header_bytes: bytes, file_size: int) -> SafetensorsHeader:
    """Validate header bytes (without the 8-byte prefix) against the file's total size."""
    path = Path(path)
    raw = _load_json(path, header_bytes)
    metadata = _parse_metadata(path, raw.pop(METADATA_KEY, None))
    tensors = {name: _parse_entry(path, name, entry) for name, entry in raw.items()}
    for info in tensors.values():
        _check_size(path, info)
    header = SafetensorsHeader(path, file_size, len(header_bytes), tensors, metadata)
    _check_layout(path, list(tensors.values()), header.data_size)
    return header


def _load_json(path: Path, header_bytes: bytes) -> dict[str, Any]:
    if not header_bytes.startswith(b"{"):
        raise WeightsError(
            f"{label(path)} is not a safetensors file: its header is not a JSON object. "
            f"Check that you picked the right file, or {_REDOWNLOAD}.",
            detail=repr(header_bytes[:40]),
        )
    try:
        # Padding after the object is spaces, which json accepts as trailing whitespace.
        value = json.loads(header_bytes.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise WeightsError(
            f"{label(path)} is damaged: its header is not valid UTF-8 text; {_REDOWNLOAD}.",
            detail=str(exc),
        ) from exc
    except json.JSONDecodeError as exc:
        raise WeightsError(
            f"{label(path)} is damaged: its header is not valid JSON ({exc.msg} at byte "
            f"{exc.pos:,}); {_REDOWNLOAD}.",
            detail=str(exc),
        ) from exc
    if not isinstance(value, dict):  # pragma: no cover - a text starting with "{" is an object
        raise WeightsError(f"{label(path)} is damaged: its header is not a JSON object.")
    return value


def _parse_metadata(path: Path, value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WeightsError(
            f"{label(path)} has invalid metadata: __metadata__ is not a JSON object. "
            f"Other tools refuse such files; {_REDOWNLOAD}."
        )
    for key, item in value.items():
        if not isinstance(item, str):
            raise WeightsError(
                f'{label(path)} has invalid metadata: the value of "{key}" is not text '
                f"({type(item).__name__}). Other tools refuse such files; {_REDOWNLOAD}."
            )
    return dict(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_entry(path: Path, name: str, entry: object) -> TensorInfo:
    problem = _entry_problem(entry)
    if problem is not None or not isinstance(entry, dict):
        raise WeightsError(
            f'{label(path)} is damaged: the header entry for tensor "{name}" is malformed '
            f"({problem}); {_REDOWNLOAD}.",
            detail=repr(entry)[:200],
        )
    begin, end = entry["data_offsets"]
    return TensorInfo(name, entry["dtype"], tuple(entry["shape"]), begin, end)


def _entry_problem(entry: object) -> str | None:
    if not isinstance(entry, dict):
        return "not a JSON object"
    if not isinstance(entry.get("dtype"), str):
        return "no dtype"
    shape = entry.get("shape")
    if not isinstance(shape, list) or not all(_is_int(dim) and dim >= 0 for dim in shape):
        return "shape is not a list of non-negative whole numbers"
    offsets = entry.get("data_offsets")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_int(offset) and offset >= 0 for offset in offsets)
        or offsets[0] > offsets[1]
    ):
        return "data_offsets is not a [begin, end] pair with begin ≤ end"
    return None


def _check_size(path: Path, info: TensorInfo) -> None:
    expected = expected_nbytes(info.dtype, info.numel)
    if expected is None or expected == info.nbytes:
        return  # unknown dtype: a newer writer may know it; the layout check still applies
    shape = list(info.shape)
    if expected < 0:
        reason = f"{info.numel:,} {info.dtype} values do not fill whole bytes"
    else:
        reason = f"should take {expected:,} bytes but the header gives it {info.nbytes:,}"
    raise WeightsError(
        f'{label(path)} is damaged: tensor "{info.name}" ({info.dtype}, shape {shape}) {reason}; '
        f"{_REDOWNLOAD}."
    )


def _check_layout(path: Path, tensors: list[TensorInfo], data_size: int) -> None:
    """Offsets must tile the data section exactly: sorted, from 0, no gaps, no overlap."""
    position = 0
    previous: TensorInfo | None = None
    for info in sorted(tensors, key=lambda t: (t.begin, t.end)):
        if info.begin > position:
            raise WeightsError(
                f"{label(path)} is damaged: {info.begin - position:,} bytes of the data section "
                f'before tensor "{info.name}" belong to no tensor; {_REDOWNLOAD}.'
            )
        if info.begin < position:
            other = previous.name if previous is not None else "?"
            raise WeightsError(
                f'{label(path)} is damaged: tensor "{info.name}" overlaps tensor "{other}" in '
                f"the data section; {_REDOWNLOAD}."
            )
        position = info.end
        previous = info
    if data_size < position:
        raise WeightsError(
            f"{label(path)} is truncated: expected {position:,} bytes of tensor data, found "
            f"{data_size:,} — the download was interrupted; download it again.",
            detail=str(path),
        )
    if data_size > position:
        raise WeightsError(
            f"{label(path)} is damaged: it has {data_size - position:,} unexpected bytes after "
            f"its last tensor; {_REDOWNLOAD}.",
            detail=str(path),
        )


def read_tensor_bytes(
    header: SafetensorsHeader, names: Iterable[str], *, max_bytes: int = 1 << 20
) -> dict[str, bytes]:
    """Read the raw bytes of a few small tensors (e.g. scalar alphas) with one open file.

    Tensors larger than `max_bytes` are refused: this is for inspection, not for loading weights.
    """
    result: dict[str, bytes] = {}
    wanted = [header.tensors[name] for name in names]
    if any(info.nbytes > max_bytes for info in wanted):
        raise ValueError(f"read_tensor_bytes is for small tensors (≤ {max_bytes} bytes)")
    try:
        with open(header.path, "rb") as handle:
            for info in sorted(wanted, key=lambda t: t.begin):
                handle.seek(header.data_start + info.begin)
                data = handle.read(info.nbytes)
                if len(data) != info.nbytes:
                    raise WeightsError(
                        f"{label(header.path)} changed while it was being read (it is shorter "
                        "than a moment ago). Wait until it is fully written and try again."
                    )
                result[info.name] = data
    except OSError as exc:
        raise StorageError(
            f"Could not read {label(header.path)}: {exc.strerror or exc}.",
            detail=str(header.path),
        ) from exc
    return result
