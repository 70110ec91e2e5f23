"""Core/ComfyUI: read `/object_info` and find which LoRA-training node set a server offers.

Node names drift between ComfyUI versions (docs/protocols.md §2.1):
- 0.3.64: `LoadImageTextSetFromFolderNode{folder, clip, resize_method, width, height}` encodes
  captions itself; `SaveLoRANode`; all images must share one size.
- newer: `LoadImageTextDataSetFromFolder{folder}` returns image and caption *lists*, captions go
  through `CLIPTextEncode`; `SaveLoRA`; the trainer takes lists and accepts mixed sizes.
Both use `TrainLoraNode`, `LossGraphNode` and (for raw losses) `PreviewAny`.

Input specs come in two shapes: old-style combos `[[options...], {...}]` and V3 combos
`["COMBO", {"options": [...]}]`; both are parsed into `InputSpec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

TRAIN_NODE = "TrainLoraNode"
CHECKPOINT_LOADER = "CheckpointLoaderSimple"
VAE_ENCODE = "VAEEncode"
CLIP_TEXT_ENCODE = "CLIPTextEncode"
LOSS_GRAPH = "LossGraphNode"
PREVIEW_ANY = "PreviewAny"
LOADER_V0364 = "LoadImageTextSetFromFolderNode"
SAVE_V0364 = "SaveLoRANode"
LOADER_NEWER = "LoadImageTextDataSetFromFolder"
SAVE_NEWER = "SaveLoRA"

# Everything the backend may ask `/object_info/{name}` about.
INTERESTING_NODES = (
    TRAIN_NODE,
    CHECKPOINT_LOADER,
    VAE_ENCODE,
    CLIP_TEXT_ENCODE,
    LOSS_GRAPH,
    PREVIEW_ANY,
    LOADER_V0364,
    SAVE_V0364,
    LOADER_NEWER,
    SAVE_NEWER,
)


@dataclass(frozen=True)
class InputSpec:
    name: str
    type: str  # "INT", "FLOAT", "STRING", "BOOLEAN", "COMBO" or a link type such as "MODEL"
    required: bool
    options: tuple[str, ...] | None = None
    default: Any = None
    min: float | None = None
    max: float | None = None
    force_input: bool = False

    @property
    def is_widget(self) -> bool:
        """True when the value is a literal in the graph, not a link to another node."""
        return not self.force_input and (
            self.options is not None or self.type in ("INT", "FLOAT", "STRING", "BOOLEAN")
        )


@dataclass(frozen=True)
class NodeSpec:
    name: str
    inputs: Mapping[str, InputSpec]
    outputs: tuple[str, ...] = ()
    output_node: bool = False

    def options(self, input_name: str) -> tuple[str, ...]:
        spec = self.inputs.get(input_name)
        return spec.options or () if spec else ()


def _parse_input(name: str, raw: Any, required: bool) -> InputSpec:
    if not isinstance(raw, list | tuple) or not raw:
        return InputSpec(name, "UNKNOWN", required)
    kind, opts = raw[0], raw[1] if len(raw) > 1 and isinstance(raw[1], dict) else {}
    options: tuple[str, ...] | None = None
    if isinstance(kind, list | tuple):  # old-style combo: the type *is* the option list
        options, type_name = tuple(str(o) for o in kind), "COMBO"
    else:
        type_name = str(kind)
        if type_name == "COMBO":
            options = tuple(str(o) for o in opts.get("options", ()))

    def _num(key: str) -> float | None:
        value = opts.get(key)
        return (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )

    return InputSpec(
        name=name,
        type=type_name,
        required=required,
        options=options,
        default=opts.get("default"),
        min=_num("min"),
        max=_num("max"),
        force_input=bool(opts.get("forceInput", False)),
    )


def parse_node(name: str, info: Mapping[str, Any]) -> NodeSpec:
    inputs: dict[str, InputSpec] = {}
    sections = info.get("input") or {}
    for section, required in (("required", True), ("optional", False)):
        for input_name, raw in (sections.get(section) or {}).items():
            inputs[input_name] = _parse_input(input_name, raw, required)
    return NodeSpec(
        name=name,
        inputs=inputs,
        outputs=tuple(str(o) for o in info.get("output") or ()),
        output_node=bool(info.get("output_node", False)),
    )


def parse_object_info(raw: Mapping[str, Any]) -> dict[str, NodeSpec]:
    return {name: parse_node(name, info) for name, info in raw.items() if isinstance(info, dict)}


class NodeSetKind(StrEnum):
    V0364 = "0.3.64"  # LoadImageTextSetFromFolderNode + SaveLoRANode
    NEWER = "newer"  # LoadImageTextDataSetFromFolder + CLIPTextEncode + SaveLoRA


@dataclass(frozen=True)
class TrainingNodeSet:
    """The training nodes one server offers, with their specs, ready for the graph builder."""

    kind: NodeSetKind
    loader: str
    save: str
    specs: Mapping[str, NodeSpec] = field(repr=False)
    loss_graph: bool = False  # LossGraphNode available (loss plot PNG in temp)
    preview: bool = False  # PreviewAny available (raw per-step losses at the end)

    def spec(self, name: str) -> NodeSpec:
        return self.specs[name]


def discover_training_nodes(specs: Mapping[str, NodeSpec]) -> TrainingNodeSet | None:
    """The node set to build graphs for, preferring the newer one; None if training is impossible."""
    base = {TRAIN_NODE, CHECKPOINT_LOADER, VAE_ENCODE}
    if not base <= specs.keys():
        return None
    extras = {"loss_graph": LOSS_GRAPH in specs, "preview": PREVIEW_ANY in specs}
    if {LOADER_NEWER, SAVE_NEWER, CLIP_TEXT_ENCODE} <= specs.keys():
        return TrainingNodeSet(NodeSetKind.NEWER, LOADER_NEWER, SAVE_NEWER, specs, **extras)
    if {LOADER_V0364, SAVE_V0364} <= specs.keys():
        return TrainingNodeSet(NodeSetKind.V0364, LOADER_V0364, SAVE_V0364, specs, **extras)
    return None


def describe_missing_nodes(specs: Mapping[str, NodeSpec], version: str | None) -> str:
    """One sentence saying why this server cannot train, for `check()` and errors."""
    where = f"This ComfyUI ({version})" if version else "This ComfyUI server"
    if TRAIN_NODE not in specs:
        return (
            f"{where} has no LoRA training nodes (TrainLoraNode): it is too old or they are "
            "disabled. Update ComfyUI to a 2025 release from after mid-year and restart it."
        )
    missing = [n for n in (CHECKPOINT_LOADER, VAE_ENCODE) if n not in specs]
    if not (
        {LOADER_V0364, SAVE_V0364} <= specs.keys()
        or {LOADER_NEWER, SAVE_NEWER, CLIP_TEXT_ENCODE} <= specs.keys()
    ):
        missing.append(f"{LOADER_V0364}+{SAVE_V0364} or {LOADER_NEWER}+{SAVE_NEWER}")
    return (
        f"{where} has TrainLoraNode but not the nodes LoRA Studio wires around it "
        f"({', '.join(missing)}); this version's training nodes are not supported yet."
    )


def checkpoint_names(specs: Mapping[str, NodeSpec]) -> tuple[str, ...]:
    spec = specs.get(CHECKPOINT_LOADER)
    return spec.options("ckpt_name") if spec else ()
