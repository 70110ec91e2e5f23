"""LoRA inspection: one small synthetic file per key family (real kohya files: see
test_weights_kohya_fixtures.py).

Synthetic files use the key spellings of docs/protocols.md §6.3 with tiny shapes; only the dimensions
that matter (rank, cross-attention width) are realistic.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lora_studio.core.weights import (
    BaseModel,
    KeyFamily,
    TensorData,
    inspect_lora,
    write_safetensors,
)

_NP = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}


def tensor(shape: tuple[int, ...], dtype: str = "F32") -> TensorData:
    count = int(np.prod(shape)) if shape else 1
    if dtype == "BF16":
        return TensorData(dtype, shape, bytes(2 * count))
    data = np.random.default_rng(0).standard_normal(count).astype(_NP[dtype]).tobytes()
    return TensorData(dtype, shape, data)


def scalar(value: float, dtype: str = "F32") -> TensorData:
    if dtype == "BF16":
        bits = int(np.array(value, dtype=np.float32).view(np.uint32)) >> 16
        return TensorData(dtype, (), bits.to_bytes(2, "little"))
    return TensorData(dtype, (), np.array(value, dtype=_NP[dtype]).tobytes())


def pair(
    module: str,
    rank: int,
    in_features: int,
    out_features: int = 8,
    *,
    down: str = ".lora_down.weight",
    up: str = ".lora_up.weight",
    dtype: str = "F32",
    alpha: float | None = None,
    alpha_dtype: str = "F32",
) -> dict[str, TensorData]:
    tensors = {
        module + down: tensor((rank, in_features), dtype),
        module + up: tensor((out_features, rank), dtype),
    }
    if alpha is not None:
        tensors[module + ".alpha"] = scalar(alpha, alpha_dtype)
    return tensors


def kohya_sd1() -> dict[str, TensorData]:
    return {
        **pair(
            "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k",
            8,
            768,
            alpha=4.0,
        ),
        **pair("lora_unet_down_blocks_0_attentions_0_proj_in", 8, 320, alpha=4.0),
        **pair("lora_te_text_model_encoder_layers_0_self_attn_k_proj", 8, 768, alpha=4.0),
    }


def kohya_sd2() -> dict[str, TensorData]:
    return {
        **pair(
            "lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k", 4, 1024, alpha=1.0
        ),
        **pair("lora_te_text_model_encoder_layers_0_self_attn_k_proj", 4, 1024, alpha=1.0),
    }


def kohya_sdxl() -> dict[str, TensorData]:
    unet = "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k"
    return {
        **pair(unet, 16, 2048, dtype="BF16", alpha=8.0, alpha_dtype="BF16"),
        **pair(
            "lora_te1_text_model_encoder_layers_0_self_attn_q_proj",
            16,
            768,
            dtype="BF16",
            alpha=8.0,
            alpha_dtype="BF16",
        ),
        **pair(
            "lora_te2_text_model_encoder_layers_0_self_attn_q_proj",
            16,
            1280,
            dtype="BF16",
            alpha=8.0,
            alpha_dtype="BF16",
        ),
    }


def kohya_flux() -> dict[str, TensorData]:
    return {
        **pair("lora_unet_double_blocks_0_img_attn_qkv", 16, 3072, alpha=16.0),
        **pair("lora_unet_single_blocks_0_linear1", 16, 3072, alpha=16.0),
        **pair("lora_te1_text_model_encoder_layers_0_mlp_fc1", 16, 768, alpha=16.0),
    }


def lycoris_loha() -> dict[str, TensorData]:
    module = "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k"
    return {
        f"{module}.hada_w1_a": tensor((640, 4)),
        f"{module}.hada_w1_b": tensor((4, 2048)),
        f"{module}.hada_w2_a": tensor((640, 4)),
        f"{module}.hada_w2_b": tensor((4, 2048)),
        f"{module}.alpha": scalar(2.0),
    }


def lycoris_lokr() -> dict[str, TensorData]:
    module = "lora_unet_down_blocks_0_attentions_0_proj_in"
    return {
        f"{module}.lokr_w1": tensor((8, 8)),
        f"{module}.lokr_w2_a": tensor((40, 4)),
        f"{module}.lokr_w2_b": tensor((4, 40)),
        f"{module}.alpha": scalar(4.0),
    }


def kohya_dora() -> dict[str, TensorData]:
    module = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k"
    return {**pair(module, 8, 768, alpha=8.0), f"{module}.dora_scale": tensor((1, 768))}


def diffusers_old() -> dict[str, TensorData]:
    unet = "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k"
    te = "text_encoder.text_model.encoder.layers.0.self_attn.k_proj"
    return {
        **pair(unet, 4, 768, down=".lora.down.weight", up=".lora.up.weight"),
        **pair(
            te, 4, 768, down=".lora_linear_layer.down.weight", up=".lora_linear_layer.up.weight"
        ),
    }


def diffusers_old_sdxl() -> dict[str, TensorData]:
    te2 = "text_encoder_2.text_model.encoder.layers.0.self_attn.k_proj"
    return {
        **pair(
            te2, 8, 1280, down=".lora_linear_layer.down.weight", up=".lora_linear_layer.up.weight"
        ),
        **pair(
            "unet.up_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_q",
            8,
            1280,
            down="_lora.down.weight",
            up="_lora.up.weight",
        ),
    }


def peft_flux() -> dict[str, TensorData]:
    return {
        **pair(
            "transformer.single_transformer_blocks.0.attn.to_k",
            16,
            3072,
            down=".lora_A.weight",
            up=".lora_B.weight",
            dtype="BF16",
        ),
        **pair(
            "transformer.transformer_blocks.0.attn.to_q",
            16,
            3072,
            down=".lora_A.weight",
            up=".lora_B.weight",
            dtype="BF16",
        ),
    }


def comfyui_sd15() -> dict[str, TensorData]:
    module = "diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k"
    return {
        **pair(module, 8, 768, alpha=1.0),
        **pair("diffusion_model.input_blocks.1.1.proj_in", 8, 320, alpha=1.0),
        "diffusion_model.input_blocks.1.1.norm.diff": tensor((320,)),
        "diffusion_model.input_blocks.1.1.norm.diff_b": tensor((320,)),
    }


def comfyui_sdxl_no_cross_attention() -> dict[str, TensorData]:
    module = "diffusion_model.input_blocks.4.1.transformer_blocks.1.attn1.to_q"
    return pair(module, 8, 640, alpha=1.0, alpha_dtype="F16")


# name: (builder, family, algorithm, base, rank, alpha, scale, text-encoder modules)
CASES = {
    "kohya_sd1": (kohya_sd1, KeyFamily.KOHYA_SD, "LoRA", BaseModel.SD1, 8, 4.0, 0.5, 1),
    "kohya_sd2": (kohya_sd2, KeyFamily.KOHYA_SD, "LoRA", BaseModel.SD2, 4, 1.0, 0.25, 1),
    "kohya_sdxl": (kohya_sdxl, KeyFamily.KOHYA_SDXL, "LoRA", BaseModel.SDXL, 16, 8.0, 0.5, 2),
    "kohya_flux": (kohya_flux, KeyFamily.KOHYA_FLUX, "LoRA", BaseModel.FLUX, 16, 16.0, 1.0, 1),
    "lycoris_loha": (lycoris_loha, KeyFamily.LYCORIS, "LoHa", BaseModel.SDXL, 4, 2.0, 0.5, 0),
    "lycoris_lokr": (lycoris_lokr, KeyFamily.LYCORIS, "LoKr", BaseModel.SD1, 4, 4.0, 1.0, 0),
    "kohya_dora": (kohya_dora, KeyFamily.LYCORIS, "DoRA", BaseModel.SD1, 8, 8.0, 1.0, 0),
    "diffusers_old": (diffusers_old, KeyFamily.DIFFUSERS, "LoRA", BaseModel.SD1, 4, 4, 1.0, 1),
    "diffusers_sdxl": (
        diffusers_old_sdxl,
        KeyFamily.DIFFUSERS,
        "LoRA",
        BaseModel.SDXL,
        8,
        8,
        1.0,
        1,
    ),
    "peft_flux": (peft_flux, KeyFamily.PEFT, "LoRA", BaseModel.FLUX, 16, 16, 1.0, 0),
    "comfyui_sd15": (comfyui_sd15, KeyFamily.COMFYUI, "LoRA", BaseModel.SD1, 8, 1.0, 0.125, 0),
    "comfyui_sdxl": (
        comfyui_sdxl_no_cross_attention,
        KeyFamily.COMFYUI,
        "LoRA",
        BaseModel.SDXL,
        8,
        1.0,
        0.125,
        0,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_family_rank_alpha_scale_and_base(tmp_path: Path, case: str) -> None:
    build, family, algorithm, base, rank, alpha, scale, te_modules = CASES[case]
    tensors = build()
    path = tmp_path / f"{case}.safetensors"
    write_safetensors(path, tensors)
    info = inspect_lora(path)
    assert info.is_lora
    assert (info.family, info.algorithm, info.base_model) == (family, algorithm, base)
    assert info.base_model_source == "keys"
    assert info.rank is not None and info.rank.most_common == rank and not info.rank.varies
    assert info.alpha is not None and info.alpha.most_common == alpha
    assert info.scale is not None and info.scale.most_common == scale
    assert info.text_encoder_module_count == te_modules
    assert info.tensor_count == len(tensors)
    expected_params = sum(
        int(np.prod(t.shape)) for n, t in tensors.items() if not n.endswith(".alpha")
    )
    assert info.parameter_count == expected_params
    assert info.metadata == {}
    json.dumps(info.to_dict())  # the JSON form is serialisable as is


def test_alpha_defaults_to_rank_when_absent(tmp_path: Path) -> None:
    path = tmp_path / "peft.safetensors"
    write_safetensors(path, peft_flux())
    info = inspect_lora(path)
    assert info.alpha_source == "rank (no alpha stored)"
    assert info.dtypes == {"BF16": 4}


def test_varying_ranks_report_most_common_and_range(tmp_path: Path) -> None:
    tensors = {
        **pair("lora_unet_down_blocks_0_attentions_0_proj_in", 8, 320, alpha=8.0),
        **pair("lora_unet_down_blocks_0_attentions_0_proj_out", 8, 320, alpha=8.0),
        **pair("lora_unet_down_blocks_1_resnets_0_conv1", 4, 320, alpha=1.0),
    }
    path = tmp_path / "mixed.safetensors"
    write_safetensors(path, tensors)
    info = inspect_lora(path)
    assert info.rank is not None and info.alpha is not None and info.scale is not None
    assert (info.rank.most_common, info.rank.minimum, info.rank.maximum) == (8, 4, 8)
    assert info.rank.varies
    assert (info.alpha.most_common, info.alpha.minimum, info.alpha.maximum) == (8.0, 1.0, 8.0)
    assert (info.scale.most_common, info.scale.minimum) == (1.0, 0.25)
    assert info.to_dict()["rank"] == {"value": 8, "min": 4, "max": 8, "varies": True}


def test_conv_lora_rank_comes_from_the_first_axis(tmp_path: Path) -> None:
    module = "lora_unet_down_blocks_0_resnets_0_conv1"
    tensors = {
        f"{module}.lora_down.weight": tensor((4, 320, 3, 3)),
        f"{module}.lora_up.weight": tensor((320, 4, 1, 1)),
        f"{module}.alpha": scalar(2.0, "F16"),
    }
    path = tmp_path / "locon.safetensors"
    write_safetensors(path, tensors)
    info = inspect_lora(path)
    assert info.rank is not None and info.rank.most_common == 4
    assert info.scale is not None and info.scale.most_common == 0.5


@pytest.mark.parametrize(
    ("metadata", "base", "evidence"),
    [
        ({"ss_base_model_version": "sdxl_base_v1-0"}, BaseModel.SDXL, "ss_base_model_version"),
        ({"ss_base_model_version": "flux1"}, BaseModel.FLUX, "ss_base_model_version"),
        ({"modelspec.architecture": "flux-1-dev/lora"}, BaseModel.FLUX, "modelspec.architecture"),
        ({"modelspec.architecture": "stable-diffusion-v2-768-v/lora"}, BaseModel.SD2, "modelspec"),
        ({"ss_v2": "True"}, BaseModel.SD2, "ss_v2"),
    ],
)
def test_base_model_prefers_metadata(
    tmp_path: Path, metadata: dict[str, str], base: BaseModel, evidence: str
) -> None:
    path = tmp_path / "meta.safetensors"
    write_safetensors(path, kohya_sd1(), metadata)
    info = inspect_lora(path)
    assert info.base_model == base and info.base_model_source == "metadata"
    assert evidence in info.base_model_evidence


def test_lycoris_network_module_in_metadata_marks_lycoris(tmp_path: Path) -> None:
    path = tmp_path / "locon.safetensors"
    write_safetensors(path, kohya_sd1(), {"ss_network_module": "lycoris.kohya"})
    assert inspect_lora(path).family is KeyFamily.LYCORIS


def test_a_checkpoint_is_not_a_lora(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.safetensors"
    write_safetensors(
        path,
        {
            "model.diffusion_model.input_blocks.0.0.weight": tensor((8, 4, 3, 3), "F16"),
            "model.diffusion_model.input_blocks.0.0.bias": tensor((8,), "F16"),
        },
    )
    info = inspect_lora(path)
    assert not info.is_lora
    assert info.family is KeyFamily.UNKNOWN and info.rank is None and info.alpha is None
    assert info.base_model is BaseModel.UNKNOWN


def test_lora_parts_under_an_unknown_prefix_are_still_a_lora(tmp_path: Path) -> None:
    path = tmp_path / "odd.safetensors"
    write_safetensors(path, pair("model.blocks.0.attn.qkv", 4, 64, alpha=4.0))
    info = inspect_lora(path)
    assert info.is_lora and info.family is KeyFamily.OTHER
    assert info.rank is not None and info.rank.most_common == 4
