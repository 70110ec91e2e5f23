"""LoRA inspection against the real kohya sd-scripts recordings (shared/fixtures/kohya-sd-scripts).

Each `*.safetensors.header.json` dump lists a real file's metadata and tensor names/shapes; the file
is rebuilt with zero data and its real alpha, which is enough for everything inspection reads.
One dump is copied into tests/data/weights so these checks never skip entirely.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lora_studio.core.weights import BaseModel, KeyFamily, LoraInfo, inspect_lora
from lora_studio.core.weights.header import TensorInfo
from lora_studio.core.weights.writer import encode_header

TESTS = Path(__file__).resolve().parents[2]
DATA = TESTS / "data" / "weights"
SHARED_KOHYA = TESTS.parent.parent / "shared" / "fixtures" / "kohya-sd-scripts"


def build_from_header_dump(dump: dict, path: Path) -> Path:
    """A real file's layout (names/shapes + metadata) with zero data and its real alpha values.

    The data section is a sparse hole (truncate), so 40 rebuilt 9 MB files cost almost nothing.
    """
    metadata = dump["__metadata__"]
    alpha = np.array(float(metadata["ss_network_alpha"]), dtype="<f4").tobytes()
    infos, position = [], 0
    for name in sorted(dump["tensors"]):  # one dtype: the reference library orders by name
        spec = dump["tensors"][name]
        assert spec["dtype"] == "F32"
        size = 4 * int(np.prod(spec["shape"]))
        infos.append(TensorInfo(name, "F32", tuple(spec["shape"]), position, position + size))
        position += size
    head = encode_header(infos, metadata)
    with open(path, "wb") as handle:
        handle.write(head)
        handle.truncate(len(head) + position)
        for info in infos:
            if info.name.endswith(".alpha"):
                handle.seek(len(head) + info.begin)
                handle.write(alpha)
    return path


def check_kohya_lstok(info: LoraInfo) -> None:
    assert info.family is KeyFamily.KOHYA_SD and info.algorithm == "LoRA"
    assert info.base_model is BaseModel.SD1 and info.base_model_source == "metadata"
    assert info.rank is not None and info.alpha is not None and info.scale is not None
    assert info.rank.most_common == 4 and not info.rank.varies
    assert info.alpha.most_common == 2.0 and info.alpha_source == "tensors"
    assert info.scale.most_common == 0.5
    assert (info.tensor_count, info.module_count, info.text_encoder_module_count) == (792, 264, 72)
    assert info.parameter_count == 2_359_296
    assert info.dtypes == {"F32": 792}
    assert info.metadata["ss_network_module"] == "networks.lora"
    assert info.metadata["ss_network_dim"] == "4"
    assert json.loads(info.metadata["ss_dataset_dirs"]) == {
        "2_lstok": {"n_repeats": 2, "img_count": 4}
    }


def test_real_kohya_header_copied_into_tests(tmp_path: Path) -> None:
    dump = json.loads((DATA / "kohya_sd15_lstok.header.json").read_text(encoding="utf-8"))
    info = inspect_lora(build_from_header_dump(dump, tmp_path / "lstok_test.safetensors"))
    check_kohya_lstok(info)
    assert len(info.metadata) == 93
    # Rebuilt like the reference library: same tensor order, so the same header length.
    assert info.header_size == dump["header_len"]


@pytest.mark.skipif(not SHARED_KOHYA.exists(), reason=f"shared fixtures missing: {SHARED_KOHYA}")
@pytest.mark.parametrize(
    "dump_path",
    sorted(SHARED_KOHYA.glob("*/*.safetensors.header.json")) if SHARED_KOHYA.exists() else [],
    ids=lambda p: f"{p.parent.name}/{p.name.split('.')[0]}",
)
def test_every_recorded_kohya_header(tmp_path: Path, dump_path: Path) -> None:
    dump = json.loads(dump_path.read_text(encoding="utf-8"))
    info = inspect_lora(build_from_header_dump(dump, tmp_path / dump["file"]))
    check_kohya_lstok(info)
    assert info.metadata == dict(sorted(dump["__metadata__"].items()))


@pytest.mark.skipif(not SHARED_KOHYA.exists(), reason=f"shared fixtures missing: {SHARED_KOHYA}")
def test_real_kohya_lora_file() -> None:
    check_kohya_lstok(inspect_lora(SHARED_KOHYA / "lora" / "lstok_test.safetensors"))
