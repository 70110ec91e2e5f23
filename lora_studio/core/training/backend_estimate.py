"""Core/training: the one estimate of a training on a checked backend — shared by the wizard's
review and `lora-studio train`/`estimate`, so both show the same numbers for the same job.

It uses what the backend reported (a GPU and its memory, or that it runs on the CPU) and the
speeds measured on earlier jobs like this one. When the backend said nothing about its hardware,
the duration is still computed (for an RTX 3090-class card) but `hardware_known` is False and the
sentence says that the time cannot be known — never a confident number for an unknown machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lora_studio.core.backends.base import BackendCheck
from lora_studio.core.config.estimates import GpuClass, TrainingEstimate, estimate_training
from lora_studio.core.config.estimates.duration import gpu_class_for_vram
from lora_studio.core.config.estimates.estimate import format_estimate
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.config.training_length import DatasetShape

# `BackendCheck.facts["device"]`: "cpu" when the backend said it has no GPU.
DEVICE_FACT = "device"

GPU_CLASS_NAMES = {
    GpuClass.CPU: "the CPU (no GPU)",
    GpuClass.CONSUMER_8GB: "an 8 GB consumer GPU",
    GpuClass.CONSUMER_12GB: "a 12 GB consumer GPU",
    GpuClass.CONSUMER_16GB: "a 16 GB consumer GPU",
    GpuClass.RTX_3090: "an RTX 3090-class GPU",
    GpuClass.RTX_4090: "an RTX 4090",
    GpuClass.L40S: "an L40S",
    GpuClass.A100: "an A100",
    GpuClass.H100: "an H100",
}


@dataclass(frozen=True)
class BackendEstimate:
    estimate: TrainingEstimate
    hardware_known: bool  # the backend reported its GPU (or its lack of one), or it is a cloud SKU
    measured_runs: int  # earlier jobs whose speed the duration is based on (0: the table)
    duration_text: str  # "about 3 min (…), measured on 4 earlier runs" — for GUI and CLI alike


def on_cpu(check: BackendCheck | None) -> bool:
    return check is not None and check.facts.get(DEVICE_FACT) == "cpu"


def estimate_on_backend(
    config: TrainingConfig,
    dataset: DatasetShape | int,
    backend: str,
    check: BackendCheck | None,
    measured_seconds_per_step: Sequence[float] | None = None,
    *,
    local: bool = True,
) -> BackendEstimate:
    """Steps, VRAM, duration and cost of `config` on the backend `check` describes (None: not
    checked yet). `local` False: a cloud backend, whose GPU is its SKU's."""
    measured = [s for s in measured_seconds_per_step or () if 0 < s < float("inf")]
    vram = check.vram_gb if check is not None and check.vram_gb else None
    gpu_class: GpuClass | None = None
    if local:
        if on_cpu(check):
            gpu_class = GpuClass.CPU
        elif vram is not None:
            gpu_class = gpu_class_for_vram(vram)
    known = (not local) or gpu_class is not None
    estimate = estimate_training(
        config,
        dataset,
        backend=backend,
        gpu_vram_gb=vram,
        gpu_class=gpu_class,
        measured_seconds_per_step=measured or None,
    )
    return BackendEstimate(
        estimate, known, len(measured), _duration_text(estimate, known, measured)
    )


def _duration_text(estimate: TrainingEstimate, known: bool, measured: list[float]) -> str:
    figure = format_estimate(estimate.duration)
    if measured:
        runs = len(measured)
        return f"{figure}, from the speed of {runs} earlier run{'s' if runs != 1 else ''} here"
    gpu = GPU_CLASS_NAMES.get(estimate.gpu_class, estimate.gpu_class.value)
    if not known:
        return (
            "cannot be known yet: the backend did not say which GPU it has. On "
            f"{gpu} it would take {figure}; after a first run here the estimate uses its speed"
        )
    return f"{figure}, timed for {gpu} as the backend reported"
