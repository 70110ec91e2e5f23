"""`checkpoint_base`: which base model a full checkpoint is, from its header alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.core.weights.checkpoint_base import checkpoint_base
from lora_studio.core.weights.families import BaseModel
from lora_studio.core.weights.header import read_header
from lora_studio.core.weights.writer import TensorData, write_safetensors
from tests.fakes.tiny_checkpoint import write_checkpoint


@pytest.mark.parametrize(
    ("base", "expected", "evidence"),
    [
        ("sd1", BaseModel.SD1, "cross-attention width 768"),
        ("sd2", BaseModel.SD2, "cross-attention width 1024"),
        ("sdxl", BaseModel.SDXL, "cross-attention width 2048"),
        ("flux", BaseModel.FLUX, "Flux transformer blocks"),
    ],
)
def test_the_original_layouts(
    tmp_path: Path, base: str, expected: BaseModel, evidence: str
) -> None:
    found = checkpoint_base(read_header(write_checkpoint(tmp_path / "m.safetensors", base)))
    assert found is not None
    assert (found.base, found.evidence) == (expected, evidence)


def _tensors(names_and_shapes: dict[str, tuple[int, ...]]) -> dict[str, TensorData]:
    return {
        name: TensorData("F16", shape, bytes(2 * shape[0] * (shape[1] if len(shape) > 1 else 1)))
        for name, shape in names_and_shapes.items()
    }


def test_a_diffusers_single_file_unet_is_read_by_its_widths_too(tmp_path: Path) -> None:
    path = tmp_path / "unet.safetensors"
    write_safetensors(
        path,
        _tensors(
            {
                "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight": (2, 2048),
                "down_blocks.2.attentions.0.transformer_blocks.0.attn2.to_k.weight": (2, 2048),
                "mid_block.attentions.0.transformer_blocks.0.attn1.to_k.weight": (2, 1280),
            }
        ),
    )
    found = checkpoint_base(read_header(path))
    assert found is not None and found.base is BaseModel.SDXL


def test_sd3_and_a_file_that_shows_no_known_model(tmp_path: Path) -> None:
    sd3 = tmp_path / "sd3.safetensors"
    write_safetensors(
        sd3, _tensors({"model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight": (2, 4)})
    )
    found = checkpoint_base(read_header(sd3))
    assert found is not None and found.base is BaseModel.SD3
    # A VAE, or a width no model uses: not known — never a guess.
    other = tmp_path / "vae.safetensors"
    write_safetensors(
        other,
        _tensors({"decoder.conv_in.weight": (2, 4), "x.attn2.to_k.weight": (2, 640)}),
    )
    assert checkpoint_base(read_header(other)) is None
