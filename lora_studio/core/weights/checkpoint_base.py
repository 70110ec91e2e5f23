"""Core/weights: which base model a full checkpoint file is (SD 1.x, SD 2.x, SDXL, Flux, SD3).

Read from the header alone (no tensor is loaded), so a 7 GB checkpoint costs a few milliseconds.
The U-Net's cross-attention `to_k` takes the text encoder's width as its input — 768 for SD 1.x,
1024 for SD 2.x, 2048 for SDXL — in the original (`model.diffusion_model.…attn2.to_k.weight`) and
the diffusers single-file layouts alike; Flux and SD3 have their own block names. A file that
shows none of these is "not known", never a guess.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from lora_studio.core.weights.families import CONTEXT_WIDTHS, FLUX_MARKERS, SD3_MARKERS, BaseModel
from lora_studio.core.weights.header import SafetensorsHeader


@dataclass(frozen=True)
class CheckpointBase:
    base: BaseModel
    evidence: str  # what in the file says so, for the artist's message


def checkpoint_base(header: SafetensorsHeader) -> CheckpointBase | None:
    """The base model the checkpoint's tensors show, or None when they show none we know."""
    names = list(header.tensors)
    if any(marker in name for name in names for marker in FLUX_MARKERS):
        return CheckpointBase(BaseModel.FLUX, "Flux transformer blocks")
    if any(marker in name for name in names for marker in SD3_MARKERS):
        return CheckpointBase(BaseModel.SD3, "SD3 joint blocks")
    widths = Counter(
        info.shape[1]
        for name, info in header.tensors.items()
        if name.endswith("attn2.to_k.weight") and len(info.shape) == 2
    )
    known = [(count, width) for width, count in widths.items() if width in CONTEXT_WIDTHS]
    if not known:
        return None
    width = max(known)[1]
    return CheckpointBase(CONTEXT_WIDTHS[width], f"cross-attention width {width}")
