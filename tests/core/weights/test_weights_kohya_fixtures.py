"""LoRA inspection against the real kohya sd-scripts recordings (tests/fixtures/kohya-sd-scripts).

Each `*.safetensors.header.json` dump lists a real file's metadata and tensor names/shapes; the file
is rebuilt with zero data and its real alpha, which is enough for everything inspection reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lora_studio.core.weights import BaseModel, KeyFamily, LoraInfo, inspect_lora
from tests.fakes.lora_from_header_dump import build_from_header_dump, load_header_dump
from tests.fakes.recordings import KOHYA_FIXTURES

TESTS = Path(__file__).resolve().parents[2]
DATA = TESTS / "data" / "weights"


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


KOHYA_DUMPS = sorted(KOHYA_FIXTURES.glob("*/*.safetensors.header.json"))


def test_the_recorded_kohya_headers_are_in_the_repository() -> None:
    # A glob that finds nothing would parametrize the test below away: fail loudly instead.
    assert len(KOHYA_DUMPS) >= 13


@pytest.mark.parametrize(
    "dump_path",
    KOHYA_DUMPS,
    ids=lambda p: f"{p.parent.name}/{p.name.split('.')[0]}",
)
def test_every_recorded_kohya_header(tmp_path: Path, dump_path: Path) -> None:
    dump = json.loads(dump_path.read_text(encoding="utf-8"))
    info = inspect_lora(build_from_header_dump(dump, tmp_path / dump["file"]))
    check_kohya_lstok(info)
    assert info.metadata == dict(sorted(dump["__metadata__"].items()))


def test_real_kohya_lora_file_layout(tmp_path: Path) -> None:
    dump = load_header_dump(KOHYA_FIXTURES / "lora" / "lstok_test.safetensors.header.json")
    check_kohya_lstok(inspect_lora(build_from_header_dump(dump, tmp_path / dump["file"])))
