"""Core/ComfyUI: what a TrainingConfig + dataset mean for ComfyUI's native trainer.

Errors stop a job that cannot work (missing captions, Flux, a checkpoint the server lacks, an
adaptive optimizer's learning rate, values outside the node's limits). Warnings say honestly where
the native trainer will not do what the config asks: it has no LR scheduler or warm-up, only
AdamW/Adam/SGD/RMSprop, no fp16, no text-encoder training, no caption shuffling, and it fixes
alpha at 1.0 for new LoRAs. Plain value ranges are TrainingConfig's job, not repeated here.
"""

from __future__ import annotations

from lora_studio.core.backends.base import DatasetSummary
from lora_studio.core.backends.comfyui.nodes import TRAIN_NODE, NodeSetKind, TrainingNodeSet
from lora_studio.core.backends.comfyui.params import NATIVE_OPTIMIZERS, SUBSTITUTES
from lora_studio.core.config.issues import Issue
from lora_studio.core.config.training_config import (
    ADAPTIVE_OPTIMIZERS,
    LrScheduler,
    MixedPrecision,
    ModelFamily,
    TrainingConfig,
)
from lora_studio.core.plurals import plural

SUPPORTED_FAMILIES = (ModelFamily.SD15, ModelFamily.SDXL)


def _error(field: str, message: str) -> Issue:
    return Issue(field, "error", message)


def _warning(field: str, message: str) -> Issue:
    return Issue(field, "warning", message)


def _dataset_issues(config: TrainingConfig, dataset: DatasetSummary) -> list[Issue]:
    if dataset.image_count == 0:
        return [_error("dataset", "The dataset has no images.")]
    issues: list[Issue] = []
    missing = [item.image.name for item in dataset.items if not item.caption.strip()]
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        issues.append(
            _error(
                "dataset",
                (
                    f"{plural(len(missing), 'image')} {'has' if len(missing) == 1 else 'have'} no "
                    f"caption ({shown}). ComfyUI's trainer needs a "
                    "caption for every image."
                ),
            )
        )
    trigger = config.trigger_word.strip()
    if trigger:
        lacking = sum(1 for item in dataset.items if trigger.lower() not in item.caption.lower())
        if lacking:
            issues.append(
                _warning(
                    "trigger_word",
                    (
                        f"{plural(lacking, 'caption')} {'does' if lacking == 1 else 'do'} not contain "
                        f"the trigger word “{trigger}”; ComfyUI "
                        "trains on the captions exactly as written."
                    ),
                )
            )
    return issues


def _optimizer_issues(config: TrainingConfig) -> list[Issue]:
    name = config.optimizer.value
    if config.optimizer in ADAPTIVE_OPTIMIZERS:
        return [
            _error(
                "optimizer",
                (
                    f"ComfyUI's trainer has no {name}. Its optimizers (AdamW, Adam, SGD, RMSprop) need "
                    "a small learning rate such as 1e-4 instead of the ~1.0 adaptive ones use: choose "
                    "AdamW and set the learning rate."
                ),
            )
        ]
    if name.lower() in SUBSTITUTES:
        return [
            _warning(
                "optimizer",
                (
                    f"ComfyUI's trainer has no {name}; {SUBSTITUTES[name.lower()]} is used instead "
                    "(more VRAM for 8-bit variants)."
                ),
            )
        ]
    if name.lower() not in NATIVE_OPTIMIZERS:
        return [
            _warning(
                "optimizer",
                (
                    f"ComfyUI's trainer offers AdamW, Adam, SGD and RMSprop; {name} is replaced by "
                    "AdamW with the same learning rate."
                ),
            )
        ]
    return []


