"""VRAM estimate: calibration against published figures, the model's monotonic behaviour, verdicts.

Calibration points (each test cites its source):
- kohya-ss/sd-scripts README, "Tips for SDXL training" (2023): "The LoRA training can be done with
  12GB GPU memory." Later revision of the same README: "The LoRA training can be done with 8GB GPU
  memory (10GB recommended)" with U-Net only, gradient checkpointing, cached text-encoder outputs
  and latents, an 8-bit optimizer or Adafactor, and "lower dim (4 to 8 for 8GB GPU)".
- Hugging Face diffusers docs, training/lora (train_text_to_image_lora.py, SD 1.5, 512 px, batch 1,
  fp16, AdamW, rank 4, no gradient checkpointing): "A full training run takes ~5 hours on a 2080 Ti
  GPU with 11GB of VRAM."
- cocktailpeanut/fluxgym README + app.py: Flux LoRA "with LOW VRAM (12GB/16GB/20GB) support": 20G
  tier AdamW8bit, 16G tier Adafactor, 12G tier Adafactor + --split_mode (single blocks only); all with
  --fp8_base, gradient checkpointing, cached text-encoder outputs, rank 4, 512 px, batch 1.
- kohya-ss/sd-scripts docs/flux_train_network.md §6.1 (with --fp8_base): "24GB VRAM: basic settings
  work fine (batch size 2)", "16GB VRAM: set batch size to 1 and use --blocks_to_swap".
- ostris/ai-toolkit FAQ: Flux LoRA "24GB minimum is required".
"""

from __future__ import annotations

import pytest

from lora_studio.core.config.estimates import estimate_vram, vram_breakdown, vram_verdict
from lora_studio.core.config.presets import builtin_presets
from lora_studio.core.config.training_config import TrainingConfig


def sdxl(**changes: object) -> TrainingConfig:
    fields: dict[str, object] = {
        "base_model_family": "sdxl", "resolution": 1024, "batch_size": 1,
        "gradient_checkpointing": True, "optimizer": "AdamW8bit", "mixed_precision": "bf16",
        "train_text_encoder": False, "rank": 32,
    }  # fmt: skip
    return TrainingConfig(**{**fields, **changes})  # type: ignore[arg-type]


def flux(**changes: object) -> TrainingConfig:
    fields: dict[str, object] = {
        "base_model_family": "flux_dev", "resolution": 1024, "batch_size": 1, "rank": 16,
        "gradient_checkpointing": True, "optimizer": "AdamW8bit", "mixed_precision": "bf16",
    }  # fmt: skip
    return TrainingConfig(**{**fields, **changes})  # type: ignore[arg-type]


def preset(name: str) -> TrainingConfig:
    return next(p.config for p in builtin_presets() if p.name == name)


# --- calibration against published figures -------------------------------------------------------


def test_sdxl_preset_range_contains_kohyas_12_gb_and_10_gb_figures() -> None:
    # kohya sd-scripts README (SDXL tips): "can be done with 12GB" / "10GB recommended".
    estimate = estimate_vram(preset("sdxl"))
    assert estimate.low <= 10 <= estimate.high
    assert estimate.low <= 12 <= estimate.high
    assert vram_verdict(estimate, 12, preset("sdxl")).verdict in ("fits", "tight")


@pytest.mark.parametrize(
    ("rank", "optimizer"), [(4, "Adafactor"), (8, "AdamW8bit"), (8, "Adafactor")]
)
def test_sdxl_low_dim_fits_8_gb_as_kohya_says(rank: int, optimizer: str) -> None:
    # kohya sd-scripts README: 8 GB with U-Net only, checkpointing, 8-bit/Adafactor, dim 4–8.
    config = sdxl(rank=rank, optimizer=optimizer)
    estimate = estimate_vram(config)
    assert estimate.value <= 8
    assert vram_verdict(estimate, 8, config).verdict == "tight"
    assert vram_verdict(estimate, 10, config).verdict in ("fits", "tight")


def test_sd15_diffusers_example_fits_an_11_gb_2080_ti() -> None:
    # diffusers docs training/lora: SD 1.5, 512 px, batch 1, fp16, AdamW, rank 4, no checkpointing.
    config = TrainingConfig(
        base_model_family="sd15", resolution=512, rank=4, optimizer="AdamW",
        mixed_precision="fp16", gradient_checkpointing=False, batch_size=1,
        gradient_accumulation=4, min_bucket_reso=256,
    )  # fmt: skip
    estimate = estimate_vram(config)
    assert estimate.high <= 11
    assert vram_verdict(estimate, 11, config).verdict == "fits"


