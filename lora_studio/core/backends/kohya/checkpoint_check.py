"""Core/backends/kohya: does the checkpoint file fit the training it is chosen for?

kohya picks its script by the preset's model family (train_network.py for SD 1.5, sdxl_… for
SDXL, flux_… for Flux) and only finds out that the checkpoint is of another kind when it loads it,
minutes into a run, with a state-dict error that does not name the cause. The checkpoint's header
says what it is (`core.weights.checkpoint_base`), so the mismatch is caught when the training is
reviewed, in words that say which file and what to choose instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lora_studio.core.config.issues import Issue
from lora_studio.core.config.training_config import ModelFamily
from lora_studio.core.errors import StorageError, WeightsError
from lora_studio.core.weights.checkpoint_base import checkpoint_base
from lora_studio.core.weights.families import BaseModel
from lora_studio.core.weights.header import read_header

_EXPECTED = {
    ModelFamily.SD15: BaseModel.SD1,
    ModelFamily.SDXL: BaseModel.SDXL,
    ModelFamily.FLUX_DEV: BaseModel.FLUX,
}
FAMILY_LABELS = {
    ModelFamily.SD15: "SD 1.5",
    ModelFamily.SDXL: "SDXL",
    ModelFamily.FLUX_DEV: "Flux dev",
}


def checkpoint_issues(
    model: Path, family: ModelFamily, trainer_args: Sequence[str] = ()
) -> list[Issue]:
    """Problems with `model` (a .safetensors file that exists) for a `family` training; reads
    the header only. A file whose tensors show no known base model gets no issue."""
    try:
        header = read_header(model)
    except (WeightsError, StorageError) as exc:
        # kohya could not load it either; the message names the file and what to do.
        return [Issue("base_model", "error", exc.user_message)]
    found = checkpoint_base(header)
    if found is None or found.base is _EXPECTED[family]:
        return []
    wanted = FAMILY_LABELS[family]
    if found.base is BaseModel.SD2 and family is ModelFamily.SD15:
        if "--v2" in " ".join(trainer_args).split():
            return []
        return [
            Issue(
                "base_model",
                "error",
                f"{model.name} is {_a(found.base.label)} checkpoint ({found.evidence}); kohya "
                "trains it only with --v2 (and --v_parameterization for 768-v models). Add them "
                "as extra trainer arguments (Settings → Backends or --trainer-arg), or choose an "
                "SD 1.5 checkpoint.",
            )
        ]
    return [
        Issue(
            "base_model",
            "error",
            f"{model.name} is {_a(found.base.label)} checkpoint ({found.evidence}), but this "
            f"training is set up for {wanted} LoRAs. Choose {_a(wanted)} checkpoint, or a preset "
            f"for {found.base.label}.",
        )
    ]


def _a(label: str) -> str:
    """ "an SDXL", "a Flux dev", "a Stable Diffusion 2.x": the article as the label is spoken."""
    return f"an {label}" if label.startswith("SD") else f"a {label}"
