"""Core: what a training costs on a cloud backend — billed seconds × the hardware's price.

Prices are Replicate's per-second hardware prices (docs/protocols.md §3.8, Replicate pricing page,
2025). Replicate bills only processing time for public trainers (queueing and booting are free),
which is what the duration estimate measures. Local backends (ComfyUI at home, kohya) cost nothing
here: electricity is the artist's business.
"""

from __future__ import annotations

from lora_studio.core.config.estimates.duration import GpuClass
from lora_studio.core.config.estimates.estimate import Estimate

# USD per second of hardware time; multi-GPU SKUs scale linearly.
REPLICATE_PRICES_PER_SECOND: dict[str, float] = {
    "gpu-h100": 0.001525,
    "gpu-a100-large": 0.001400,
    "gpu-l40s": 0.000975,
    "gpu-a40-large": 0.000725,
    "gpu-a40-small": 0.000575,
    "gpu-t4": 0.000225,
    "cpu": 0.000100,
    "gpu-h100-2x": 0.003050,
    "gpu-a100-large-2x": 0.002800,
    "gpu-2x-l40s": 0.001950,
}

# Replicate's Flux fine-tunes run on H100s (pricing page); that is the default.
DEFAULT_REPLICATE_SKU = "gpu-h100"

# The duration table's GPU class for each SKU, so duration and price describe the same machine.
SKU_GPU_CLASS: dict[str, GpuClass] = {
    "gpu-h100": GpuClass.H100,
    "gpu-a100-large": GpuClass.A100,
    "gpu-l40s": GpuClass.L40S,
    "gpu-a40-large": GpuClass.RTX_3090,
    "gpu-a40-small": GpuClass.RTX_3090,
    "gpu-t4": GpuClass.CONSUMER_8GB,
    "cpu": GpuClass.CPU,
}

CLOUD_BACKENDS = frozenset({"replicate"})


def replicate_price_per_second(sku: str) -> float:
    try:
        return REPLICATE_PRICES_PER_SECOND[sku]
    except KeyError:
        known = ", ".join(sorted(REPLICATE_PRICES_PER_SECOND))
        raise ValueError(f"no price known for Replicate hardware {sku!r}; known: {known}") from None


def estimate_cost(duration: Estimate, sku: str = DEFAULT_REPLICATE_SKU) -> Estimate:
    """Dollars for a training of `duration` (an Estimate in seconds) on Replicate hardware `sku`."""
    if duration.unit != "s":
        raise ValueError(f"cost needs a duration in seconds, got {duration.unit!r}")
    price = replicate_price_per_second(sku)
    return duration.scaled(
        price,
        "USD",
        extra=[
            f"Replicate {sku} at ${price:.6f} per second (${price * 3600:.2f} per hour), "
            "Replicate pricing page 2025.",
            "Only processing time is billed; time spent queued or booting is free.",
        ],
    )


def estimate_backend_cost(
    backend: str | None, duration: Estimate, sku: str = DEFAULT_REPLICATE_SKU
) -> Estimate | None:
    """The cost on a cloud backend, None for local ones (nothing to pay per run)."""
    if backend not in CLOUD_BACKENDS:
        return None
    return estimate_cost(duration, sku)
