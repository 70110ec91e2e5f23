"""Core/Replicate: a TrainingConfig as the Flux trainer's inputs, and what it ignores.

The default trainer is `ostris/flux-dev-lora-trainer` (docs/protocols.md §3.6). Its inputs are few: no
alpha (alpha = rank), no scheduler, no precision (bf16), no seed, no text-encoder training, and
`resolution` is a comma list of training sizes. `trainer_inputs` maps what maps; `config_issues`
turns everything else into a warning (or an error where the trainer would refuse); the effective
settings record what really ran, for the LoRA's metadata.

Other trainers with the same shape can be used: `input_map` renames our standard input names to
the trainer's (an empty name drops an input), `extra_input` adds fixed inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lora_studio.core.backends.base import DatasetSummary, EffectiveSettings, Issue
from lora_studio.core.config.training_config import (
    LrScheduler,
    MixedPrecision,
    ModelFamily,
    TrainingConfig,
)
from lora_studio.core.config.training_length import DatasetShape, training_length
from lora_studio.core.plurals import plural

DEFAULT_TRAINER = "ostris/flux-dev-lora-trainer"
MIN_STEPS, MAX_STEPS = 3, 6000
# TrainingConfig spelling (lower case) → the trainer's `optimizer` value.
OPTIMIZERS = {
    "adamw8bit": "adamw8bit",
    "adamw": "adamw",
    "prodigy": "prodigy",
    "adafactor": "adafactor",
    "lion": "lion",
    "lion8bit": "lion8bit",
}
SUBSTITUTES = {"pagedadamw8bit": "adamw8bit"}
_SIZES = (512, 768, 1024, 1280, 1536)


def total_steps(config: TrainingConfig, dataset: DatasetSummary) -> int:
    """The steps to ask for: the app's own training-length arithmetic over the folders and
    their repeats (`max_steps` wins when set), so the plan and the run agree."""
    groups = [(len(f.items), f.repeats_for(config.repeats)) for f in dataset.folders if f.items]
    if not groups:
        return 0
    return training_length(config, DatasetShape.from_groups(groups)).total_steps


def resolution_list(config: TrainingConfig) -> str:
    """The trainer's comma list: with bucketing, the standard sizes from the smallest bucket up
    to the resolution; without, the resolution alone."""
    if not config.bucketing:
        return str(config.resolution)
    sizes = {s for s in _SIZES if config.min_bucket_reso <= s <= config.resolution}
    sizes.add(config.resolution)
    return ",".join(str(s) for s in sorted(sizes))


def trainer_optimizer(config: TrainingConfig) -> str | None:
    name = config.optimizer.value.lower()
    return OPTIMIZERS.get(name) or SUBSTITUTES.get(name)


def trainer_inputs(
    config: TrainingConfig,
    steps: int,
    images_url: str,
    *,
    input_map: Mapping[str, str] | None = None,
    extra_input: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The `input` of `POST …/trainings` for this config."""
    standard: dict[str, Any] = {
        "input_images": images_url,
        "trigger_word": config.trigger_word,  # "" → the trainer uses none
        "autocaption": False,  # the artist's captions are the captions
        "steps": steps,
        "learning_rate": config.learning_rate,
        "batch_size": config.batch_size,
        "resolution": resolution_list(config),
        "lora_rank": config.rank,
        "optimizer": trainer_optimizer(config) or "adamw8bit",
        "gradient_checkpointing": config.gradient_checkpointing,
    }
    renames = dict(input_map or {})
    inputs: dict[str, Any] = {}
    for key, value in standard.items():
        name = renames.get(key, key)
        if name:
            inputs[name] = value
    inputs.update(extra_input or {})
    return inputs


def effective_settings(config: TrainingConfig, extra: Mapping[str, str]) -> EffectiveSettings:
    """What the Flux trainer really runs for `config` (docs/protocols.md §3.6)."""
    sizes = [int(s) for s in resolution_list(config).split(",")]
    return EffectiveSettings(
        alpha=float(config.rank),  # the trainer fixes alpha = rank
        mixed_precision="bf16",
        optimizer=trainer_optimizer(config) or "adamw8bit",
        seed=None,
        enable_bucket=True,  # ai-toolkit buckets by aspect ratio at every listed size
        resolution=max(sizes),
        extra={
            # The trainer takes no seed and reports none: say so instead of the config's.
            "ss_seed": "unknown",
            "ss_lr_scheduler": "constant",
            "ss_network_alpha": str(float(config.rank)),
            "ss_gradient_accumulation_steps": "1",
            **extra,
        },
    )


def config_issues(
    config: TrainingConfig, dataset: DatasetSummary, trainer: str, destination: str
) -> list[Issue]:
    """Errors (the trainer would refuse) and warnings (a setting it ignores) for this job."""
    issues: list[Issue] = []
    default = trainer == DEFAULT_TRAINER

    def add(field: str, message: str, error: bool = False) -> None:
        issues.append(Issue(field, "error" if error else "warning", message))

    if not destination:
        add(
            "backend",
            "No destination model is set: give the Replicate model that receives the weights as "
            "OWNER/NAME (--destination, or Settings → Replicate → Destination model).",
            error=True,
        )
    if config.base_model_family is not ModelFamily.FLUX_DEV:
        add(
            "base_model_family",
            f"{trainer} trains Flux dev LoRAs; this job is set up for "
            f"{config.base_model_family.value}. Choose the flux_dev preset.",
            error=default,
        )
    steps = total_steps(config, dataset)
    if not MIN_STEPS <= steps <= MAX_STEPS:
        add(
            "max_steps",
            f"The trainer accepts {MIN_STEPS} to {MAX_STEPS} steps; this job has {steps}. "
            "Set max_steps in that range.",
            error=default,
        )
    name = config.optimizer.value.lower()
    if name not in OPTIMIZERS and name not in SUBSTITUTES:
        add(
            "optimizer",
            f"{trainer} has no {config.optimizer.value} optimizer; choose AdamW8bit, AdamW, "
            "Prodigy, Adafactor, Lion or Lion8bit.",
            error=True,
        )
    elif name in SUBSTITUTES:
        add("optimizer", f"The trainer uses {SUBSTITUTES[name]} for {config.optimizer.value}.")
    if config.alpha is not None and config.alpha != config.rank:
        add(
            "alpha",
            f"The trainer sets alpha to the rank ({config.rank}); {config.alpha:g} is not used.",
        )
    if config.lr_scheduler is not LrScheduler.CONSTANT or config.lr_warmup_steps:
        add(
            "lr_scheduler",
            "The trainer has no scheduler or warm-up setting; it trains at a "
            "constant learning rate.",
        )
    if config.mixed_precision is not MixedPrecision.BF16:
        add("mixed_precision", "The trainer always trains in bf16.")
    if config.gradient_accumulation > 1:
        add(
            "gradient_accumulation",
            "The trainer has no gradient accumulation; each step "
            f"uses {plural(config.batch_size, 'image')}.",
        )
    if config.train_text_encoder:
        add("train_text_encoder", "The trainer trains the transformer only, not the text encoders.")
    if config.shuffle_caption or config.keep_tokens:
        add("shuffle_caption", "The trainer does not shuffle caption tags.")
    if config.save_every_n_epochs:
        add(
            "save_every_n_epochs",
            "The trainer returns only the final LoRA; no intermediate checkpoints.",
        )
    uncaptioned = sum(1 for item in dataset.items if not item.caption.strip())
    if uncaptioned:
        add(
            "dataset",
            f"{uncaptioned} of {dataset.image_count} images have no caption; they are trained "
            "with the trigger word alone. Caption them first for better results.",
        )
    return issues
