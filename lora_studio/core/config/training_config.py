"""Core: `TrainingConfig`, every parameter of a LoRA training with field-level validation.

Field names are a contract: view-models, backends (kohya flags, ComfyUI graph, Replicate inputs)
and the job store read them by name. Rules that involve two fields (scheduler vs warm-up, bucket
limits vs resolution, …) live in `validation.py` and produce warnings as well as errors; here only
single values are checked, with messages that name the limits ("must be between 4 and 128, got 256").
Each field's `description` is the one-line explanation the UI shows as a tooltip.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from lora_studio.core.config.issues import InvalidConfigError, issues_from_validation_error

TRAINING_CONFIG_SCHEMA_VERSION = 1


class ModelFamily(StrEnum):
    SD15 = "sd15"
    SDXL = "sdxl"
    FLUX_DEV = "flux_dev"


class MixedPrecision(StrEnum):
    NO = "no"
    FP16 = "fp16"
    BF16 = "bf16"


class LrScheduler(StrEnum):
    CONSTANT = "constant"
    CONSTANT_WITH_WARMUP = "constant_with_warmup"
    COSINE = "cosine"
    COSINE_WITH_RESTARTS = "cosine_with_restarts"
    LINEAR = "linear"
    POLYNOMIAL = "polynomial"


class Optimizer(StrEnum):
    """Spelled as kohya's `--optimizer_type` accepts them (it matches case-insensitively)."""

    ADAMW = "AdamW"
    ADAMW8BIT = "AdamW8bit"
    PAGED_ADAMW8BIT = "PagedAdamW8bit"
    PRODIGY = "Prodigy"
    ADAFACTOR = "Adafactor"
    LION = "Lion"
    LION8BIT = "Lion8bit"
    SGD_NESTEROV = "SGDNesterov"
    DADAPTATION = "DAdaptation"


# Optimizers that pick their own step size and expect a learning rate around 1.0.
ADAPTIVE_OPTIMIZERS = frozenset({Optimizer.PRODIGY, Optimizer.DADAPTATION})
EIGHT_BIT_OPTIMIZERS = frozenset(
    {Optimizer.ADAMW8BIT, Optimizer.PAGED_ADAMW8BIT, Optimizer.LION8BIT}
)

NumberT = TypeVar("NumberT", int, float)


def _between(low: float, high: float) -> Callable[[NumberT], NumberT]:
    def check(value: NumberT) -> NumberT:
        if not low <= value <= high:
            raise ValueError(f"must be between {low:g} and {high:g}, got {value:g}")
        return value

    return check


def _positive_at_most(high: float) -> Callable[[float], float]:
    def check(value: float) -> float:
        if not 0 < value <= high:
            raise ValueError(f"must be greater than 0 and at most {high:g}, got {value:g}")
        return value

    return check


