"""Metadata rewrite: tensor bytes stay identical, header layout matches the reference library,
failures leave the original untouched."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import struct
from pathlib import Path

import numpy as np
import pytest

from lora_studio.core.errors import StorageError, WeightsError
from lora_studio.core.weights import (
    TensorData,
    add_metadata_if_missing,
    inspect_lora,
    read_header,
    read_metadata,
    write_metadata,
    write_safetensors,
)
from lora_studio.core.weights import writer as writer_module
from tests.fakes.lora_from_header_dump import build_from_header_dump, load_header_dump
from tests.fakes.recordings import KOHYA_FIXTURES

REAL_DUMP = KOHYA_FIXTURES / "lora" / "lstok_test.safetensors.header.json"


def data_section_sha256(path: Path) -> str:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return hashlib.sha256(raw[8 + length :]).hexdigest()


def raw_header(path: Path) -> bytes:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return raw[8 : 8 + length]


@pytest.fixture
def lora_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(7)
    path = tmp_path / "lorastudio_job42_600_steps_00001_.safetensors"
    module = "diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k"
    write_safetensors(
        path,
        {
            f"{module}.lora_down.weight": TensorData(
                "F32", (8, 768), rng.standard_normal(8 * 768).astype("<f4").tobytes()
            ),
            f"{module}.lora_up.weight": TensorData(
                "F16", (320, 8), rng.standard_normal(320 * 8).astype("<f2").tobytes()
            ),
            f"{module}.alpha": TensorData("F32", (), np.array(1.0, "<f4").tobytes()),
        },
    )
    return path


def test_written_file_layout_matches_the_reference_library(lora_file: Path) -> None:
    raw = lora_file.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    assert length % 8 == 0  # data section 8-byte aligned
    text = raw[8 : 8 + length]
    assert text.rstrip(b" ").endswith(b"}") and set(text[len(text.rstrip(b" ")) :]) <= {0x20}
    assert b": " not in text and b", " not in text  # compact separators
    parsed = json.loads(text)
    # Widest dtype first, then by name; offsets contiguous from 0.
    names = list(parsed)
    assert names[-1].endswith("lora_up.weight")  # the only F16 tensor goes last
    assert parsed[names[0]]["data_offsets"][0] == 0
    down = np.frombuffer(raw[8 + length :][: 8 * 768 * 4], dtype="<f4")
    assert down.shape == (8 * 768,)


def test_rewrite_keeps_tensor_bytes_identical_and_round_trips(lora_file: Path) -> None:
    before = data_section_sha256(lora_file)
    tensors_before = read_header(lora_file).tensors
    metadata = {"ss_network_dim": "8", "lorastudio.job_id": "job42", "title": "Ünïcödé ✓"}
    assert write_metadata(lora_file, metadata) == metadata
    assert data_section_sha256(lora_file) == before
    header = read_header(lora_file)
    assert header.metadata == metadata
    assert header.tensors == tensors_before
    assert header.header_size % 8 == 0
    assert raw_header(lora_file).startswith(b'{"__metadata__":')


def test_merge_versus_replace(lora_file: Path) -> None:
    write_metadata(lora_file, {"a": "1", "b": "2"})
    assert write_metadata(lora_file, {"b": "3", "c": "4"}) == {"a": "1", "b": "3", "c": "4"}
    assert write_metadata(lora_file, {"only": "this"}, merge=False) == {"only": "this"}
    assert read_metadata(lora_file) == {"only": "this"}
    write_metadata(lora_file, {}, merge=False)
    assert b"__metadata__" not in raw_header(lora_file)
    assert read_metadata(lora_file) == {}


def test_growing_and_shrinking_metadata_many_times(lora_file: Path) -> None:
    digest = data_section_sha256(lora_file)
    for size in (0, 1, 7, 8, 9, 1000, 3, 65_537):
        write_metadata(lora_file, {"blob": "x" * size}, merge=False)
        assert read_metadata(lora_file) == {"blob": "x" * size}
        assert data_section_sha256(lora_file) == digest


def test_values_must_be_strings(lora_file: Path) -> None:
    original = lora_file.read_bytes()
    with pytest.raises(TypeError, match="ss_network_dim"):
        write_metadata(lora_file, {"ss_network_dim": 8})  # type: ignore[dict-item]
    assert lora_file.read_bytes() == original


def test_add_metadata_if_missing_never_overwrites(lora_file: Path) -> None:
    write_metadata(lora_file, {"ss_network_dim": "4", "ss_output_name": "kohya_name"})
    added = add_metadata_if_missing(
        lora_file, {"ss_network_dim": "16", "ss_output_name": "ours", "lorastudio.job_id": "j1"}
    )
    assert added == {"lorastudio.job_id": "j1"}
    assert read_metadata(lora_file) == {
        "ss_network_dim": "4",
        "ss_output_name": "kohya_name",
        "lorastudio.job_id": "j1",
    }


def test_add_metadata_if_missing_does_not_rewrite_when_nothing_is_new(lora_file: Path) -> None:
    write_metadata(lora_file, {"a": "1"})
    inode = lora_file.stat().st_ino
    assert add_metadata_if_missing(lora_file, {"a": "2"}) == {}
    assert lora_file.stat().st_ino == inode  # an os.replace would have made a new file


def test_comfyui_file_without_metadata_gets_everything(lora_file: Path) -> None:
    assert read_metadata(lora_file) == {}
    wanted = {"ss_base_model_version": "sdxl_base_v1-0", "lorastudio.backend": "comfyui"}
    assert add_metadata_if_missing(lora_file, wanted) == wanted
    info = inspect_lora(lora_file)
    assert info.base_model_source == "metadata" and info.base_model.value == "sdxl"


def test_truncated_file_is_refused_and_left_alone(lora_file: Path) -> None:
    raw = lora_file.read_bytes()
    lora_file.write_bytes(raw[:-100])
    with pytest.raises(WeightsError, match="is truncated"):
        write_metadata(lora_file, {"a": "1"})
    assert lora_file.read_bytes() == raw[:-100]


def test_failure_mid_copy_leaves_original_and_no_temp_file(
    lora_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = lora_file.read_bytes()

    def broken_copy(source: object, target: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer_module, "_copy_stream", broken_copy)
    with pytest.raises(StorageError, match="disk is full") as info:
        write_metadata(lora_file, {"a": "1"})
    assert lora_file.name in info.value.user_message
    assert lora_file.read_bytes() == original
    assert [p.name for p in lora_file.parent.iterdir()] == [lora_file.name]


def test_file_changing_during_the_copy_is_detected(
    lora_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_copy = writer_module._copy_stream

    def copy_then_append(source, target):  # type: ignore[no-untyped-def]
        copied = real_copy(source, target)
        with open(lora_file, "ab") as handle:  # another program appends meanwhile
            handle.write(b"xxxx")
        return copied

    monkeypatch.setattr(writer_module, "_copy_stream", copy_then_append)
    with pytest.raises(WeightsError, match="changed while its metadata was being written"):
        write_metadata(lora_file, {"a": "1"})


def test_not_enough_disk_space_is_reported_before_writing(
    lora_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        writer_module.shutil, "disk_usage", lambda _path: shutil._ntuple_diskusage(10, 10, 5)
    )
    with pytest.raises(StorageError, match="Not enough free disk space"):
        write_metadata(lora_file, {"a": "1"})


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_permissions_are_kept(lora_file: Path) -> None:
    os.chmod(lora_file, 0o640)
    write_metadata(lora_file, {"a": "1"})
    assert stat.S_IMODE(lora_file.stat().st_mode) == 0o640


@pytest.mark.skipif(os.name != "posix", reason="symlinks need privileges on Windows")
def test_symlink_is_kept_and_its_target_rewritten(lora_file: Path, tmp_path: Path) -> None:
    link = tmp_path / "linked" / "style.safetensors"
    link.parent.mkdir()
    link.symlink_to(lora_file)
    write_metadata(link, {"a": "1"})
    assert link.is_symlink()
    assert read_metadata(lora_file) == {"a": "1"}


def test_copy_uses_a_bounded_buffer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "COPY_CHUNK_BYTES", 1024)
    payload = np.arange(300_000, dtype="<f4")
    path = tmp_path / "big.safetensors"
    write_safetensors(
        path, {"w.lora_down.weight": TensorData("F32", (300_000,), payload.tobytes())}
    )
    digest = data_section_sha256(path)
    write_metadata(path, {"k": "v"})
    assert data_section_sha256(path) == digest


def test_write_safetensors_rejects_wrong_byte_counts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected"):
        write_safetensors(tmp_path / "x.safetensors", {"t": TensorData("F32", (4,), bytes(12))})


def test_real_kohya_layout_keeps_its_data_section(tmp_path: Path) -> None:
    # kohya's sshs_model_hash is the sha256 of the data section (docs/protocols.md): a metadata
    # rewrite must keep every data byte. The real file's layout, filled with non-zero bytes.
    dump = load_header_dump(REAL_DUMP)
    copy = build_from_header_dump(dump, tmp_path / dump["file"])
    data_size = copy.stat().st_size - 8 - dump["header_len"]
    with open(copy, "r+b") as handle:
        handle.seek(8 + dump["header_len"])
        handle.write(np.random.default_rng(7).bytes(data_size))
    expected = data_section_sha256(copy)
    added = add_metadata_if_missing(copy, {"ss_network_dim": "999", "lorastudio.job_id": "j"})
    assert added == {"lorastudio.job_id": "j"}
    assert data_section_sha256(copy) == expected
    metadata = read_metadata(copy)
    assert metadata["ss_network_dim"] == "4" and len(metadata) == 94
