"""Core/weights: write safetensors files and rewrite their metadata without touching tensor bytes.

The header is serialised the way the reference library does it — compact JSON, `__metadata__`
first, space-padded to a multiple of 8 bytes so the data section stays 8-byte aligned — so files
we touch look like files any other tool writes.

A metadata rewrite never loads the model: the new header goes to a temp file in the same folder,
the data section is stream-copied in 1 MB chunks behind it, then fsync + `os.replace`. A crash,
a full disk or a file that changes underneath leaves the original untouched.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import BinaryIO

from lora_studio.core.atomic_io import atomic_write_stream
from lora_studio.core.errors import StorageError, WeightsError
from lora_studio.core.weights.dtypes import DTYPE_BITS, expected_nbytes
from lora_studio.core.weights.header import METADATA_KEY, TensorInfo, label, read_header

COPY_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class TensorData:
    """A tensor to write: dtype name (e.g. "F32"), shape and its raw little-endian bytes."""

    dtype: str
    shape: tuple[int, ...]
    data: bytes | bytearray | memoryview


def encode_header(tensors: Iterable[TensorInfo], metadata: Mapping[str, str] | None) -> bytes:
    """The 8-byte length prefix plus the padded JSON header for these entries."""
    document: dict[str, object] = {}
    if metadata:
        document[METADATA_KEY] = dict(_checked_metadata(metadata))
    for info in tensors:
        document[info.name] = {
            "dtype": info.dtype,
            "shape": list(info.shape),
            "data_offsets": [info.begin, info.end],
        }
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def _checked_metadata(metadata: Mapping[str, str]) -> Mapping[str, str]:
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            # A caller bug, not an artist problem: safetensors metadata is text → text only.
            raise TypeError(
                f"safetensors metadata must map str to str; {key!r} has {type(value).__name__}"
            )
    return metadata


def write_safetensors(
    path: Path | str, tensors: Mapping[str, TensorData], metadata: Mapping[str, str] | None = None
) -> None:
    """Write a complete safetensors file atomically (used for generated and test files).

    Tensors are laid out like the reference library: widest dtype first, then by name.
    """
    path = Path(path)

    def order(name: str) -> tuple[int, str]:
        return (-DTYPE_BITS.get(tensors[name].dtype, 8), name)

    infos: list[TensorInfo] = []
    position = 0
    for name in sorted(tensors, key=order):
        tensor = tensors[name]
        size = memoryview(tensor.data).nbytes
        expected = expected_nbytes(tensor.dtype, prod(tensor.shape))
        if expected is not None and expected != size:
            raise ValueError(f"tensor {name!r}: {size} bytes given, {expected} expected")
        infos.append(TensorInfo(name, tensor.dtype, tuple(tensor.shape), position, position + size))
        position += size
    header = encode_header(infos, metadata)

    def fill(out: BinaryIO) -> None:
        out.write(header)
        for info in infos:
            out.write(tensors[info.name].data)

    _atomic_stream_write(path, fill, needed_bytes=len(header) + position)


def read_metadata(path: Path | str) -> dict[str, str]:
    """The `__metadata__` of a validated file (empty when it has none)."""
    return read_header(path).metadata


def write_metadata(
    path: Path | str, metadata: Mapping[str, str], *, merge: bool = True
) -> dict[str, str]:
    """Replace the header's `__metadata__` (merged into the existing one unless merge=False).

    Tensor bytes are copied unchanged. Returns the metadata now in the file.
    """
    # Rewrite the real file behind a symlink (a LoRA folder linked into ComfyUI/Forge), so the
    # link survives and the temp file lands on the same filesystem as its target.
    path = Path(path).resolve()
    header = read_header(path)
    new_metadata = {**header.metadata, **metadata} if merge else dict(metadata)
    encoded = encode_header(header.tensors.values(), _checked_metadata(new_metadata))
    before = os.stat(path)

    def fill(out: BinaryIO) -> None:
        out.write(encoded)
        with open(path, "rb") as source:
            source.seek(header.data_start)
            copied = _copy_stream(source, out)
            after = os.fstat(source.fileno())
        # The header we re-encode must describe the bytes we copied: any size or mtime change
        # since it was read means another program is writing the file.
        expected = (header.file_size, before.st_mtime_ns, header.data_size)
        if (after.st_size, after.st_mtime_ns, copied) != expected:
            raise WeightsError(
                f"{label(path)} changed while its metadata was being written (another program "
                "is writing it). Nothing was changed; try again when it is finished.",
                detail=f"copied {copied} of {header.data_size} bytes",
            )

    _atomic_stream_write(path, fill, needed_bytes=len(encoded) + header.data_size)
    return new_metadata


def add_metadata_if_missing(path: Path | str, metadata: Mapping[str, str]) -> dict[str, str]:
    """Add only the keys the file does not have yet; returns what was added.

    A backend's own keys win (kohya writes its ss_* itself; ComfyUI writes none). Nothing is
    rewritten when every key is already present.
    """
    existing = read_header(path).metadata
    missing = {key: value for key, value in metadata.items() if key not in existing}
    if missing:
        write_metadata(path, missing, merge=True)
    return missing


def _copy_stream(source: io.BufferedReader, target: BinaryIO) -> int:
    # One reusable buffer: memory stays at 1 MB however large the model is.
    buffer = bytearray(COPY_CHUNK_BYTES)
    view = memoryview(buffer)
    total = 0
    while True:
        count = source.readinto(view)
        if not count:
            return total
        target.write(view[:count])
        total += count


def _atomic_stream_write(
    path: Path, fill: Callable[[BinaryIO], None], *, needed_bytes: int
) -> None:
    _check_free_space(path, needed_bytes)
    atomic_write_stream(path, fill)


def _check_free_space(path: Path, needed_bytes: int) -> None:
    # Fail before writing hundreds of MB rather than after; the copy needs room for a full file.
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return
    if free < needed_bytes:
        raise StorageError(
            f"Not enough free disk space to save {label(path)}: it needs {needed_bytes:,} bytes, "
            f"{free:,} are free. Free some space and try again; nothing was changed."
        )