def _multiple_of(step: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if value % step:
            lower = value - value % step
            raise ValueError(
                f"must be a multiple of {step}, got {value} (try {lower} or {lower + step})"
            )
        return value

    return check


Rank = Annotated[int, AfterValidator(_between(4, 128))]
LearningRate = Annotated[float, AfterValidator(_positive_at_most(10.0))]
Resolution = Annotated[int, AfterValidator(_between(256, 4096)), AfterValidator(_multiple_of(8))]
BucketReso = Annotated[int, AfterValidator(_between(64, 8192)), AfterValidator(_multiple_of(8))]

_CHOICE_FIELDS: dict[str, type[StrEnum]] = {
    "base_model_family": ModelFamily,
    "mixed_precision": MixedPrecision,
    "lr_scheduler": LrScheduler,
    "optimizer": Optimizer,
}

# Characters that break a file name on at least one of Windows, macOS or Linux.
_BAD_FILE_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


class TrainingConfig(BaseModel):
    """Every setting of one LoRA training; JSON-serialisable, validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    schema_version: int = Field(
        default=TRAINING_CONFIG_SCHEMA_VERSION, description="Format version of this configuration."
    )
    base_model_family: ModelFamily = Field(
        default=ModelFamily.SDXL,
        description="Which kind of model the LoRA is for: SD 1.5, SDXL or Flux dev.",
    )
    base_model: str = Field(
        default="",
        max_length=500,
        description="The checkpoint to train on: a file name, a path or a model id.",
    )
    rank: Rank = Field(
        default=32,
        description="Size of the LoRA (network dim): higher learns more detail but makes bigger files.",
    )
    alpha: Annotated[float, AfterValidator(_between(0.01, 256))] | None = Field(
        default=None,
        description="Scales the LoRA's strength during training; empty means half the rank.",
    )
    learning_rate: LearningRate = Field(
        default=1e-4,
        description="How big each learning step is; too high burns, too low learns nothing.",
    )
    unet_lr: LearningRate | None = Field(
        default=None,
        description="Separate learning rate for the image model; empty uses learning_rate.",
    )
    text_encoder_lr: LearningRate | None = Field(
        default=None,
        description="Separate learning rate for the text encoder; empty uses learning_rate.",
    )
    batch_size: Annotated[int, AfterValidator(_between(1, 64))] = Field(
        default=1, description="Images per step; more is faster per image but needs more VRAM."
    )
    gradient_accumulation: Annotated[int, AfterValidator(_between(1, 256))] = Field(
        default=1,
        description="Steps whose gradients are added up before one update: a bigger batch without the VRAM.",
    )
    epochs: Annotated[int, AfterValidator(_between(1, 1000))] = Field(
        default=10, description="How many times the whole dataset (with repeats) is seen."
    )
    max_steps: Annotated[int, AfterValidator(_between(1, 1_000_000))] | None = Field(
        default=None, description="Stop after this many steps; when set it overrides epochs."
    )
    repeats: Annotated[int, AfterValidator(_between(1, 1000))] = Field(
        default=5, description="How often each image is shown per epoch."
    )
    resolution: Resolution = Field(
        default=1024, description="Training size in pixels (the side of a square of the same area)."
    )
    bucketing: bool = Field(
        default=True,
        description="Group images by aspect ratio instead of cropping them all square.",
    )
    min_bucket_reso: BucketReso = Field(
        default=256, description="Smallest side a bucket may have, in pixels."
    )
    max_bucket_reso: BucketReso = Field(
        default=2048, description="Largest side a bucket may have, in pixels."
    )
    bucket_reso_steps: Annotated[int, AfterValidator(_between(8, 256))] = Field(
        default=64, description="Bucket sides are multiples of this many pixels."
    )
    mixed_precision: MixedPrecision = Field(
        default=MixedPrecision.BF16,
        description="Number format for training: bf16 (recent GPUs), fp16 (older GPUs) or no (slow).",
    )
    lr_scheduler: LrScheduler = Field(
        default=LrScheduler.CONSTANT, description="How the learning rate changes during training."
    )
    lr_warmup_steps: Annotated[int, AfterValidator(_between(0, 100_000))] = Field(
        default=0, description="Steps at the start during which the learning rate ramps up."
    )
    optimizer: Optimizer = Field(
        default=Optimizer.ADAMW8BIT,
        description="The update rule; 8-bit variants and Adafactor save VRAM, Prodigy picks its own rate.",
    )
    seed: Annotated[int, AfterValidator(_between(0, 2**32 - 1))] = Field(
        default=42, description="Random seed; the same seed and data give the same result."
    )
    trigger_word: str = Field(
        default="",
        max_length=200,
        description="The word that calls up the LoRA in prompts (put into every caption).",
    )
    shuffle_caption: bool = Field(
        default=False, description="Shuffle the comma-separated tags of each caption every step."
    )
    keep_tokens: Annotated[int, AfterValidator(_between(0, 32))] = Field(
        default=0, description="How many leading tags stay in place when captions are shuffled."
    )
    save_every_n_epochs: Annotated[int, AfterValidator(_between(1, 1000))] | None = Field(
        default=None,
        description="Also save an intermediate LoRA every N epochs; empty saves only the last.",
    )
    output_name: str = Field(
        default="my_lora", description="File name of the trained LoRA, without .safetensors."
    )
    gradient_checkpointing: bool = Field(
        default=True, description="Recompute instead of storing: much less VRAM, about 20% slower."
    )
    train_text_encoder: bool = Field(
        default=False, description="Also train the text encoder (SD 1.5 mostly); needs more VRAM."
    )
    sample_prompts: list[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    ] = Field(
        default_factory=list,
        max_length=16,
        description="Test images made at every checkpoint; separate prompts with |.",
    )

    @field_validator(
        "base_model_family", "mixed_precision", "lr_scheduler", "optimizer", mode="before"
    )
    @classmethod
    def _case_insensitive_choice(cls, value: Any, info: ValidationInfo) -> Any:
        # kohya accepts "adamw8bit" and presets written by hand often differ in case; map to the
        # canonical spelling and let the enum report anything else.
        if isinstance(value, str) and not isinstance(value, StrEnum):
            wanted = value.strip().lower().replace("-", "_")
            for member in _CHOICE_FIELDS[str(info.field_name)]:
                if member.value.lower() == wanted:
                    return member.value
            return value.strip()
        return value

    @field_validator("sample_prompts", mode="before")
    @classmethod
    def _prompt_list(cls, value: Any) -> Any:
        # Typed as one line (`--set`, the presets form): prompts separated by "|" or new lines.
        if isinstance(value, str):
            return [part.strip() for part in re.split(r"[|\n]", value) if part.strip()]
        return value

    @field_validator("trigger_word", "base_model", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("output_name")
    @classmethod
    def _file_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty; it becomes the LoRA's file name")
        if len(value) > 120:
            raise ValueError(f"must be at most 120 characters, got {len(value)}")
        if _BAD_FILE_CHARS.search(value) or value.startswith(".") or value.endswith("."):
            raise ValueError(
                f'{value!r} cannot be a file name: avoid / \\ : * ? " < > | and a leading or '
                "trailing dot"
            )
        return value

    @property
    def effective_alpha(self) -> float:
        """The alpha the trainer gets: the explicit value, else half the rank (kohya's advice)."""
        return self.alpha if self.alpha is not None else self.rank / 2

    @property
    def effective_batch_size(self) -> int:
        """Images that contribute to one optimizer update."""
        return self.batch_size * self.gradient_accumulation


def settable_fields() -> list[str]:
    """Names an artist may set (everything except the format version), in declaration order."""
    return [name for name in TrainingConfig.model_fields if name != "schema_version"]


def config_from_dict(data: Mapping[str, Any], *, context: str = "") -> TrainingConfig:
    """Validate a plain dict (from JSON) into a config; InvalidConfigError lists every problem."""
    try:
        return TrainingConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidConfigError(issues_from_validation_error(exc), context=context) from exc
