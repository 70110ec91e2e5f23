"""Core/weights: safetensors dtypes — their sizes and decoding of single scalar values.

Sizes are kept in *bits* because newer safetensors versions added sub-byte types (F4, F6_*) whose
tensors only make sense when `numel × bits` is a whole number of bytes. A dtype missing from the
table is "unknown size": the header validator then skips the size check for that tensor instead of
calling the file corrupt (docs/protocols.md §6.1), because a newer writer may know types we don't.

Scalar decoding exists for LoRA `.alpha` tensors (docs/protocols.md §6.2) and works without numpy/torch.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E4M3": 8,
    "F8_E5M2": 8,
    "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "I64": 64,
    "U64": 64,
    "F64": 64,
    "C64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}

_INT_FORMATS = {
    "BOOL": "<?",
    "U8": "<B",
    "I8": "<b",
    "I16": "<h",
    "U16": "<H",
    "I32": "<i",
    "U32": "<I",
    "I64": "<q",
    "U64": "<Q",
}


def expected_nbytes(dtype: str, numel: int) -> int | None:
    """Bytes a tensor of `numel` elements must occupy, or None for an unknown dtype.

    Returns -1 when the element count does not fill whole bytes (a sub-byte dtype with an odd
    count), which no valid file can contain.
    """
    bits = DTYPE_BITS.get(dtype)
    if bits is None:
        return None
    total_bits = numel * bits
    if total_bits % 8:
        return -1
    return total_bits // 8


def decode_scalar(dtype: str, raw: bytes) -> float | None:
    """Decode one little-endian scalar; None when the dtype cannot be read without torch.

    Floats come back as the shortest decimal that encodes to the same stored bits, so an alpha
    of 0.1 saved as BF16 reads as 0.1 rather than 0.10009765625 — the value the artist chose.
    """
    try:
        if dtype == "F32" and len(raw) == 4:
            return _shortest(struct.unpack("<f", raw)[0], raw, _encode_f32)
        if dtype == "F16" and len(raw) == 2:
            return _shortest(struct.unpack("<e", raw)[0], raw, _encode_f16)
        if dtype == "BF16" and len(raw) == 2:
            # BF16 is the upper half of an F32: pad the low mantissa bytes with zeros.
            return _shortest(struct.unpack("<f", b"\x00\x00" + raw)[0], raw, _encode_bf16)
        if dtype == "F64" and len(raw) == 8:
            return float(struct.unpack("<d", raw)[0])
        int_format = _INT_FORMATS.get(dtype)
        if int_format is not None and len(raw) == struct.calcsize(int_format):
            return float(struct.unpack(int_format, raw)[0])
    except (struct.error, OverflowError):
        return None
    return None


def _shortest(value: float, raw: bytes, encode: Callable[[float], bytes]) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        return value
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        try:
            if encode(candidate) == raw:
                return candidate
        except (OverflowError, struct.error):
            break
    return value


def _encode_f32(value: float) -> bytes:
    return struct.pack("<f", value)


def _encode_f16(value: float) -> bytes:
    return struct.pack("<e", value)


def _encode_bf16(value: float) -> bytes:
    # Round-to-nearest-even from F32 to BF16, as torch does when it casts.
    bits: int = struct.unpack("<I", struct.pack("<f", value))[0]
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return struct.pack("<H", rounded & 0xFFFF)
