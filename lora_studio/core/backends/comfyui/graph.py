"""Core/ComfyUI: build the API-format training graph for the node set a server offers.

The 0.3.64 graph matches `fixtures/comfyui-0.3.64/train_workflow_sd15.json`:
CheckpointLoaderSimple → LoadImageTextSetFromFolderNode → VAEEncode → TrainLoraNode →
SaveLoRANode + LossGraphNode + PreviewAny(loss map). The newer graph loads image and caption
lists, encodes captions with CLIPTextEncode and saves with SaveLoRA.

Inputs are filled from the server's own specs: values we choose are set, required widgets we do
not know keep the server's default (so a version that adds an input still works), and a required
input we cannot fill is a clear error instead of a 400 later.

Per chunk the graph gets a unique save prefix (`loras/lorastudio_<job>_c<k>`): ComfyUI names the
file `<basename>_<steps>_steps_<counter:05>_.safetensors` and its counter logic would misread the
step count of an earlier file with the same prefix, so a fresh prefix keeps the counter at 00001
and the name computable. Unique folder, prefix, seed and `existing_lora` also mean no node of a
training graph can ever be served from ComfyUI's cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lora_studio.core.backends.comfyui.nodes import (
    CHECKPOINT_LOADER,
    CLIP_TEXT_ENCODE,
    LOSS_GRAPH,
    PREVIEW_ANY,
    TRAIN_NODE,
    VAE_ENCODE,
    NodeSetKind,
    NodeSpec,
    TrainingNodeSet,
)
from lora_studio.core.backends.comfyui.params import TrainParams
from lora_studio.core.errors import BackendError

NO_LORA = "[None]"
_DYNAMIC = frozenset({"folder", "existing_lora"})
Graph = dict[str, dict[str, Any]]


class GraphError(BackendError):
    """The server's nodes need something LoRA Studio cannot provide."""


@dataclass(frozen=True)
class ChunkSpec:
    folder: str  # dataset subfolder of ComfyUI's input dir
    prefix: str  # SaveLoRA prefix, e.g. "loras/lorastudio_ab12_c1"
    steps: int  # steps this prompt trains
    seed: int
    existing_lora: str | None  # file in a LoRA folder to continue from
    loss_graph_prefix: str


@dataclass(frozen=True)
class GraphIds:
    train: str
    save: str
    preview: str | None
    loss_graph: str | None


def lora_file_name(prefix: str, steps_after: int | None, counter: int = 1) -> str:
    """The file SaveLoRA writes for `prefix` after `steps_after` total steps (docs/protocols.md §2.5).

    `steps_after` is None for a save node without a `steps` input (then no step count in the name).
    """
    base = prefix.rstrip("/").rsplit("/", 1)[-1]
    if steps_after is None:
        return f"{base}_{counter:05}_.safetensors"
    return f"{base}_{steps_after}_steps_{counter:05}_.safetensors"


def save_names_steps(nodes: TrainingNodeSet) -> bool:
    """Whether this server's save node puts the step count in the file name (needed to chain)."""
    return "steps" in nodes.spec(nodes.save).inputs


def lora_subfolder(prefix: str) -> str:
    return prefix.rsplit("/", 1)[0] if "/" in prefix else ""


def _node(
    spec: NodeSpec, links: Mapping[str, list[Any]], values: Mapping[str, Any]
) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for name, item in spec.inputs.items():
        if name in links:
            inputs[name] = links[name]
        elif name in values:
            value = values[name]
            # The dataset folder and the previous chunk's file were created moments ago; the
            # server re-lists those options when it validates, our copy may be stale.
            if item.options is not None and value not in item.options and name not in _DYNAMIC:
                raise GraphError(
                    f"ComfyUI's {spec.name} does not accept {name} = {value!r} "
                    f"(it offers {', '.join(item.options[:8])})."
                )
            inputs[name] = value
        elif item.required:
            if item.is_widget and item.default is not None:
                inputs[name] = item.default
            else:
                raise GraphError(
                    f"This ComfyUI's {spec.name} needs an input “{name}” that LoRA Studio does "
                    "not know how to provide; its training nodes changed. Update LoRA Studio."
                )
    return {"class_type": spec.name, "inputs": inputs}


def build_training_graph(
    nodes: TrainingNodeSet, params: TrainParams, chunk: ChunkSpec
) -> tuple[Graph, GraphIds]:
    spec = nodes.spec
    graph: Graph = {"1": _node(spec(CHECKPOINT_LOADER), {}, {"ckpt_name": params.base_model})}
    if nodes.kind is NodeSetKind.V0364:
        # Images are resized by LoRA Studio before upload (upload.py), so no loader resize.
        graph["2"] = _node(
            spec(nodes.loader),
            {"clip": ["1", 1]},
            {"folder": chunk.folder, "resize_method": "None", "width": -1, "height": -1},
        )
        graph["3"] = _node(spec(VAE_ENCODE), {"pixels": ["2", 0], "vae": ["1", 2]}, {})
        latents, positive, train = ["3", 0], ["2", 1], "4"
    else:
        graph["2"] = _node(spec(nodes.loader), {}, {"folder": chunk.folder})
        graph["3"] = _node(spec(CLIP_TEXT_ENCODE), {"text": ["2", 1], "clip": ["1", 1]}, {})
        graph["4"] = _node(spec(VAE_ENCODE), {"pixels": ["2", 0], "vae": ["1", 2]}, {})
        latents, positive, train = ["4", 0], ["3", 0], "5"
    graph[train] = _node(
        spec(TRAIN_NODE),
        {"model": ["1", 0], "latents": latents, "positive": positive},
        {
            "batch_size": params.batch_size,
            "grad_accumulation_steps": params.grad_accumulation,
            "steps": chunk.steps,
            "learning_rate": params.learning_rate,
            "rank": params.rank,
            "optimizer": params.optimizer,
            "loss_function": "MSE",
            "seed": chunk.seed,
            "training_dtype": params.training_dtype,
            "lora_dtype": params.lora_dtype,
            "algorithm": "LoRA",
            "gradient_checkpointing": params.gradient_checkpointing,
            "existing_lora": chunk.existing_lora or NO_LORA,
        },
    )
    next_id = int(train) + 1
    save = str(next_id)
    graph[save] = _node(
        spec(nodes.save), {"lora": [train, 1], "steps": [train, 3]}, {"prefix": chunk.prefix}
    )
    loss_graph = preview = None
    # One step makes LossGraphNode divide by zero — and, depending on ComfyUI's output order,
    # that error can come before SaveLoRA runs and lose the LoRA. So no graph for 1-step chunks.
    if nodes.loss_graph and chunk.steps >= 2:
        next_id += 1
        loss_graph = str(next_id)
        graph[loss_graph] = _node(
            spec(LOSS_GRAPH), {"loss": [train, 2]}, {"filename_prefix": chunk.loss_graph_prefix}
        )
    if nodes.preview:
        next_id += 1
        preview = str(next_id)
        graph[preview] = _node(spec(PREVIEW_ANY), {"source": [train, 2]}, {})
    return graph, GraphIds(train=train, save=save, preview=preview, loss_graph=loss_graph)