@pytest.mark.parametrize(("tier_gb", "optimizer"), [(16, "Adafactor"), (20, "AdamW8bit")])
def test_fluxgym_tiers(tier_gb: int, optimizer: str) -> None:
    # fluxgym app.py: fp8 base, rank 4, 512 px, batch 1, checkpointing; 16G Adafactor, 20G AdamW8bit.
    config = flux(
        rank=4, resolution=512, optimizer=optimizer, min_bucket_reso=256, max_bucket_reso=1024
    )
    estimate = estimate_vram(config)
    assert estimate.value <= tier_gb
    assert vram_verdict(estimate, tier_gb, config).verdict != "does_not_fit"


def test_fluxgym_12_gb_tier_needs_split_mode_which_is_not_modelled() -> None:
    # fluxgym's 12G tier adds --split_mode (train single blocks only); without it 12 GB is too little.
    config = flux(rank=4, resolution=512, optimizer="Adafactor", min_bucket_reso=256)
    assert vram_verdict(estimate_vram(config), 12, config).verdict == "does_not_fit"


def test_flux_preset_versus_kohya_and_ai_toolkit_tables() -> None:
    # kohya flux doc: 16 GB needs block swap; 24 GB runs batch 2. ai-toolkit: 24 GB minimum.
    config = preset("flux_dev")
    estimate = estimate_vram(config)
    assert 16 < estimate.value <= 24
    assert vram_verdict(estimate, 16, config).verdict == "does_not_fit"
    assert vram_verdict(estimate, 24, config).verdict in ("fits", "tight")
    batch2 = flux(batch_size=2)
    assert vram_verdict(estimate_vram(batch2), 24, batch2).verdict in ("fits", "tight")
    assert vram_verdict(estimate, 80, config).verdict == "fits"  # Replicate's H100


# --- behaviour of the model ----------------------------------------------------------------------


def test_breakdown_sums_to_the_estimate_and_range_surrounds_it() -> None:
    config = sdxl()
    estimate = estimate_vram(config)
    assert sum(vram_breakdown(config).values()) == pytest.approx(estimate.value)
    assert estimate.low < estimate.value < estimate.high
    assert estimate.unit == "GB"
    assert any("cached" in text for text in estimate.assumptions)


@pytest.mark.parametrize(
    ("smaller", "larger"),
    [
        ({}, {"rank": 128}),
        ({}, {"batch_size": 4}),
        ({}, {"resolution": 1536, "max_bucket_reso": 2048}),
        ({}, {"gradient_checkpointing": False}),
        ({"optimizer": "AdamW8bit"}, {"optimizer": "AdamW"}),
        ({"optimizer": "Adafactor"}, {"optimizer": "AdamW8bit"}),
        ({"optimizer": "AdamW"}, {"optimizer": "Prodigy"}),
        ({}, {"train_text_encoder": True}),
        ({}, {"mixed_precision": "no"}),
    ],
)
def test_each_knob_moves_the_estimate_the_right_way(
    smaller: dict[str, object], larger: dict[str, object]
) -> None:
    assert estimate_vram(sdxl(**smaller)).value < estimate_vram(sdxl(**larger)).value


def test_gradient_accumulation_costs_no_memory() -> None:
    assert estimate_vram(sdxl(gradient_accumulation=8)).value == estimate_vram(sdxl()).value


def test_family_ordering() -> None:
    sd15 = TrainingConfig(base_model_family="sd15", resolution=512, rank=32)
    assert (
        estimate_vram(sd15).value < estimate_vram(sdxl()).value < estimate_vram(flux(rank=32)).value
    )


# --- verdicts ------------------------------------------------------------------------------------


def test_verdict_thresholds_and_sentences() -> None:
    config = sdxl()
    estimate = estimate_vram(config)
    fits = vram_verdict(estimate, estimate.high + 0.01, config)
    tight = vram_verdict(estimate, estimate.value + 0.01, config)
    no = vram_verdict(estimate, estimate.value - 0.01, config)
    assert (fits.verdict, tight.verdict, no.verdict) == ("fits", "tight", "does_not_fit")
    for verdict in (fits, tight, no):
        assert verdict.message.endswith(".")
        assert "GB" in verdict.message
    assert "run out of memory" in no.message


def test_does_not_fit_suggests_levers_not_already_pulled() -> None:
    config = sdxl(batch_size=4, gradient_checkpointing=False, optimizer="AdamW")
    message = vram_verdict(estimate_vram(config), 8, config).message
    assert "gradient checkpointing" in message
    assert "batch size" in message
    lean = sdxl(rank=8, optimizer="Adafactor")
    lean_message = vram_verdict(estimate_vram(lean), 4, lean).message
    assert "gradient checkpointing" not in lean_message
    assert "AdamW8bit" not in lean_message
    assert "more memory" in lean_message


def test_verdict_needs_a_positive_gpu_size() -> None:
    with pytest.raises(ValueError):
        vram_verdict(estimate_vram(sdxl()), 0, sdxl())
