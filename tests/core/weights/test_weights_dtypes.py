"""dtype sizes and scalar decoding (LoRA alpha) without torch: F32, F16, BF16, F64 and integers."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from lora_studio.core.weights.dtypes import decode_scalar, expected_nbytes


def bf16_bytes(value: float) -> bytes:
    """BF16 = the upper 16 bits of the F32, rounded to nearest even (what torch stores)."""
    bits = int(np.array(value, dtype=np.float32).view(np.uint32))
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return struct.pack("<H", rounded)


@pytest.mark.parametrize(
    "value", [1.0, 2.0, 4.0, 8.0, 16.0, 0.5, 0.1, 0.3, 1e-3, 32.0, 128.0, 3.14159]
)
def test_f32_alpha_reads_back_as_the_chosen_value(value: float) -> None:
    raw = np.array(value, dtype="<f4").tobytes()
    assert decode_scalar("F32", raw) == value


@pytest.mark.parametrize("value", [1.0, 2.0, 8.0, 16.0, 0.5, 0.1, 0.3, 1234.0, 32.0])
def test_f16_alpha_reads_back_as_the_chosen_value(value: float) -> None:
    raw = np.array(value, dtype="<f2").tobytes()
    assert decode_scalar("F16", raw) == value


@pytest.mark.parametrize("value", [1.0, 2.0, 8.0, 16.0, 0.5, 0.1, 0.3, 128.0, 3.0])
def test_bf16_alpha_reads_back_as_the_chosen_value(value: float) -> None:
    assert decode_scalar("BF16", bf16_bytes(value)) == value


def test_bf16_is_the_high_half_of_f32() -> None:
    # 1.0 in F32 is 0x3F800000, so BF16 1.0 is 0x3F80 (little-endian bytes 80 3F).
    assert decode_scalar("BF16", b"\x80\x3f") == 1.0
    assert decode_scalar("BF16", b"\x00\x41") == 8.0


def test_odd_float_keeps_its_exact_stored_value() -> None:
    raw = np.array(0.123456789, dtype="<f4").tobytes()
    decoded = decode_scalar("F32", raw)
    assert decoded is not None
    assert np.float32(decoded) == np.frombuffer(raw, dtype="<f4")[0]


def test_other_dtypes() -> None:
    assert decode_scalar("F64", struct.pack("<d", 0.25)) == 0.25
    assert decode_scalar("I64", struct.pack("<q", 16)) == 16.0
    assert decode_scalar("I32", struct.pack("<i", -3)) == -3.0
    assert decode_scalar("U8", b"\x07") == 7.0
    assert decode_scalar("F8_E4M3", b"\x38") is None  # unreadable without torch: no guess
    assert decode_scalar("F32", b"\x00\x00") is None  # wrong length


def test_nan_and_infinity_pass_through() -> None:
    nan = decode_scalar("F32", np.array(np.nan, dtype="<f4").tobytes())
    assert nan is not None and nan != nan
    assert decode_scalar("F16", np.array(np.inf, dtype="<f2").tobytes()) == float("inf")


def test_expected_nbytes() -> None:
    assert expected_nbytes("F32", 12) == 48
    assert expected_nbytes("BF16", 3) == 6
    assert expected_nbytes("BOOL", 5) == 5
    assert expected_nbytes("F4", 8) == 4
    assert expected_nbytes("F6_E2M3", 4) == 3
    assert expected_nbytes("F4", 3) == -1
    assert expected_nbytes("NEW_TYPE", 3) is None
    assert expected_nbytes("F32", 0) == 0
