"""Core: how much GPU memory a LoRA training needs, and whether it fits a given GPU.

The model adds up what lives on the GPU during a kohya-style LoRA training:
  CUDA context and workspaces (fixed per family)
+ frozen base weights (parameter count × bytes of the weight dtype; Flux's base in fp8, as kohya's
  `--fp8_base` and Replicate's trainer load it below 100 GB)
+ text encoders, only when they are trained (otherwise their outputs are cached and they leave the
  GPU, as with kohya `--cache_text_encoder_outputs`)
+ the LoRA itself: rank × parameters-per-rank of the targeted layers, each trainable parameter
  costing fp32 weight + fp32 gradient + the optimizer's state
+ activations: per image at the family's native resolution, scaled by pixel count and batch size,
  much smaller with gradient checkpointing, doubled without mixed precision.
Latents are assumed cached (the VAE is off the GPU during training).

Parameters-per-rank come from counting the Linear layers kohya's `networks.lora`/`lora_flux`
target (e.g. SD 1.5 U-Net 16 transformer blocks → 0.42 M per rank). Activation and overhead terms
are calibrated so the published figures in tests/core/config/test_config_vram.py fall in range:
kohya sd-scripts' SDXL notes (8 GB possible at dim 4–8, 10 GB recommended; earlier "12 GB"),
the diffusers SD 1.5 LoRA example on an 11 GB 2080 Ti, fluxgym's 16/20 GB tiers and kohya's
Flux table (16 GB needs block swapping, 24 GB runs batch 2). The range (−18 %/+42 %) is
lopsided on purpose: peaks come out higher, not lower, than the model when an older trainer lacks
SDPA/xformers or when sample images during training bring the text encoders and VAE back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lora_studio.core.config.estimates.estimate import Estimate
from lora_studio.core.config.training_config import (
    EIGHT_BIT_OPTIMIZERS,
    MixedPrecision,
    ModelFamily,
    Optimizer,
    TrainingConfig,
)

GB = 1e9
LOW_FACTOR = 0.82
HIGH_FACTOR = 1.42

Verdict = Literal["fits", "tight", "does_not_fit"]


@dataclass(frozen=True)
class FamilyProfile:
    native_resolution: int
    overhead_gb: float  # CUDA context, cuDNN/cuBLAS workspaces, allocator slack
    denoiser_params: float  # U-Net / transformer
    text_encoder_params: float  # all text encoders together
    base_in_fp8: bool  # the frozen base is loaded in 8-bit regardless of mixed precision
    text_encoders_cached: bool  # when not trained, their outputs are cached and they leave the GPU
    lora_params_per_rank: float  # denoiser layers kohya targets, per unit of rank
    te_lora_params_per_rank: float
    activations_gc_gb: float  # per image at native resolution, 16-bit, gradient checkpointing on
    activations_full_gb: float  # same, checkpointing off
    te_activations_gb: float  # extra when the text encoder is trained


PROFILES: dict[ModelFamily, FamilyProfile] = {
    # SD 1.5: U-Net 860 M, CLIP-L 123 M; kohya keeps CLIP on the GPU (no output caching for SD1.x).
    ModelFamily.SD15: FamilyProfile(
        native_resolution=512,
        overhead_gb=1.0,
        denoiser_params=0.86e9,
        text_encoder_params=0.123e9,
        base_in_fp8=False,
        text_encoders_cached=False,
        lora_params_per_rank=0.424e6,
        te_lora_params_per_rank=0.166e6,
        activations_gc_gb=0.5,
        activations_full_gb=2.5,
        te_activations_gb=0.1,
    ),
    # SDXL: U-Net 2.57 B, CLIP-L + OpenCLIP bigG 0.82 B.
    ModelFamily.SDXL: FamilyProfile(
        native_resolution=1024,
        overhead_gb=1.0,
        denoiser_params=2.567e9,
        text_encoder_params=0.817e9,
        base_in_fp8=False,
        text_encoders_cached=True,
        lora_params_per_rank=2.66e6,
        te_lora_params_per_rank=0.903e6,
        activations_gc_gb=1.6,
        activations_full_gb=11.0,
        te_activations_gb=0.5,
    ),
    # Flux dev: transformer 11.9 B (fp8 → 11.9 GB), T5-XXL 4.76 B + CLIP-L; kohya's lora_flux
    # targets all double/single block Linear layers: 4.79 M per rank.
    ModelFamily.FLUX_DEV: FamilyProfile(
        native_resolution=1024,
        overhead_gb=1.5,
        denoiser_params=11.9e9,
        text_encoder_params=4.883e9,
        base_in_fp8=True,
        text_encoders_cached=True,
        lora_params_per_rank=4.79e6,
        te_lora_params_per_rank=0.166e6,
        activations_gc_gb=4.0,
        activations_full_gb=20.0,
        te_activations_gb=0.3,
    ),
}

# Bytes per trainable LoRA parameter: fp32 weight (4) + fp32 gradient (4) + optimizer state.
_OPTIMIZER_STATE_BYTES: dict[Optimizer, float] = {
    Optimizer.ADAMW: 8,  # two fp32 moments
    Optimizer.ADAMW8BIT: 2,  # two 8-bit moments
    Optimizer.PAGED_ADAMW8BIT: 2,
    Optimizer.LION: 4,  # one moment
    Optimizer.LION8BIT: 1,
    Optimizer.SGD_NESTEROV: 4,  # momentum
    Optimizer.ADAFACTOR: 1,  # factored second moment: rows + columns only
    Optimizer.PRODIGY: 16,  # two moments plus s and the initial weights
    Optimizer.DADAPTATION: 12,
}


def _weight_bytes(precision: MixedPrecision) -> int:
    # kohya casts the frozen base to the mixed-precision dtype; without it everything is fp32.
    return 4 if precision == MixedPrecision.NO else 2


def vram_breakdown(config: TrainingConfig) -> dict[str, float]:
    """The model's terms in GB, named, for the "why?" view and tests."""
    profile = PROFILES[config.base_model_family]
    weight_bytes = _weight_bytes(config.mixed_precision)
    base_bytes = 1 if profile.base_in_fp8 else weight_bytes
    parts = {
        "overhead": profile.overhead_gb,
        "base_model": profile.denoiser_params * base_bytes / GB,
        "text_encoders": 0.0,
    }
    trainable = config.rank * profile.lora_params_per_rank
    if config.train_text_encoder or not profile.text_encoders_cached:
        te_bytes = 1 if profile.base_in_fp8 else weight_bytes
        parts["text_encoders"] = profile.text_encoder_params * te_bytes / GB
    if config.train_text_encoder:
        trainable += config.rank * profile.te_lora_params_per_rank
    per_param = 8 + _OPTIMIZER_STATE_BYTES[config.optimizer]
    parts["lora_and_optimizer"] = trainable * per_param / GB
    per_image = (
        profile.activations_gc_gb if config.gradient_checkpointing else profile.activations_full_gb
    )
    scale = (config.resolution / profile.native_resolution) ** 2
    activations = per_image * scale * config.batch_size
    if config.train_text_encoder:
        activations += profile.te_activations_gb * config.batch_size
    if config.mixed_precision == MixedPrecision.NO:
        activations *= 2
    parts["activations"] = activations
    return parts


