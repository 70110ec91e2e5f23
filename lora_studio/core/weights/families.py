"""Core/weights: which trainer wrote a LoRA (key naming family) and which base model it is for.

Every tool names LoRA tensors its own way (docs/protocols.md §6.3): kohya flattens module paths into
`lora_unet_…`/`lora_te…` with `.lora_down/.lora_up/.alpha`, LyCORIS reuses those prefixes with
LoHa/LoKr/OFT parts, old diffusers writes `.lora.down.weight`, PEFT `.lora_A/.lora_B`, ComfyUI's
trainer `diffusion_model.…`. Tensors are grouped into adapted modules by stripping the known part
suffix; the family is the naming scheme most modules use.

The base model comes from the metadata when the trainer recorded it, else from the keys: Flux and
SD3 have their own block names, and the width of a cross-attention `to_k` input (768 / 1024 / 2048)
separates SD 1.x, SD 2.x and SDXL whatever the naming.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from lora_studio.core.weights.header import TensorInfo


class KeyFamily(StrEnum):
    KOHYA_SD = "kohya_sd"
    KOHYA_SDXL = "kohya_sdxl"
    KOHYA_FLUX = "kohya_flux"
    KOHYA_OTHER = "kohya"
    LYCORIS = "lycoris"
    DIFFUSERS = "diffusers"
    PEFT = "peft"
    COMFYUI = "comfyui"
    OTHER = "other"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _FAMILY_LABELS[self]


_FAMILY_LABELS = {
    KeyFamily.KOHYA_SD: "kohya (SD 1.x/2.x)",
    KeyFamily.KOHYA_SDXL: "kohya (SDXL)",
    KeyFamily.KOHYA_FLUX: "kohya (Flux)",
    KeyFamily.KOHYA_OTHER: "kohya-style",
    KeyFamily.LYCORIS: "LyCORIS",
    KeyFamily.DIFFUSERS: "diffusers (old format)",
    KeyFamily.PEFT: "PEFT / diffusers",
    KeyFamily.COMFYUI: "ComfyUI trainer",
    KeyFamily.OTHER: "unrecognised key names",
    KeyFamily.UNKNOWN: "not recognised as a LoRA",
}


class BaseModel(StrEnum):
    SD1 = "sd1"
    SD2 = "sd2"
    SDXL = "sdxl"
    FLUX = "flux"
    SD3 = "sd3"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _BASE_LABELS[self]


_BASE_LABELS = {
    BaseModel.SD1: "Stable Diffusion 1.x",
    BaseModel.SD2: "Stable Diffusion 2.x",
    BaseModel.SDXL: "SDXL",
    BaseModel.FLUX: "Flux.1",
    BaseModel.SD3: "Stable Diffusion 3",
    BaseModel.UNKNOWN: "unknown",
}

LORA, LOHA, LOKR, OFT, DORA, FULL = "LoRA", "LoHa", "LoKr", "OFT", "DoRA", "full weights"

# (suffix, part, algorithm, naming scheme or None = decided by the module's prefix)
_PARTS: list[tuple[str, str, str | None, str | None]] = [
    (".lora_down.weight", "down", LORA, None),
    (".lora_up.weight", "up", LORA, None),
    (".lora_mid.weight", "mid", LORA, None),
    (".lora.down.weight", "down", LORA, "diffusers"),
    (".lora.up.weight", "up", LORA, "diffusers"),
    ("_lora.down.weight", "down", LORA, "diffusers"),
    ("_lora.up.weight", "up", LORA, "diffusers"),
    (".lora_linear_layer.down.weight", "down", LORA, "diffusers"),
    (".lora_linear_layer.up.weight", "up", LORA, "diffusers"),
    (".lora_A.default.weight", "down", LORA, "peft"),
    (".lora_B.default.weight", "up", LORA, "peft"),
    (".lora_A.weight", "down", LORA, "peft"),
    (".lora_B.weight", "up", LORA, "peft"),
    (".lora_A", "down", LORA, "peft"),
    (".lora_B", "up", LORA, "peft"),
    (".lora_magnitude_vector.weight", "dora_scale", DORA, "peft"),
    (".lora_magnitude_vector", "dora_scale", DORA, "peft"),
    (".dora_scale", "dora_scale", DORA, None),
    (".alpha", "alpha", None, None),
    (".hada_w1_a", "hada_w1_a", LOHA, None),
    (".hada_w1_b", "hada_w1_b", LOHA, None),
    (".hada_w2_a", "hada_w2_a", LOHA, None),
    (".hada_w2_b", "hada_w2_b", LOHA, None),
    (".hada_t1", "hada_t1", LOHA, None),
    (".hada_t2", "hada_t2", LOHA, None),
    (".lokr_w1", "lokr_w1", LOKR, None),
    (".lokr_w1_a", "lokr_w1_a", LOKR, None),
    (".lokr_w1_b", "lokr_w1_b", LOKR, None),
    (".lokr_w2", "lokr_w2", LOKR, None),
    (".lokr_w2_a", "lokr_w2_a", LOKR, None),
    (".lokr_w2_b", "lokr_w2_b", LOKR, None),
    (".lokr_t2", "lokr_t2", LOKR, None),
    (".oft_blocks", "oft_blocks", OFT, None),
    (".oft_diag", "oft_blocks", OFT, None),
    (".rescale", "rescale", OFT, None),
    (".diff", "diff", FULL, None),
    (".diff_b", "diff_b", FULL, None),
]
# Longest first, so a specific spelling wins over a shorter one it ends with.
_PARTS.sort(key=lambda entry: -len(entry[0]))

_TEXT_ENCODER_PREFIXES = ("lora_te", "text_encoder")  # text_encoder, text_encoder_2, …


@dataclass
class Module:
    """The tensors that adapt one layer of the base model, keyed by part ("down", "alpha", …)."""

    name: str
    scheme: str
    parts: dict[str, TensorInfo] = field(default_factory=dict)

    @property
    def algorithm(self) -> str:
        found = {algorithm for _, part, algorithm, _ in _PARTS if part in self.parts}
        for candidate in (LOHA, LOKR, OFT, DORA, LORA):
            if candidate in found:
                return candidate
        return FULL if found & {FULL} else "unknown"

    @property
    def is_text_encoder(self) -> bool:
        return self.name.startswith(_TEXT_ENCODER_PREFIXES)


def split_part(name: str) -> tuple[str, str, str | None] | None:
    """(module, part, scheme) for a LoRA tensor name, or None when it is no known part."""
    for suffix, part, _, scheme in _PARTS:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], part, scheme
    return None


def _scheme_from_prefix(module: str) -> str:
    if module.startswith("lora_") and "." not in module:
        return "kohya"  # kohya flattens the module path: dots became underscores
    if module.startswith("diffusion_model."):
        return "comfyui"
    if module.startswith(("unet.", "text_encoder")):
        return "diffusers"
    if module.startswith(("transformer.", "base_model.model.")):
        return "peft"
    return "other"


def group_modules(tensors: Iterable[TensorInfo]) -> dict[str, Module]:
    """Adapted modules by name; tensors that are no LoRA part are left out."""
    modules: dict[str, Module] = {}
    for info in tensors:
        split = split_part(info.name)
        if split is None:
            continue
        module_name, part, scheme = split
        module = modules.get(module_name)
        if module is None:
            module = Module(module_name, scheme or _scheme_from_prefix(module_name))
            modules[module_name] = module
        elif scheme is not None:
            module.scheme = scheme
        module.parts[part] = info
    # A module made of an alpha alone is no adapter (e.g. a stray ".alpha" in a checkpoint).
    return {name: m for name, m in modules.items() if set(m.parts) - {"alpha"}}


def main_algorithm(modules: Iterable[Module]) -> str:
    """The adapter type most modules use; ComfyUI's extra full-weight diffs don't count."""
    counts = Counter(module.algorithm for module in modules)
    adapters = [(n, a) for a, n in counts.items() if a not in (FULL, "unknown")]
    if adapters:
        return max(adapters)[1]
    return FULL if counts.get(FULL) else "unknown"


def detect_family(modules: Mapping[str, Module], metadata: Mapping[str, str]) -> KeyFamily:
    """The naming family most modules follow (docs/protocols.md §6.3)."""
    if not modules:
        return KeyFamily.UNKNOWN
    schemes = Counter(m.scheme for m in modules.values() if m.scheme != "other")
    if not schemes:
        return KeyFamily.OTHER  # LoRA parts under a prefix no known trainer uses
    scheme = schemes.most_common(1)[0][0]
    if scheme == "comfyui":
        return KeyFamily.COMFYUI
    if scheme == "peft":
        return KeyFamily.PEFT
    if scheme == "diffusers":
        return KeyFamily.DIFFUSERS
    names = list(modules)
    lycoris_module = metadata.get("ss_network_module", "").startswith("lycoris")
    if lycoris_module or main_algorithm(modules.values()) in (LOHA, LOKR, OFT, DORA):
        return KeyFamily.LYCORIS
    if _has(names, FLUX_MARKERS):
        return KeyFamily.KOHYA_FLUX
    if _has(names, _KOHYA_SDXL_MARKERS):
        return KeyFamily.KOHYA_SDXL
    if _has(names, _SD_MARKERS) or _has(names, ("lora_te_",)):
        return KeyFamily.KOHYA_SD
    return KeyFamily.KOHYA_OTHER


FLUX_MARKERS = ("double_blocks", "single_blocks", "single_transformer_blocks")
SD3_MARKERS = ("joint_blocks",)
# kohya names SDXL's U-Net with SGM block names and its two text encoders te1/te2.
_KOHYA_SDXL_MARKERS = (
    "lora_te1_",
    "lora_te2_",
    "lora_unet_input_blocks",
    "lora_unet_output_blocks",
    "lora_unet_middle_block",
)
_SDXL_MARKERS = (*_KOHYA_SDXL_MARKERS, "text_encoder_2")
_SD_MARKERS = ("down_blocks", "up_blocks", "mid_block")
# The input width of the U-Net's cross-attention to_k: the text encoder it was built for.
CONTEXT_WIDTHS = {768: BaseModel.SD1, 1024: BaseModel.SD2, 2048: BaseModel.SDXL}


def _has(names: Iterable[str], markers: tuple[str, ...]) -> bool:
    return any(marker in name for name in names for marker in markers)


@dataclass(frozen=True)
class BaseModelGuess:
    base: BaseModel
    source: str  # "metadata", "keys" or "none"
    evidence: str


def guess_base_model(modules: Mapping[str, Module], metadata: Mapping[str, str]) -> BaseModelGuess:
    """Metadata first (ss_base_model_version, modelspec.architecture), then key patterns."""
    for key, parse in (
        ("ss_base_model_version", _base_from_version),
        ("modelspec.architecture", _base_from_architecture),
    ):
        value = metadata.get(key)
        base = parse(value) if value else None
        if base is not None:
            return BaseModelGuess(base, "metadata", f"{key} = {value}")
    if metadata.get("ss_v2") == "True":
        return BaseModelGuess(BaseModel.SD2, "metadata", "ss_v2 = True")
    return _base_from_keys(modules)


def _base_from_version(value: str) -> BaseModel | None:
    value = value.lower()
    for prefix, base in (
        ("sdxl", BaseModel.SDXL),
        ("sd_v1", BaseModel.SD1),
        ("sd_v2", BaseModel.SD2),
        ("sd3", BaseModel.SD3),
        ("flux", BaseModel.FLUX),
    ):
        if value.startswith(prefix):
            return base
    return None


def _base_from_architecture(value: str) -> BaseModel | None:
    arch = value.lower().split("/")[0]
    for prefix, base in (
        ("stable-diffusion-xl", BaseModel.SDXL),
        ("stable-diffusion-v1", BaseModel.SD1),
        ("stable-diffusion-v2", BaseModel.SD2),
        ("stable-diffusion-3", BaseModel.SD3),
        ("flux-1", BaseModel.FLUX),
    ):
        if arch.startswith(prefix):
            return base
    return None


def _in_features(module: Module) -> int | None:
    for part in ("down", "hada_w1_b"):
        info = module.parts.get(part)
        if info is not None and len(info.shape) == 2:
            return info.shape[1]
    return None


def _base_from_keys(modules: Mapping[str, Module]) -> BaseModelGuess:
    names = list(modules)
    if _has(names, FLUX_MARKERS):
        return BaseModelGuess(BaseModel.FLUX, "keys", "Flux block names (double/single blocks)")
    if _has(names, SD3_MARKERS):
        return BaseModelGuess(BaseModel.SD3, "keys", "SD3 block names (joint_blocks)")
    # The cross-attention input width is the text-encoder width the U-Net was built for.
    widths = Counter(
        width
        for module in modules.values()
        if "attn2" in module.name and "to_k" in module.name
        for width in [_in_features(module)]
        if width in CONTEXT_WIDTHS
    )
    if widths:
        width = widths.most_common(1)[0][0]
        return BaseModelGuess(CONTEXT_WIDTHS[width], "keys", f"cross-attention width {width}")
    if _has(names, _SDXL_MARKERS):
        return BaseModelGuess(BaseModel.SDXL, "keys", "SDXL layer names")
    if _has(names, ("diffusion_model.input_blocks",)):
        # ComfyUI uses SGM block names for SD1 too; SDXL stacks 2–10 transformer blocks.
        if _has(names, (".transformer_blocks.1.",)):
            return BaseModelGuess(BaseModel.SDXL, "keys", "SDXL transformer depth")
        return BaseModelGuess(BaseModel.SD1, "keys", "SD 1.x layer names")
    if _has(names, _SD_MARKERS) or _has(names, ("lora_te_",)):
        te_widths = Counter(
            width
            for module in modules.values()
            if module.is_text_encoder and "k_proj" in module.name
            for width in [_in_features(module)]
            if width in (768, 1024)
        )
        if te_widths.get(1024, 0) > te_widths.get(768, 0):
            return BaseModelGuess(BaseModel.SD2, "keys", "text encoder width 1024")
        return BaseModelGuess(BaseModel.SD1, "keys", "SD 1.x/2.x layer names")
    return BaseModelGuess(BaseModel.UNKNOWN, "none", "no known layer names")