def _ignored_settings(config: TrainingConfig, nodes: TrainingNodeSet | None) -> list[Issue]:
    issues: list[Issue] = []
    if config.lr_scheduler is not LrScheduler.CONSTANT:
        issues.append(
            _warning(
                "lr_scheduler",
                (
                    f"ComfyUI's trainer has no learning-rate scheduler; {config.lr_scheduler.value} is "
                    "ignored and the rate stays constant."
                ),
            )
        )
    if config.lr_warmup_steps:
        issues.append(
            _warning("lr_warmup_steps", "ComfyUI's trainer has no warm-up; it is ignored.")
        )
    if config.effective_alpha != 1.0:
        issues.append(
            _warning(
                "alpha",
                (
                    f"ComfyUI's trainer fixes alpha at 1 (strength 1/{config.rank}) instead of "
                    f"{config.effective_alpha:g}; a learning rate tuned for other trainers may be too "
                    "weak here."
                ),
            )
        )
    if config.mixed_precision is MixedPrecision.FP16:
        issues.append(
            _warning("mixed_precision", "ComfyUI's trainer has no fp16 mode; bf16 is used.")
        )
    if config.train_text_encoder or config.text_encoder_lr:
        issues.append(
            _warning(
                "train_text_encoder",
                "ComfyUI's trainer trains only the "
                "diffusion model; the text encoder is not trained.",
            )
        )
    if config.shuffle_caption or config.keep_tokens:
        issues.append(
            _warning(
                "shuffle_caption",
                "ComfyUI encodes each caption once, so caption "
                "shuffling and keep_tokens have no effect.",
            )
        )
    if config.bucketing and nodes is not None and nodes.kind is NodeSetKind.V0364:
        issues.append(
            _warning(
                "bucketing",
                (
                    "This ComfyUI version needs all images at one size: they are centre-cropped to "
                    "squares instead of aspect-ratio buckets."
                ),
            )
        )
    return issues


def _node_limits(config: TrainingConfig, nodes: TrainingNodeSet | None) -> list[Issue]:
    """Values TrainingConfig allows but this server's TrainLoraNode does not."""
    if nodes is None or TRAIN_NODE not in nodes.specs:
        return []
    inputs = nodes.spec(TRAIN_NODE).inputs
    issues: list[Issue] = []
    for node_input, field, value in (
        ("rank", "rank", config.rank),
        ("learning_rate", "learning_rate", config.unet_lr or config.learning_rate),
        ("batch_size", "batch_size", config.batch_size),
        ("grad_accumulation_steps", "gradient_accumulation", config.gradient_accumulation),
    ):
        spec = inputs.get(node_input)
        if spec is None:
            continue
        low, high = spec.min, spec.max
        if (low is not None and value < low) or (high is not None and value > high):
            issues.append(
                _error(
                    field, (f"ComfyUI's trainer accepts {low:g} to {high:g} here, not {value:g}.")
                )
            )
    return issues


def validate_config(
    config: TrainingConfig,
    dataset: DatasetSummary,
    nodes: TrainingNodeSet | None,
    checkpoints: tuple[str, ...] | None,
) -> list[Issue]:
    """Engine-specific issues. `nodes`/`checkpoints` None means the server was not asked."""
    issues = _dataset_issues(config, dataset)
    if config.base_model_family not in SUPPORTED_FAMILIES:
        issues.append(
            _error(
                "base_model_family",
                (
                    "LoRA Studio trains SD 1.5 and SDXL checkpoints on ComfyUI; use Replicate or kohya "
                    "for Flux."
                ),
            )
        )
    if not config.base_model:
        issues.append(_error("base_model", "Choose the checkpoint to train on."))
    elif checkpoints is not None and config.base_model not in checkpoints:
        offered = ", ".join(checkpoints[:6]) or "none"
        issues.append(
            _error(
                "base_model",
                (
                    f"This ComfyUI server has no checkpoint “{config.base_model}” (it offers: "
                    f"{offered})."
                ),
            )
        )
    issues.extend(_optimizer_issues(config))
    issues.extend(_node_limits(config, nodes))
    if config.batch_size > dataset.image_count > 0:
        issues.append(
            _warning(
                "batch_size",
                (
                    f"The batch size ({config.batch_size}) is larger than the dataset "
                    f"({dataset.image_count} images); images repeat within a batch."
                ),
            )
        )
    issues.extend(_ignored_settings(config, nodes))
    return issues
