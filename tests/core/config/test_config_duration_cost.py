"""Duration (table and measured history) and cost (Replicate prices, cloud backends only)."""

from __future__ import annotations

import math

import pytest

from lora_studio.core.config.estimates import (
    REPLICATE_PRICES_PER_SECOND,
    Estimate,
    GpuClass,
    estimate_backend_cost,
    estimate_cost,
    estimate_duration,
    estimate_training,
    format_duration,
    format_estimate,
    gpu_class_for_vram,
    table_seconds_per_step,
)
from lora_studio.core.config.presets import builtin_presets
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.config.training_length import DatasetShape


def preset(name: str) -> TrainingConfig:
    return next(p.config for p in builtin_presets() if p.name == name)


def test_diffusers_sd15_example_takes_about_five_hours_on_a_2080_ti() -> None:
    # diffusers docs training/lora: 15000 steps, gradient_accumulation_steps=4, batch 1, 512 px,
    # fp16, no checkpointing: "A full training run takes ~5 hours on a 2080 Ti GPU with 11GB".
    config = TrainingConfig(
        base_model_family="sd15", resolution=512, rank=4, optimizer="AdamW", batch_size=1,
        gradient_accumulation=4, mixed_precision="fp16", gradient_checkpointing=False,
        min_bucket_reso=256,
    )  # fmt: skip
    estimate = estimate_duration(config, 15_000, gpu_class_for_vram(11))
    assert estimate.low <= 5 * 3600 <= estimate.high


def test_replicate_flux_1000_steps_in_20_to_30_minutes_on_h100() -> None:
    # docs/protocols.md §3.8: "≈ 1000 steps ≈ 20–30 min on H100" (community figure, unconfirmed).
    estimate = estimate_duration(preset("flux_dev"), 1000, GpuClass.H100)
    assert estimate.low <= 25 * 60 <= estimate.high


def test_duration_scales_with_steps_gpu_and_settings() -> None:
    config = preset("sdxl")
    base = table_seconds_per_step(config, GpuClass.RTX_4090)
    assert table_seconds_per_step(config, GpuClass.RTX_3090) > base
    assert table_seconds_per_step(config, GpuClass.H100) < base
    assert table_seconds_per_step(config, GpuClass.CPU) > 100 * base
    accumulate = config.model_copy(update={"gradient_accumulation": 4})
    assert table_seconds_per_step(accumulate, GpuClass.RTX_4090) == pytest.approx(4 * base)
    no_gc = config.model_copy(update={"gradient_checkpointing": False})
    assert table_seconds_per_step(no_gc, GpuClass.RTX_4090) < base
    bigger = config.model_copy(update={"resolution": 1536})
    assert table_seconds_per_step(bigger, GpuClass.RTX_4090) == pytest.approx(base * 2.25)
    short = estimate_duration(config, 100, GpuClass.RTX_4090)
    long = estimate_duration(config, 1000, GpuClass.RTX_4090)
    assert long.value > short.value
    assert long.unit == "s"


def test_measured_history_uses_the_median_and_narrows_the_range() -> None:
    config = preset("sdxl")
    table = estimate_duration(config, 1000, GpuClass.RTX_4090)
    measured = estimate_duration(
        config, 1000, GpuClass.RTX_4090, measured_seconds_per_step=[2.0, 2.2, 9.0, 0, -1, math.nan]
    )
    setup = 120
    assert measured.value == pytest.approx(setup + 1000 * 2.2)
    assert (measured.high - measured.low) / measured.value < (table.high - table.low) / table.value
    assert any("median of 3 measured" in text for text in measured.assumptions)
    # only junk measurements: fall back to the table
    fallback = estimate_duration(config, 1000, GpuClass.RTX_4090, measured_seconds_per_step=[0.0])
    assert fallback == table


def test_gpu_class_from_vram() -> None:
    assert gpu_class_for_vram(None) is GpuClass.RTX_3090
    assert gpu_class_for_vram(8) is GpuClass.CONSUMER_8GB
    assert gpu_class_for_vram(12) is GpuClass.CONSUMER_12GB
    assert gpu_class_for_vram(16) is GpuClass.CONSUMER_16GB
    assert gpu_class_for_vram(24) is GpuClass.RTX_3090
    assert gpu_class_for_vram(80) is GpuClass.A100
    assert gpu_class_for_vram(141) is GpuClass.H100


def test_cost_uses_replicate_prices_from_protocols() -> None:
    # docs/protocols.md §3.8 (Replicate pricing page, 2025): H100 $0.001525/s, A100 80 GB $0.0014/s.
    assert REPLICATE_PRICES_PER_SECOND["gpu-h100"] == 0.001525
    assert REPLICATE_PRICES_PER_SECOND["gpu-a100-large"] == 0.0014
    assert REPLICATE_PRICES_PER_SECOND["gpu-t4"] == 0.000225
    duration = Estimate(value=1800, low=1200, high=2700, unit="s")
    cost = estimate_cost(duration)
    assert (cost.value, cost.low, cost.high) == pytest.approx((2.745, 1.83, 4.1175))
    assert cost.unit == "USD"
    assert any("$0.001525" in text for text in cost.assumptions)
    assert estimate_cost(duration, "gpu-a100-large").value == pytest.approx(2.52)
    with pytest.raises(ValueError, match="known"):
        estimate_cost(duration, "gpu-b200")
    with pytest.raises(ValueError):
        estimate_cost(Estimate(1, 1, 1, "GB"))


def test_cost_only_for_cloud_backends() -> None:
    duration = Estimate(value=600, low=500, high=700, unit="s")
    assert estimate_backend_cost("replicate", duration) is not None
    assert estimate_backend_cost("kohya", duration) is None
    assert estimate_backend_cost("comfyui", duration) is None
    assert estimate_backend_cost(None, duration) is None


def test_estimate_training_bundles_everything() -> None:
    local = estimate_training(preset("sdxl"), 40, backend="kohya", gpu_vram_gb=12)
    assert local.length.total_steps == 2000
    assert local.verdict is not None and local.verdict.verdict == "tight"
    assert local.gpu_class is GpuClass.CONSUMER_12GB
    assert local.cost is None
    cloud = estimate_training(preset("flux_dev"), DatasetShape.uniform(20, 1), backend="replicate")
    assert cloud.gpu_class is GpuClass.H100
    assert cloud.verdict is not None and cloud.verdict.verdict == "fits"  # 80 GB H100
    assert cloud.cost is not None and 1 < cloud.cost.value < 5
    assert estimate_training(preset("sdxl"), 40).verdict is None
    data = cloud.to_dict()
    assert set(data) >= {"length", "vram", "verdict", "duration", "cost", "issues", "gpu_class"}
    with pytest.raises(ValueError):
        estimate_training(preset("sdxl"), 40, backend="colab")


def test_formatting() -> None:
    assert format_duration(42) == "42 s"
    assert format_duration(600) == "10 min"
    assert format_duration(3900) == "1 h 05 min"
    assert format_duration(5 * 86400) == "5 d 0 h"
    assert format_estimate(Estimate(9.4, 7.7, 12.2, "GB")) == "about 9.4 GB (7.7–12.2 GB)"
    assert format_estimate(Estimate(2.5, 2, 3, "USD")) == "$2.50 ($2.00–$3.00)"
    assert format_estimate(Estimate(600, 420, 900, "s")) == "about 10 min (7 min – 15 min)"
    with pytest.raises(ValueError):
        Estimate(5, 6, 7, "GB")
