"""Core: everything the review step shows before a training starts, computed in one call.

Steps (bucket-aware), VRAM with a verdict against the GPU, duration and — for cloud backends —
cost, plus the cross-field issues of the configuration. The wizard's review page and the
`lora-studio estimate` command both use `estimate_training`, so they always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lora_studio.core.config.estimates.cost import (
    DEFAULT_REPLICATE_SKU,
    SKU_GPU_CLASS,
    estimate_cost,
)
from lora_studio.core.config.estimates.duration import (
    GpuClass,
    estimate_duration,
    gpu_class_for_vram,
)
from lora_studio.core.config.estimates.estimate import Estimate
from lora_studio.core.config.estimates.vram import VramVerdict, estimate_vram, vram_verdict
from lora_studio.core.config.issues import Issue
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.config.training_length import DatasetShape, TrainingLength, training_length
from lora_studio.core.config.validation import validate_config

# GPU memory of the machine each Replicate SKU runs on.
_SKU_VRAM_GB = {
    "gpu-h100": 80.0,
    "gpu-a100-large": 80.0,
    "gpu-l40s": 48.0,
    "gpu-a40-large": 48.0,
    "gpu-a40-small": 48.0,
    "gpu-t4": 16.0,
}


if TYPE_CHECKING:
    from lora_studio.core.backends.registry import BackendKind


def backend_names() -> tuple[str, ...]:
    """Every backend kind the estimates know (the registry's)."""
    from lora_studio.core.backends.registry import kind_names

    return kind_names()


def _kind(backend: str | None) -> BackendKind | None:
    if backend is None:
        return None
    # Imported here: the registry imports the backends, which import config (this package).
    from lora_studio.core.backends.registry import get_kind
    from lora_studio.core.errors import ConfigError

    try:
        return get_kind(backend)
    except ConfigError:
        raise ValueError(
            f"unknown backend {backend!r}; known: {', '.join(backend_names())}"
        ) from None


def _cost(entry: BackendKind | None, duration: Estimate, sku: str) -> Estimate | None:
    """Money for a run on a cloud backend (its registry cost model); None on local ones."""
    if entry is None or entry.local:
        return None
    if entry.cost_model is not None:
        return entry.cost_model(duration)
    return estimate_cost(duration, sku)


@dataclass(frozen=True)
class TrainingEstimate:
    length: TrainingLength
    vram: Estimate
    verdict: VramVerdict | None  # None when the GPU's memory is unknown
    duration: Estimate
    gpu_class: GpuClass
    cost: Estimate | None  # None for local backends
    issues: list[Issue]
    backend: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "length": self.length.to_dict(),
            "vram": self.vram.to_dict(),
            "verdict": self.verdict.to_dict() if self.verdict else None,
            "duration": self.duration.to_dict(),
            "gpu_class": self.gpu_class.value,
            "cost": self.cost.to_dict() if self.cost else None,
            "issues": [issue.to_dict() for issue in self.issues],
        }


def estimate_training(
    config: TrainingConfig,
    dataset: DatasetShape | int,
    *,
    backend: str | None = None,
    gpu_vram_gb: float | None = None,
    gpu_class: GpuClass | str | None = None,
    measured_seconds_per_step: Sequence[float] | None = None,
    replicate_sku: str = DEFAULT_REPLICATE_SKU,
) -> TrainingEstimate:
    """Steps, VRAM (+ verdict), duration and cost of training `config` on `dataset`.

    On a cloud backend the GPU is the SKU's (H100 80 GB by default) unless told otherwise;
    locally the GPU class is guessed from `gpu_vram_gb` when not given.
    """
    entry = _kind(backend)
    length = training_length(config, dataset)
    if entry is not None and not entry.local:
        if gpu_vram_gb is None:
            gpu_vram_gb = _SKU_VRAM_GB.get(replicate_sku)
        gpu = GpuClass(gpu_class) if gpu_class else SKU_GPU_CLASS.get(replicate_sku, GpuClass.H100)
    else:
        gpu = GpuClass(gpu_class) if gpu_class else gpu_class_for_vram(gpu_vram_gb)
    vram = estimate_vram(config)
    verdict = vram_verdict(vram, gpu_vram_gb, config) if gpu_vram_gb is not None else None
    duration = estimate_duration(config, length.total_steps, gpu, measured_seconds_per_step)
    return TrainingEstimate(
        length=length,
        vram=vram,
        verdict=verdict,
        duration=duration,
        gpu_class=gpu,
        cost=_cost(entry, duration, replicate_sku),
        issues=validate_config(config, total_steps=length.total_steps),
        backend=backend,
    )
