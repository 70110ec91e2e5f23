"""Core/kohya: the dataset TOML and the argument list for one run (docs/protocols.md §4.2, §4.3, §4.4).

Pure functions of the config, the dataset and the settings, so a test can compare every flag with
the config and the metadata kohya writes. The dataset is *staged*: each folder of the artist's
dataset becomes one subset whose `image_dir` is a folder of links to the readable images plus a
caption file holding the caption LoRA Studio knows (so unreadable pictures, sidecar captions and
links that leave the dataset never reach the trainer), and `num_repeats` is that folder's repeats.

What kohya needs to accept a config is derived here, with a note for each change: with bucketing
`min_bucket_reso` must not exceed the resolution and `max_bucket_reso` must reach it, or kohya
refuses to start (Part A3).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lora_studio.core.backends.base import DatasetSummary
from lora_studio.core.config.training_config import ModelFamily, TrainingConfig

SCRIPTS = {
    ModelFamily.SD15: "train_network.py",
    ModelFamily.SDXL: "sdxl_train_network.py",
    ModelFamily.FLUX_DEV: "flux_train_network.py",
}
NETWORK_MODULES = {
    ModelFamily.SD15: "networks.lora",
    ModelFamily.SDXL: "networks.lora",
    ModelFamily.FLUX_DEV: "networks.lora_flux",
}
FLUX_FILES = ("--clip_l", "--t5xxl", "--ae")  # Flux needs these model files besides the DiT


@dataclass(frozen=True)
class BucketPlan:
    enable: bool
    min_reso: int
    max_reso: int
    step: int
    notes: tuple[str, ...]


def bucket_plan(config: TrainingConfig) -> BucketPlan:
    """Bucket settings kohya accepts for this config, and a sentence per adjustment."""
    if not config.bucketing:
        return BucketPlan(False, config.min_bucket_reso, config.max_bucket_reso, 64, ())
    notes = []
    low, high = config.min_bucket_reso, config.max_bucket_reso
    if low > config.resolution:
        notes.append(
            f"Smallest bucket lowered from {low} to {config.resolution} px: kohya refuses a "
            "smallest bucket larger than the resolution."
        )
        low = config.resolution
    if high < config.resolution:
        notes.append(
            f"Largest bucket raised from {high} to {config.resolution} px so the resolution fits."
        )
        high = config.resolution
    return BucketPlan(True, low, high, config.bucket_reso_steps, tuple(notes))


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a valid TOML basic string


def dataset_toml(
    config: TrainingConfig, subsets: Sequence[tuple[Path, int]], buckets: BucketPlan
) -> str:
    """The `--dataset_config` file: one dataset, one subset per (image folder, repeats)."""
    general = {
        "caption_extension": ".txt",
        "shuffle_caption": config.shuffle_caption,
        "keep_tokens": config.keep_tokens,
    }
    dataset: dict[str, object] = {
        "resolution": config.resolution,
        "batch_size": config.batch_size,
        "enable_bucket": buckets.enable,
    }
    if buckets.enable:
        dataset.update(
            min_bucket_reso=buckets.min_reso,
            max_bucket_reso=buckets.max_reso,
            bucket_reso_steps=buckets.step,
        )
    lines = ["# Written by LoRA Studio for one kohya run.", "[general]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in general.items()]
    lines += ["", "[[datasets]]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in dataset.items()]
    for folder, repeats in subsets:
        lines += ["", "  [[datasets.subsets]]"]
        lines.append(f"  image_dir = {_toml_value(str(folder))}")
        lines.append(f"  num_repeats = {repeats}")
        if config.trigger_word:
            # Only used for an image without a caption; every staged image has one.
            lines.append(f"  class_tokens = {_toml_value(config.trigger_word)}")
    return "\n".join(lines) + "\n"


def stage_dataset(
    dataset: DatasetSummary, config: TrainingConfig, root: Path
) -> list[tuple[Path, int]]:
    """Folders of links + captions under `root`, one per dataset folder: (folder, repeats)."""
    subsets = []
    for index, folder in enumerate(dataset.folders, start=1):
        if not folder.items:
            continue
        target = root / f"{index:02d}"
        target.mkdir(parents=True, exist_ok=True)
        for number, item in enumerate(folder.items, start=1):
            # Numbered names: two folders may hold "a.png"; the stem keeps logs readable.
            stem = f"{number:05d}_{item.image.stem}"[:120]
            link = target / f"{stem}{item.image.suffix.lower()}"
            if not link.exists():
                try:
                    os.symlink(item.image.resolve(), link)
                except OSError:  # no symlinks (Windows without developer mode): hard link
                    os.link(item.image.resolve(), link)
            (target / f"{stem}.txt").write_text(item.caption, encoding="utf-8")
        subsets.append((target, folder.repeats_for(config.repeats)))
    return subsets


CHECKPOINT_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".bin")


def looks_like_checkpoint_file(model: str) -> bool:
    """A path to a checkpoint file (else a Hugging Face id or a diffusers folder)."""
    return model.strip().endswith(CHECKPOINT_SUFFIXES)


def model_argument(model: str) -> str:
    """The checkpoint as kohya must get it: the trainer runs in the sd-scripts folder, so a path
    typed relative to where LoRA Studio runs, or with ~, is made absolute (as it was checked)."""
    model = model.strip()
    if looks_like_checkpoint_file(model):
        return os.path.abspath(os.path.expanduser(model))
    return model


def trainer_args(
    config: TrainingConfig,
    *,
    dataset_config: Path,
    output_dir: Path,
    output_name: str,
    comment: str,
    extra: Sequence[str] = (),
    sample_prompts: Path | None = None,
) -> list[str]:
    """kohya flags for `config` (the script is `SCRIPTS[family]`); `extra` go last and win."""
    family = config.base_model_family
    args = [
        "--pretrained_model_name_or_path", model_argument(config.base_model),
        "--dataset_config", str(dataset_config),
        "--output_dir", str(output_dir),
        "--output_name", output_name,
        "--save_model_as", "safetensors",
        "--network_module", NETWORK_MODULES[family],
        "--network_dim", str(config.rank),
        "--network_alpha", _number(config.effective_alpha),
        "--learning_rate", _number(config.learning_rate),
        "--optimizer_type", config.optimizer.value,
        "--lr_scheduler", config.lr_scheduler.value,
        "--lr_warmup_steps", str(config.lr_warmup_steps),
        "--gradient_accumulation_steps", str(config.gradient_accumulation),
        "--mixed_precision", config.mixed_precision.value,
        "--seed", str(config.seed),
        "--training_comment", comment,
    ]  # fmt: skip
    if config.max_steps:
        args += ["--max_train_steps", str(config.max_steps)]
    else:
        args += ["--max_train_epochs", str(config.epochs)]
    if config.unet_lr:
        args += ["--unet_lr", _number(config.unet_lr)]
    if config.text_encoder_lr and config.train_text_encoder:
        args += ["--text_encoder_lr", _number(config.text_encoder_lr)]
    if config.save_every_n_epochs:
        args += ["--save_every_n_epochs", str(config.save_every_n_epochs)]
    if config.gradient_checkpointing:
        args.append("--gradient_checkpointing")
    if not config.train_text_encoder or family is ModelFamily.FLUX_DEV:
        args.append("--network_train_unet_only")
        if family is not ModelFamily.SD15 and not config.shuffle_caption:
            # Text encoders stay frozen: cache their outputs instead of keeping them busy
            # (kohya refuses the cache with shuffled captions).
            args.append("--cache_text_encoder_outputs")
    if family is not ModelFamily.SD15:
        args.append("--cache_latents")
    if config.mixed_precision.value in ("fp16", "bf16"):
        args += ["--save_precision", config.mixed_precision.value]
    if sample_prompts is not None:
        args += sample_args(config, sample_prompts)
    return args + list(extra)


def sample_args(config: TrainingConfig, prompts_file: Path) -> list[str]:
    """kohya renders the sample prompts itself: before training (the reference: a new LoRA's
    up-weights are zero, so step 0 is the base model) and then about four times per run, or with
    every saved epoch."""
    args = [
        "--sample_prompts",
        str(prompts_file),
        "--sample_at_first",
        "--sample_sampler",
        "euler_a",
    ]
    if config.save_every_n_epochs:
        return [*args, "--sample_every_n_epochs", str(config.save_every_n_epochs)]
    if config.max_steps:
        return [*args, "--sample_every_n_steps", str(max(1, config.max_steps // 4))]
    return [*args, "--sample_every_n_epochs", str(max(1, config.epochs // 4))]


def sample_prompts_text(config: TrainingConfig) -> str:
    """kohya's prompt file: one prompt a line, the job's seed and resolution on each."""
    size = config.resolution
    lines = [
        f"{' '.join(prompt.split())} --w {size} --h {size} --d {config.seed}"
        for prompt in config.sample_prompts
    ]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return format(value, "g")
