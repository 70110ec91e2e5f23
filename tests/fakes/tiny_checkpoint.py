"""A header-true stand-in for a base checkpoint: the tensors that say which model it is (the U-Net
cross-attention `to_k`, whose input width is the text encoder's), a few bytes each.
The fake trainers never load it; LoRA Studio reads its header to check it fits the preset."""

from __future__ import annotations

from pathlib import Path

from lora_studio.core.weights.writer import TensorData, write_safetensors

_TO_K = "model.diffusion_model.{block}.1.transformer_blocks.0.attn2.to_k.weight"
_LAYOUTS = {
    "sd1": ("input_blocks.1", 768),
    "sd2": ("input_blocks.1", 1024),
    "sdxl": ("input_blocks.4", 2048),
}


def write_checkpoint(path: Path, base: str = "sd1") -> Path:
    """Write a tiny checkpoint of `base` ("sd1", "sd2", "sdxl" or "flux") at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if base == "flux":
        name, shape = "double_blocks.0.img_attn.qkv.weight", (2, 4)
    else:
        block, width = _LAYOUTS[base]
        name, shape = _TO_K.format(block=block), (2, width)
    count = shape[0] * shape[1]
    write_safetensors(path, {name: TensorData("F16", shape, bytes(2 * count))})
    return path