def estimate_vram(config: TrainingConfig) -> Estimate:
    """Peak GPU memory of training `config`, in GB, with a range and the assumptions made."""
    parts = vram_breakdown(config)
    total = sum(parts.values())
    family = config.base_model_family
    assumptions = [
        f"{family.value} base model, {config.resolution} px, batch {config.batch_size}, "
        f"rank {config.rank}, {config.optimizer.value}, mixed precision {config.mixed_precision.value}, "
        f"gradient checkpointing {'on' if config.gradient_checkpointing else 'off'}.",
        "Latents are cached before training, so the VAE is not on the GPU.",
        "Breakdown: "
        + ", ".join(f"{name.replace('_', ' ')} {gb:.1f} GB" for name, gb in parts.items())
        + ".",
        "Range −18 %/+42 %: older trainers without SDPA/xformers and sample images during "
        "training (text encoders and VAE back on the GPU) raise the peak.",
    ]
    if PROFILES[family].text_encoders_cached and not config.train_text_encoder:
        assumptions.insert(
            1, "Text-encoder outputs are cached, so the text encoders leave the GPU."
        )
    if PROFILES[family].base_in_fp8:
        assumptions.insert(
            1,
            "The Flux base model is loaded in fp8 (kohya --fp8_base; Replicate's trainer "
            "quantizes it on GPUs under 100 GB); block swapping is not counted.",
        )
    if config.gradient_accumulation > 1:
        assumptions.append("Gradient accumulation adds no memory: only one batch is in flight.")
    return Estimate(
        value=total,
        low=total * LOW_FACTOR,
        high=total * HIGH_FACTOR,
        unit="GB",
        assumptions=assumptions,
    )


@dataclass(frozen=True)
class VramVerdict:
    verdict: Verdict
    message: str
    gpu_vram_gb: float

    def to_dict(self) -> dict[str, object]:
        return {"verdict": self.verdict, "message": self.message, "gpu_vram_gb": self.gpu_vram_gb}


def _savings(config: TrainingConfig) -> list[str]:
    """The levers that would lower the need, biggest first, only those not already pulled."""
    tips = []
    if not config.gradient_checkpointing:
        tips.append("turn on gradient checkpointing")
    if config.batch_size > 1:
        tips.append("lower the batch size to 1 (raise gradient accumulation instead)")
    if config.train_text_encoder:
        tips.append("stop training the text encoder")
    if config.optimizer not in EIGHT_BIT_OPTIMIZERS and config.optimizer != Optimizer.ADAFACTOR:
        tips.append("use AdamW8bit or Adafactor")
    native = PROFILES[config.base_model_family].native_resolution
    if config.resolution > native:
        tips.append(f"lower the resolution (now {config.resolution} px)")
    if config.rank > 16:
        tips.append(f"lower the rank (now {config.rank})")
    return tips


def vram_verdict(estimate: Estimate, gpu_vram_gb: float, config: TrainingConfig) -> VramVerdict:
    """fits: even the high end fits; tight: the expected need fits but the high end does not;
    does_not_fit: the expected need is more than the GPU has."""
    if gpu_vram_gb <= 0:
        raise ValueError(f"GPU memory must be positive, got {gpu_vram_gb}")
    need = f"about {estimate.value:.1f} GB ({estimate.low:.1f}–{estimate.high:.1f} GB)"
    tips = _savings(config)
    advice = f" To need less: {'; '.join(tips[:3])}." if tips else ""
    if estimate.high <= gpu_vram_gb:
        return VramVerdict(
            "fits", f"Needs {need}; fits comfortably in the GPU's {gpu_vram_gb:g} GB.", gpu_vram_gb
        )
    if estimate.value <= gpu_vram_gb:
        return VramVerdict(
            "tight",
            f"Needs {need} of the GPU's {gpu_vram_gb:g} GB: it should fit, with little headroom. "
            f"Close other programs that use the GPU.{advice}",
            gpu_vram_gb,
        )
    return VramVerdict(
        "does_not_fit",
        f"Needs {need}, more than the GPU's {gpu_vram_gb:g} GB; training would run out of "
        f"memory.{advice or ' Choose a GPU with more memory.'}",
        gpu_vram_gb,
    )
