"""Header reader/validator: the docs/protocols.md §6.1 checklist, one failure mode per test.

Files are built byte by byte here (struct + json), independently of the code under test, so a
bug in our writer cannot hide a bug in the reader.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from lora_studio.core.errors import StorageError, WeightsError
from lora_studio.core.weights import read_header, read_tensor_bytes
from lora_studio.core.weights.header import MAX_HEADER_BYTES
from tests.fakes.lora_from_header_dump import build_from_header_dump, load_header_dump
from tests.fakes.recordings import KOHYA_FIXTURES

REAL_DUMP = KOHYA_FIXTURES / "lora" / "lstok_test.safetensors.header.json"


def write_raw(
    path: Path, header: dict | bytes, data: bytes = b"", *, length: int | None = None
) -> Path:
    body = header if isinstance(header, bytes) else json.dumps(header).encode()
    prefix = struct.pack("<Q", len(body) if length is None else length)
    path.write_bytes(prefix + body + data)
    return path


def entry(dtype: str, shape: list[int], begin: int, end: int) -> dict:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def two_tensor_header() -> dict:
    return {
        "__metadata__": {"ss_network_dim": "4"},
        "a.lora_down.weight": entry("F32", [4, 8], 0, 128),
        "a.lora_up.weight": entry("F16", [8, 4], 128, 192),
        "a.alpha": entry("F32", [], 192, 196),
    }


def error_for(path: Path) -> str:
    with pytest.raises(WeightsError) as info:
        read_header(path)
    message = info.value.user_message
    assert path.name in message, message
    return message


def test_valid_file_parses_metadata_tensors_and_sizes(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "ok.safetensors", two_tensor_header(), bytes(196))
    header = read_header(path)
    assert header.metadata == {"ss_network_dim": "4"}
    assert list(header.tensors) == ["a.lora_down.weight", "a.lora_up.weight", "a.alpha"]
    down = header.tensors["a.lora_down.weight"]
    assert (down.dtype, down.shape, down.numel, down.nbytes) == ("F32", (4, 8), 32, 128)
    assert header.tensors["a.alpha"].shape == ()
    assert header.data_size == 196
    assert header.data_start == 8 + header.header_size


def test_space_padding_after_the_json_is_allowed(tmp_path: Path) -> None:
    body = json.dumps(two_tensor_header()).encode() + b"      "
    header = read_header(write_raw(tmp_path / "pad.safetensors", body, bytes(196)))
    assert len(header.tensors) == 3


def test_offsets_may_be_listed_in_any_order(tmp_path: Path) -> None:
    header = {
        "b": entry("U8", [2], 2, 4),
        "a": entry("U8", [2], 0, 2),
    }
    assert set(read_header(write_raw(tmp_path / "x.safetensors", header, bytes(4))).tensors) == {
        "a",
        "b",
    }


def test_zero_tensor_file_is_valid(tmp_path: Path) -> None:
    header = read_header(write_raw(tmp_path / "empty.safetensors", {"__metadata__": {}}))
    assert header.tensors == {} and header.metadata == {}


def test_truncated_data_says_interrupted_download_with_byte_counts(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "cut.safetensors", two_tensor_header(), bytes(100))
    message = error_for(path)
    assert "is truncated: expected 196 bytes of tensor data, found 100" in message
    assert "download it again" in message


def test_truncated_large_file_formats_thousands(tmp_path: Path) -> None:
    header = {"w": entry("F32", [2304, 1024], 0, 9_437_184)}
    message = error_for(write_raw(tmp_path / "big.safetensors", header, bytes(1_048_576)))
    assert "expected 9,437,184 bytes of tensor data, found 1,048,576" in message


def test_file_cut_inside_the_header(tmp_path: Path) -> None:
    body = json.dumps(two_tensor_header()).encode()
    path = tmp_path / "head.safetensors"
    path.write_bytes(struct.pack("<Q", len(body)) + body[:20])
    assert "is truncated" in error_for(path)


def test_file_shorter_than_the_length_prefix(tmp_path: Path) -> None:
    path = tmp_path / "tiny.safetensors"
    path.write_bytes(b"\x01\x02\x03")
    assert "only 3 bytes long" in error_for(path)
    path.write_bytes(b"")
    assert "only 0 bytes long" in error_for(path)


def test_header_length_too_big_is_not_safetensors(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "huge.safetensors", b"{}", length=MAX_HEADER_BYTES + 1)
    assert "is not a safetensors file" in error_for(path)


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "web page"),
        (b"PK\x03\x04" + bytes(60), "zip archive"),
        (b"\x80\x02}q\x00(X\x04\x00\x00\x00" + bytes(40), "PyTorch pickle"),
        (b"[build-system]\nrequires = []\n", "text file"),
    ],
)
def test_garbage_files_are_named_for_what_they_look_like(
    tmp_path: Path, content: bytes, hint: str
) -> None:
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(content)
    message = error_for(path)
    assert "is not a safetensors file" in message and hint in message


def test_bad_json(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "json.safetensors", b'{"a": {"dtype": "F32",', bytes(8))
    assert "not valid JSON" in error_for(path)


def test_non_object_json(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "list.safetensors", b'[{"dtype": "F32"}]')
    assert "not a JSON object" in error_for(path)


def test_header_that_is_not_utf8(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "latin.safetensors", b'{"\xff": 1}')
    assert "not valid UTF-8" in error_for(path)


def test_overlapping_offsets(tmp_path: Path) -> None:
    header = {"a": entry("F32", [4], 0, 16), "b": entry("F32", [4], 8, 24)}
    message = error_for(write_raw(tmp_path / "overlap.safetensors", header, bytes(24)))
    assert 'tensor "b" overlaps tensor "a"' in message


def test_gap_between_tensors(tmp_path: Path) -> None:
    header = {"a": entry("F32", [4], 0, 16), "b": entry("F32", [4], 20, 36)}
    message = error_for(write_raw(tmp_path / "gap.safetensors", header, bytes(36)))
    assert '4 bytes of the data section before tensor "b" belong to no tensor' in message


def test_data_not_starting_at_zero_is_a_gap(tmp_path: Path) -> None:
    header = {"a": entry("F32", [4], 8, 24)}
    assert "belong to no tensor" in error_for(
        write_raw(tmp_path / "start.safetensors", header, bytes(24))
    )


def test_size_must_match_shape_times_itemsize(tmp_path: Path) -> None:
    header = {"a": entry("F16", [4, 320], 0, 2000)}
    message = error_for(write_raw(tmp_path / "size.safetensors", header, bytes(2000)))
    assert 'tensor "a" (F16, shape [4, 320]) should take 2,560 bytes' in message


def test_unknown_dtype_is_tolerated_and_still_laid_out(tmp_path: Path) -> None:
    header = {"a": entry("F3_NEW", [7], 0, 5), "b": entry("F32", [1], 5, 9)}
    parsed = read_header(write_raw(tmp_path / "future.safetensors", header, bytes(9)))
    assert parsed.tensors["a"].dtype == "F3_NEW"


def test_sub_byte_dtype_sizes(tmp_path: Path) -> None:
    ok = {"a": entry("F4", [4, 2], 0, 4)}
    assert (
        read_header(write_raw(tmp_path / "f4.safetensors", ok, bytes(4))).tensors["a"].nbytes == 4
    )
    odd = {"a": entry("F4", [3], 0, 2)}
    assert "do not fill whole bytes" in error_for(
        write_raw(tmp_path / "f4odd.safetensors", odd, bytes(2))
    )


def test_trailing_bytes_after_last_tensor(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "tail.safetensors", two_tensor_header(), bytes(200))
    assert "4 unexpected bytes after its last tensor" in error_for(path)


@pytest.mark.parametrize(
    "bad_entry",
    [
        "not an object",
        {"shape": [1], "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]},
        {"dtype": "F32", "shape": [1], "data_offsets": [0]},
    ],
)
def test_malformed_entries(tmp_path: Path, bad_entry: object) -> None:
    path = write_raw(tmp_path / "entry.safetensors", {"t": bad_entry}, bytes(4))
    assert 'header entry for tensor "t" is malformed' in error_for(path)


def test_metadata_values_must_be_strings(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "meta.safetensors", {"__metadata__": {"ss_network_dim": 4}})
    assert 'the value of "ss_network_dim" is not text' in error_for(path)
    path = write_raw(tmp_path / "meta2.safetensors", {"__metadata__": ["x"]})
    assert "__metadata__ is not a JSON object" in error_for(path)


def test_missing_file_and_folder_are_storage_errors(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        read_header(tmp_path / "nope.safetensors")
    with pytest.raises(StorageError, match="is a folder"):
        read_header(tmp_path)


def test_read_tensor_bytes_reads_only_the_named_tensors(tmp_path: Path) -> None:
    data = bytes(192) + struct.pack("<f", 2.5)
    header = read_header(write_raw(tmp_path / "a.safetensors", two_tensor_header(), data))
    assert read_tensor_bytes(header, ["a.alpha"]) == {"a.alpha": struct.pack("<f", 2.5)}
    with pytest.raises(ValueError):
        read_tensor_bytes(header, ["a.lora_down.weight"], max_bytes=16)


def test_real_kohya_file_validates(tmp_path: Path) -> None:
    # The real file's exact header, rebuilt from its dump (the 9.5 MB file is not in the repo).
    dump = load_header_dump(REAL_DUMP)
    header = read_header(build_from_header_dump(dump, tmp_path / dump["file"]))
    assert header.header_size == 113_152 and header.header_size % 8 == 0
    assert len(header.tensors) == 792
    assert len(header.metadata) == 93
    assert header.data_size == 9_438_240
