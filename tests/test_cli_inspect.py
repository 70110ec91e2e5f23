"""`lora-studio inspect`: human and JSON output, exit codes 0 / 1 (bad file) / 2 (bad path)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lora_studio.cli import main
from lora_studio.core.weights import TensorData, write_safetensors

TAGS = {"10_lstok": {f"tag{i}": 100 - i for i in range(40)}}


def make_lora(path: Path, metadata: dict[str, str] | None = None) -> Path:
    module = "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k"
    write_safetensors(
        path,
        {
            f"{module}.lora_down.weight": TensorData("F16", (16, 2048), bytes(2 * 16 * 2048)),
            f"{module}.lora_up.weight": TensorData("F16", (640, 16), bytes(2 * 640 * 16)),
            f"{module}.alpha": TensorData("F32", (), np.array(8.0, "<f4").tobytes()),
        },
        metadata,
    )
    return path


@pytest.fixture
def lora(tmp_path: Path) -> Path:
    return make_lora(
        tmp_path / "my_style.safetensors",
        {
            "ss_network_module": "networks.lora",
            "ss_tag_frequency": json.dumps(TAGS),
            "modelspec.trigger_phrase": "lstok",
        },
    )


def test_human_output(lora: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(lora)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = {line.split(None, 1)[0]: line for line in out.splitlines() if line.strip()}
    assert "my_style.safetensors" in lines["File"]
    assert "LoRA — kohya (SDXL)" in lines["Kind"]
    assert "SDXL" in lines["Base"] and "cross-attention width 2048" in lines["Base"]
    assert lines["Rank"].split()[1] == "16"
    assert lines["Alpha"].split()[1] == "8.0"
    assert lines["Scale"].split()[1] == "0.5"
    assert lines["Tensors"].split()[1] == "3"
    assert lines["Parameters"].split()[1] == f"{16 * 2048 + 640 * 16:,}"
    assert "F16 (2), F32 (1)" in lines["Dtypes"]
    assert "Metadata (3 keys)" in out
    # The JSON-in-string tag table is summarised, not dumped.
    assert "1 folder, 40 tags: tag0 (100), tag1 (99)" in lines["ss_tag_frequency"]
    assert "tag39" not in out
    assert "lstok" in lines["modelspec.trigger_phrase"]


def test_json_output_is_complete(lora: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(lora), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["family"] == "kohya_sdxl"
    assert document["algorithm"] == "LoRA"
    assert document["base_model"] == "sdxl"
    assert document["rank"] == {"value": 16, "min": 16, "max": 16, "varies": False}
    assert document["alpha"]["value"] == 8.0 and document["alpha_source"] == "tensors"
    assert document["scale"]["value"] == 0.5
    assert document["tensor_count"] == 3
    assert document["dtypes"] == {"F16": 2, "F32": 1}
    assert json.loads(document["metadata"]["ss_tag_frequency"]) == TAGS  # raw, not summarised


def test_file_without_metadata(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_lora(tmp_path / "bare.safetensors")
    assert main(["inspect", str(path)]) == 0
    assert "Metadata     none" in capsys.readouterr().out


def test_truncated_file_exits_1_with_the_message(
    lora: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lora.write_bytes(lora.read_bytes()[:-1000])
    assert main(["inspect", str(lora)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "my_style.safetensors" in err and "is truncated" in err and "download it again" in err


def test_not_a_safetensors_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "download.safetensors"
    page.write_text("<html><body>Rate limit exceeded</body></html>", encoding="utf-8")
    assert main(["inspect", str(page), "--json"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "is not a safetensors file (it looks like a web page)" in err


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path / "nope.safetensors")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_no_file_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["inspect"])
    assert info.value.code == 2


def test_real_entry_point(lora: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lora_studio", "inspect", str(lora), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["family"] == "kohya_sdxl"
