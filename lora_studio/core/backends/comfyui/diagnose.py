"""Core/ComfyUI: turn `/system_stats` and the node specs into a `BackendCheck` sentence.

Order of verdicts: no training nodes (too old / disabled) → no checkpoints → ready. Running on
the CPU is a warning, not a refusal: the native trainer works there, only very slowly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from lora_studio.core.backends.base import BackendCheck
from lora_studio.core.backends.comfyui.nodes import (
    NodeSpec,
    checkpoint_names,
    describe_missing_nodes,
    discover_training_nodes,
)
from lora_studio.core.plurals import plural


def _gpu(stats: Mapping[str, Any]) -> tuple[str | None, float | None, bool]:
    """(GPU name, VRAM in GiB, is a GPU) from the first device ComfyUI reports."""
    devices = [d for d in stats.get("devices") or [] if isinstance(d, dict)]
    if not devices or devices[0].get("type") == "cpu":
        return None, None, False
    device = devices[0]
    # "cuda:0 NVIDIA H100 80GB HBM3 : cudaMallocAsync" → "NVIDIA H100 80GB HBM3"
    name = re.sub(r"^\w+:\d+\s+", "", str(device.get("name", "")).split(" : ")[0]).strip()
    vram = device.get("vram_total")
    vram_gb = round(vram / 1024**3, 1) if isinstance(vram, int | float) and vram else None
    return name or None, vram_gb, True


def diagnose(
    where: str, stats: Mapping[str, Any], specs: Mapping[str, NodeSpec], facts: dict[str, str]
) -> BackendCheck:
    system = stats.get("system") or {}
    version = str(system["comfyui_version"]) if system.get("comfyui_version") else None
    gpu, vram_gb, has_gpu = _gpu(stats)
    warnings = (
        ()
        if has_gpu
        else (
            f"{where} runs on the CPU (no GPU found): training will take hours instead of minutes.",
        )
    )
    if stats.get("devices"):
        # What the estimate is timed for (core.training.backend_estimate reads it).
        facts = {**facts, "device": "gpu" if has_gpu else "cpu"}
    checkpoints = checkpoint_names(specs)
    nodes = discover_training_nodes(specs)
    if nodes is not None:
        facts = {**facts, "node_set": nodes.kind.value}
    found = BackendCheck(
        False,
        "",
        warnings,
        gpu_name=gpu,
        vram_gb=vram_gb,
        version=version,
        checkpoints=checkpoints,
        facts=facts,
    )
    if nodes is None:
        return replace(found, diagnosis=describe_missing_nodes(specs, version))
    if not checkpoints:
        return replace(
            found,
            diagnosis=(
                f"{where} has no checkpoints to train on; put an SD 1.5 or SDXL .safetensors file in "
                "its models/checkpoints folder."
            ),
        )
    hardware = f"{gpu} ({vram_gb:g} GB)" if gpu and vram_gb else (gpu or "the CPU")
    return replace(
        found,
        available=True,
        diagnosis=(
            f"Ready: ComfyUI {version or '(unknown version)'} on {hardware}, "
            f"{plural(len(checkpoints), 'checkpoint')}, training nodes found."
        ),
    )
