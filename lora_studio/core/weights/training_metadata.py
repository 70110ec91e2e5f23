"""Core/weights: the metadata LoRA Studio writes into a finished LoRA (kohya ss_* + modelspec).

Forge/A1111, ComfyUI-Manager, civitai and kohya's own tools read kohya's `ss_*` keys and the SAI
`modelspec.*` keys, so a LoRA trained on ComfyUI or Replicate gets the same keys a kohya run would
write (docs/protocols.md §4.7), with kohya's value formats as seen in the recorded runs: every value a
string, booleans "True"/"False", unset values "None", the resolution as a Python tuple
"(1024, 1024)", JSON blobs with Python's default separators. Our own `lorastudio.*` block ties the file to the job
and the exact dataset it was trained on.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from lora_studio import __version__

Family = Literal["sd15", "sdxl", "flux_dev"]

SAI_MODEL_SPEC_VERSION = "1.0.0"

_BASE_MODEL_VERSION: dict[str, str] = {
    "sd15": "sd_v1",
    "sdxl": "sdxl_base_v1-0",
    "flux_dev": "flux1",
}
_ARCHITECTURE: dict[str, str] = {
    "sd15": "stable-diffusion-v1/lora",
    "sdxl": "stable-diffusion-xl-v1-base/lora",
    "flux_dev": "flux-1-dev/lora",
}
# sd-scripts' sai_model_spec: SD1/2 LoRAs say "diffusers", SDXL LoRAs the SGM repo, Flux BFL's.
_IMPLEMENTATION: dict[str, str] = {
    "sd15": "diffusers",
    "sdxl": "https://github.com/Stability-AI/generative-models",
    "flux_dev": "https://github.com/black-forest-labs/flux",
}
_NETWORK_MODULE: dict[str, str] = {
    "sd15": "networks.lora",
    "sdxl": "networks.lora",
    "flux_dev": "networks.lora_flux",
}
# kohya records the optimizer's class path; map the names our configs use to the same spelling.
_OPTIMIZER_CLASS: dict[str, str] = {
    "adamw": "torch.optim.adamw.AdamW",
    "adam": "torch.optim.adam.Adam",
    "sgd": "torch.optim.sgd.SGD",
    "rmsprop": "torch.optim.rmsprop.RMSprop",
    "adamw8bit": "bitsandbytes.optim.adamw.AdamW8bit",
    "pagedadamw8bit": "bitsandbytes.optim.adamw.PagedAdamW8bit",
    "lion": "lion_pytorch.lion_pytorch.Lion",
    "lion8bit": "bitsandbytes.optim.lion.Lion8bit",
    "prodigy": "prodigyopt.prodigy.Prodigy",
    "adafactor": "transformers.optimization.Adafactor",
}

Timestamp = float | dt.datetime | None


@dataclass(frozen=True)
class TrainingMetadataInput:
    """Everything the metadata needs, as plain values (the lead maps TrainingConfig onto it).

    `dataset_dirs` maps a dataset folder name to (repeats, image count); `tag_frequency` maps the
    same names to {tag: count}. Timestamps are unix seconds or datetimes.
    """

    output_name: str
    family: Family
    base_model: str
    rank: int
    alpha: float
    learning_rate: float
    job_id: str
    dataset_fingerprint: str
    backend: str
    unet_lr: float | None = None
    text_encoder_lr: float | None = None
    epochs: int = 1
    max_steps: int = 0
    steps_done: int | None = None
    batch_size: int = 1
    grad_accumulation: int = 1
    scheduler: str = "constant"
    warmup_steps: int = 0
    optimizer: str = "AdamW"
    mixed_precision: str = "bf16"
    seed: int | None = None
    resolution: int | tuple[int, int] = 1024
    enable_bucket: bool = False
    min_bucket_reso: int | None = None
    max_bucket_reso: int | None = None
    shuffle_caption: bool = False
    keep_tokens: int = 0
    caption_dropout_rate: float = 0.0
    trigger_word: str | None = None
    dataset_dirs: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    tag_frequency: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    num_train_images: int | None = None
    started_at: Timestamp = None
    finished_at: Timestamp = None
    title: str | None = None
    base_model_sha256: str | None = None
    comment: str | None = None


def build_training_metadata(inputs: TrainingMetadataInput) -> dict[str, str]:
    """The full `__metadata__` for a LoRA trained by LoRA Studio (all values strings)."""
    width, height = _resolution(inputs.resolution)
    finished = _unix(inputs.finished_at)
    started = _unix(inputs.started_at)
    images = inputs.num_train_images
    if images is None:
        # kohya counts images × repeats ("num train images * repeats" in its banner).
        images = sum(repeats * count for repeats, count in inputs.dataset_dirs.values())
    bucket = inputs.enable_bucket

    metadata: dict[str, str] = {
        "ss_output_name": inputs.output_name,
        "ss_network_module": _NETWORK_MODULE[inputs.family],
        "ss_network_dim": str(int(inputs.rank)),
        "ss_network_alpha": str(float(inputs.alpha)),
        "ss_learning_rate": str(float(inputs.learning_rate)),
        "ss_unet_lr": _opt_float(inputs.unet_lr),
        "ss_text_encoder_lr": _opt_float(inputs.text_encoder_lr),
        "ss_max_train_steps": str(inputs.max_steps),
        "ss_num_epochs": str(inputs.epochs),
        "ss_batch_size_per_device": str(inputs.batch_size),
        "ss_total_batch_size": str(inputs.batch_size * inputs.grad_accumulation),
        "ss_gradient_accumulation_steps": str(inputs.grad_accumulation),
        "ss_lr_scheduler": inputs.scheduler,
        "ss_lr_warmup_steps": str(inputs.warmup_steps),
        "ss_optimizer": _OPTIMIZER_CLASS.get(inputs.optimizer.lower(), inputs.optimizer),
        "ss_mixed_precision": _mixed_precision(inputs.mixed_precision),
        "ss_seed": str(inputs.seed),
        "ss_resolution": str((width, height)),
        "ss_enable_bucket": str(bool(bucket)),
        "ss_min_bucket_reso": str(inputs.min_bucket_reso if bucket else None),
        "ss_max_bucket_reso": str(inputs.max_bucket_reso if bucket else None),
        "ss_num_train_images": str(images),
        "ss_dataset_dirs": json.dumps(
            {
                name: {"n_repeats": repeats, "img_count": count}
                for name, (repeats, count) in inputs.dataset_dirs.items()
            }
        ),
        "ss_tag_frequency": json.dumps(
            {name: dict(tags) for name, tags in inputs.tag_frequency.items()}
        ),
        "ss_shuffle_caption": str(bool(inputs.shuffle_caption)),
        "ss_keep_tokens": str(inputs.keep_tokens),
        "ss_caption_dropout_rate": str(float(inputs.caption_dropout_rate)),
        "ss_sd_model_name": inputs.base_model.replace("\\", "/").rsplit("/", 1)[-1],
        "ss_base_model_version": _BASE_MODEL_VERSION[inputs.family],
        "ss_v2": "False",
        "ss_training_started_at": str(started),
        "ss_training_finished_at": str(finished),
        "ss_training_comment": str(inputs.comment),
    }
    if inputs.base_model_sha256:
        metadata["ss_new_sd_model_hash"] = inputs.base_model_sha256.lower()
    if inputs.steps_done is not None:
        metadata["ss_steps"] = str(inputs.steps_done)
    metadata.update(_modelspec(inputs, width, height, finished if finished else started))
    metadata.update(
        {
            "lorastudio.version": __version__,
            "lorastudio.job_id": inputs.job_id,
            "lorastudio.dataset_fingerprint": inputs.dataset_fingerprint,
            "lorastudio.backend": inputs.backend,
        }
    )
    return metadata


def _modelspec(
    inputs: TrainingMetadataInput, width: int, height: int, timestamp: float | None
) -> dict[str, str]:
    spec = {
        "modelspec.sai_model_spec": SAI_MODEL_SPEC_VERSION,
        "modelspec.architecture": _ARCHITECTURE[inputs.family],
        "modelspec.implementation": _IMPLEMENTATION[inputs.family],
        "modelspec.title": inputs.title or inputs.output_name,
        "modelspec.resolution": f"{width}x{height}",
    }
    if timestamp is not None:
        # Like sd-scripts: local time, whole seconds, ISO 8601 without zone.
        spec["modelspec.date"] = dt.datetime.fromtimestamp(int(timestamp)).isoformat()
    if inputs.family != "flux_dev":
        # Flux is flow matching; sd-scripts writes no prediction type for it.
        spec["modelspec.prediction_type"] = "epsilon"
    if inputs.trigger_word:
        spec["modelspec.trigger_phrase"] = inputs.trigger_word
    return spec


def _resolution(value: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    width, height = value
    return int(width), int(height)


def _unix(value: Timestamp) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return float(value)


def _opt_float(value: float | None) -> str:
    return "None" if value is None else str(float(value))


def _mixed_precision(value: str) -> str:
    value = value.lower()
    return value if value in ("fp16", "bf16") else "no"
