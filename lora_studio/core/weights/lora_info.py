"""Core/weights: inspect a LoRA file — family, rank, alpha, scale, base model, sizes, metadata.

Only the header and the scalar `.alpha` tensors are read, so inspecting is instant whatever the
file size. Rank comes from the shapes of the down (A) matrices; alpha from the `.alpha` scalars,
defaulting to the rank when a file stores none (PEFT/diffusers: scale 1), which is also what
kohya's loader does for a module without alpha. Files with several ranks/alphas (per-block
settings, conv layers) report the most common value plus the range.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lora_studio.core.weights.dtypes import decode_scalar
from lora_studio.core.weights.families import (
    BaseModel,
    KeyFamily,
    Module,
    detect_family,
    group_modules,
    guess_base_model,
    main_algorithm,
)
from lora_studio.core.weights.header import SafetensorsHeader, read_header, read_tensor_bytes

ALPHA_FROM_TENSORS = "tensors"
ALPHA_DEFAULT_RANK = "rank (no alpha stored)"
ALPHA_NONE = "none"


@dataclass(frozen=True)
class Spread:
    """A per-module quantity: its most common value and its range."""

    most_common: float
    minimum: float
    maximum: float

    @property
    def varies(self) -> bool:
        return self.minimum != self.maximum

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread | None:
        counts = Counter(values)
        if not counts:
            return None
        # Ties go to the larger value so the result does not depend on tensor order.
        common = max(counts.items(), key=lambda item: (item[1], item[0]))[0]
        return cls(common, min(counts), max(counts))

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.most_common,
            "min": self.minimum,
            "max": self.maximum,
            "varies": self.varies,
        }


@dataclass(frozen=True)
class LoraInfo:
    """What `inspect_lora` found. `to_dict()` is the JSON form (`lora-studio inspect --json`)."""

    path: Path
    file_size: int
    header_size: int
    family: KeyFamily
    algorithm: str
    base_model: BaseModel
    base_model_source: str
    base_model_evidence: str
    rank: Spread | None
    alpha: Spread | None
    alpha_source: str
    scale: Spread | None
    module_count: int
    text_encoder_module_count: int
    tensor_count: int
    parameter_count: int
    dtypes: dict[str, int]
    metadata: dict[str, str]

    @property
    def is_lora(self) -> bool:
        return self.family is not KeyFamily.UNKNOWN and self.module_count > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "file_size": self.file_size,
            "header_size": self.header_size,
            "is_lora": self.is_lora,
            "family": self.family.value,
            "family_label": self.family.label,
            "algorithm": self.algorithm,
            "base_model": self.base_model.value,
            "base_model_label": self.base_model.label,
            "base_model_source": self.base_model_source,
            "base_model_evidence": self.base_model_evidence,
            "rank": self.rank.to_dict() if self.rank else None,
            "alpha": self.alpha.to_dict() if self.alpha else None,
            "alpha_source": self.alpha_source,
            "scale": self.scale.to_dict() if self.scale else None,
            "module_count": self.module_count,
            "text_encoder_module_count": self.text_encoder_module_count,
            "tensor_count": self.tensor_count,
            "parameter_count": self.parameter_count,
            "dtypes": dict(self.dtypes),
            "metadata": dict(self.metadata),
        }


def inspect_lora(path: Path | str) -> LoraInfo:
    """Validate `path` and describe it; raises WeightsError/StorageError like `read_header`."""
    header = read_header(path)
    modules = group_modules(header.tensors.values())
    alphas = _read_alphas(header, modules.values())
    guess = guess_base_model(modules, header.metadata)

    ranks: list[float] = []
    alpha_values: list[float] = []
    scales: list[float] = []
    for module in modules.values():
        rank = module_rank(module)
        alpha = alphas.get(module.name)
        if rank is not None:
            ranks.append(rank)
        if alpha is not None:
            alpha_values.append(alpha)
        if rank:
            scales.append((alpha if alpha is not None else rank) / rank)

    if alpha_values:
        alpha_source = ALPHA_FROM_TENSORS
    elif ranks:
        alpha_values, alpha_source = list(ranks), ALPHA_DEFAULT_RANK
    else:
        alpha_source = ALPHA_NONE

    return LoraInfo(
        path=header.path,
        file_size=header.file_size,
        header_size=header.header_size,
        family=detect_family(modules, header.metadata),
        algorithm=main_algorithm(modules.values()) if modules else "unknown",
        base_model=guess.base,
        base_model_source=guess.source,
        base_model_evidence=guess.evidence,
        rank=Spread.of(ranks),
        alpha=Spread.of(alpha_values),
        alpha_source=alpha_source,
        scale=Spread.of(round(scale, 6) for scale in scales),
        module_count=len(modules),
        text_encoder_module_count=sum(1 for m in modules.values() if m.is_text_encoder),
        tensor_count=len(header.tensors),
        parameter_count=sum(
            info.numel for name, info in header.tensors.items() if not name.endswith(".alpha")
        ),
        dtypes=dict(Counter(info.dtype for info in header.tensors.values()).most_common()),
        metadata=dict(sorted(header.metadata.items())),
    )


def module_rank(module: Module) -> int | None:
    """The low-rank dimension of one module, from whichever factor it has; None if full-rank."""
    parts = module.parts
    # (part, axis holding the rank): down/A is [rank, in, …], up/B is [out, rank, …].
    for part, axis in (
        ("down", 0),
        ("up", 1),
        ("hada_w1_b", 0),
        ("hada_w1_a", 1),
        ("lokr_w2_b", 0),
        ("lokr_w2_a", 1),
        ("lokr_w1_b", 0),
        ("lokr_w1_a", 1),
    ):
        info = parts.get(part)
        if info is not None and len(info.shape) > axis:
            return info.shape[axis]
    return None


def _read_alphas(header: SafetensorsHeader, modules: Iterable[Module]) -> dict[str, float]:
    wanted = {
        module.parts["alpha"].name: module.name
        for module in modules
        if "alpha" in module.parts
        and module.parts["alpha"].numel == 1
        and module.parts["alpha"].nbytes <= 8
    }
    if not wanted:
        return {}
    raw = read_tensor_bytes(header, wanted)
    alphas: dict[str, float] = {}
    for tensor_name, data in raw.items():
        value = decode_scalar(header.tensors[tensor_name].dtype, data)
        if value is not None:
            alphas[wanted[tensor_name]] = value
    return alphas
