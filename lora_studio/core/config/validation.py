"""Core: cross-field checks of a `TrainingConfig`, returning errors and warnings as `Issue`s.

Field-level limits are enforced by the pydantic model itself; this module holds the rules that need
several fields or domain knowledge (what a model family was trained at, what an optimizer expects).
Errors are combinations a trainer refuses or that cannot work; warnings are legal but probably not
what the artist wants. Each rule is a small function so the list reads like a checklist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lora_studio.core.config.issues import Issue
from lora_studio.core.config.training_config import (
    ADAPTIVE_OPTIMIZERS,
    LrScheduler,
    MixedPrecision,
    ModelFamily,
    Optimizer,
    TrainingConfig,
)

Rule = Callable[[TrainingConfig], Iterator[Issue]]

# Resolutions each family was trained at; far below/above gives blurry or repeated subjects.
NATIVE_RESOLUTION = {ModelFamily.SD15: 512, ModelFamily.SDXL: 1024, ModelFamily.FLUX_DEV: 1024}

# Learning rates above these make Adam-style optimizers diverge on a LoRA ("burned" outputs).
_ADAM_LIKE_LR_CEILING = 5e-3
_LION_LR_CEILING = 1e-3


def _error(field: str, message: str) -> Issue:
    return Issue(field=field, severity="error", message=message)


def _warning(field: str, message: str) -> Issue:
    return Issue(field=field, severity="warning", message=message)


def _buckets(config: TrainingConfig) -> Iterator[Issue]:
    if not config.bucketing:
        return
    if config.max_bucket_reso < config.resolution:
        yield _error(
            "max_bucket_reso",
            f"must be at least the resolution ({config.resolution}), got {config.max_bucket_reso}; "
            "otherwise no bucket can hold a full-size image.",
        )
    if config.min_bucket_reso > config.resolution:
        yield _error(
            "min_bucket_reso",
            f"must be at most the resolution ({config.resolution}), got {config.min_bucket_reso}.",
        )
    if config.min_bucket_reso > config.max_bucket_reso:
        yield _error(
            "min_bucket_reso",
            f"must not be larger than max_bucket_reso ({config.max_bucket_reso}), "
            f"got {config.min_bucket_reso}.",
        )
    step = config.bucket_reso_steps
    for name in ("min_bucket_reso", "max_bucket_reso"):
        value = getattr(config, name)
        if value % step:
            # kohya asserts this before training starts.
            yield _error(name, f"must be a multiple of bucket_reso_steps ({step}), got {value}.")
    if config.base_model_family == ModelFamily.SDXL and step < 32:
        yield _error(
            "bucket_reso_steps",
            f"must be at least 32 for SDXL (smaller steps do not work with its VAE), got {step}.",
        )
    if config.resolution % 64:
        yield _warning(
            "resolution",
            f"{config.resolution} is not a multiple of 64; most trainers round it, so the size "
            "you get may differ slightly.",
        )


def _resolution_for_family(config: TrainingConfig) -> Iterator[Issue]:
    family, size = config.base_model_family, config.resolution
    if family == ModelFamily.SDXL and size < 768:
        yield _warning(
            "resolution",
            f"SDXL was trained at 1024 px; at {size} px the LoRA tends to come out soft. "
            "Use 768 or more.",
        )
    elif family == ModelFamily.SD15 and size > 768:
        yield _warning(
            "resolution",
            f"SD 1.5 was trained at 512 px; at {size} px training is slow and images may repeat "
            "the subject. Use 512–768.",
        )
    elif family == ModelFamily.FLUX_DEV and size < 512:
        yield _warning(
            "resolution", f"Flux dev is trained at 512–1024 px; {size} px will look blurry."
        )


def _precision(config: TrainingConfig) -> Iterator[Issue]:
    family, precision = config.base_model_family, config.mixed_precision
    if family == ModelFamily.FLUX_DEV and precision == MixedPrecision.FP16:
        yield _warning(
            "mixed_precision",
            "Flux overflows in fp16 and the loss can turn into NaN; use bf16 (RTX 30xx or newer).",
        )
    if precision == MixedPrecision.NO and family != ModelFamily.SD15:
        yield _warning(
            "mixed_precision",
            "Training without mixed precision doubles memory and time for this model; "
            "use bf16 unless your GPU lacks it.",
        )


def _learning_rate(config: TrainingConfig) -> Iterator[Issue]:
    lr, optimizer = config.learning_rate, config.optimizer
    if optimizer in ADAPTIVE_OPTIMIZERS:
        if lr < 0.1:
            yield _warning(
                "learning_rate",
                f"{optimizer.value} sets its own step size and expects a learning rate near 1.0; "
                f"with {lr:g} it will learn almost nothing.",
            )
        return
    ceiling = (
        _LION_LR_CEILING
        if optimizer in (Optimizer.LION, Optimizer.LION8BIT)
        else _ADAM_LIKE_LR_CEILING
    )
    if optimizer != Optimizer.SGD_NESTEROV and lr > ceiling:
        yield _warning(
            "learning_rate",
            f"{lr:g} is very high for {optimizer.value} (LoRAs usually use 1e-4 to 1e-3 with "
            "Adam-style optimizers, 3–10 times less with Lion); expect burned, noisy results.",
        )


def _scheduler(config: TrainingConfig) -> Iterator[Issue]:
    if config.lr_scheduler == LrScheduler.CONSTANT and config.lr_warmup_steps > 0:
        yield _warning(
            "lr_warmup_steps",
            "the constant scheduler ignores warm-up; choose constant_with_warmup to use "
            f"the {config.lr_warmup_steps} warm-up steps.",
        )
    if config.lr_scheduler == LrScheduler.CONSTANT_WITH_WARMUP and config.lr_warmup_steps == 0:
        yield _warning(
            "lr_warmup_steps",
            "constant_with_warmup without warm-up steps behaves like constant; set some "
            "warm-up steps (for example 5% of the steps).",
        )
    if config.max_steps is not None and config.lr_warmup_steps >= config.max_steps:
        yield _warning(
            "lr_warmup_steps",
            f"the warm-up ({config.lr_warmup_steps} steps) is as long as the whole training "
            f"({config.max_steps} steps); the full learning rate is never reached.",
        )


def _captions(config: TrainingConfig) -> Iterator[Issue]:
    if config.keep_tokens > 0 and not config.shuffle_caption:
        yield _warning(
            "keep_tokens",
            "only matters when shuffle_caption is on; it has no effect now.",
        )
    if config.shuffle_caption and config.trigger_word and config.keep_tokens == 0:
        yield _warning(
            "keep_tokens",
            "captions are shuffled but no tag is kept in place, so the trigger word moves "
            "around; set keep_tokens to 1 and put the trigger word first.",
        )
    if "," in config.trigger_word:
        yield _warning(
            "trigger_word",
            f"{config.trigger_word!r} contains a comma, so caption shuffling and keep_tokens "
            "treat it as several tags; use a single word or phrase without commas.",
        )


def _network(config: TrainingConfig) -> Iterator[Issue]:
    if config.alpha is not None and config.alpha > config.rank:
        yield _warning(
            "alpha",
            f"{config.alpha:g} is above the rank ({config.rank}), which amplifies every update; "
            "alpha is usually between 1 and the rank.",
        )
    if config.text_encoder_lr is not None and not config.train_text_encoder:
        yield _warning(
            "text_encoder_lr",
            "is set but train_text_encoder is off, so it is ignored.",
        )
    if config.train_text_encoder and config.base_model_family == ModelFamily.SDXL:
        yield _warning(
            "train_text_encoder",
            "training SDXL's two text encoders often gives unexpected results and needs much "
            "more VRAM; kohya recommends training the image model only.",
        )
    if config.train_text_encoder and config.base_model_family == ModelFamily.FLUX_DEV:
        yield _warning(
            "train_text_encoder",
            "Flux trainers train at most the small CLIP encoder (Replicate's trainer none); "
            "the setting may be ignored.",
        )


def _length(config: TrainingConfig) -> Iterator[Issue]:
    every = config.save_every_n_epochs
    if every is not None and config.max_steps is None and every >= config.epochs:
        yield _warning(
            "save_every_n_epochs",
            f"saving every {every} epochs with {config.epochs} epochs in total gives no "
            "intermediate LoRA files; lower it to compare epochs.",
        )


RULES: tuple[Rule, ...] = (
    _buckets,
    _resolution_for_family,
    _precision,
    _learning_rate,
    _scheduler,
    _captions,
    _network,
    _length,
)


def validate_config(config: TrainingConfig, *, total_steps: int | None = None) -> list[Issue]:
    """All cross-field errors and warnings of `config`, errors first.

    `total_steps`, when the dataset is known, also checks the warm-up against the real length.
    """
    issues = [issue for rule in RULES for issue in rule(config)]
    if (
        total_steps is not None
        and config.max_steps is None
        and 0 < total_steps <= config.lr_warmup_steps
    ):
        issues.append(
            _warning(
                "lr_warmup_steps",
                f"the warm-up ({config.lr_warmup_steps} steps) is as long as the whole training "
                f"({total_steps} steps); the full learning rate is never reached.",
            )
        )
    return sorted(issues, key=lambda issue: 0 if issue.is_error else 1)
