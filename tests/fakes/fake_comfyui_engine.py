"""Test fake: the *engine* half of the fake ComfyUI — node specs, graph validation, execution.

Replays what a real ComfyUI 0.3.64 did in `tests/fixtures/comfyui-0.3.64/` (and the newer node
names): `/object_info` from `object_info_subset.json` with live combo options (input folders,
LoRA files), `POST /prompt` validation producing the exact error shapes of
`prompt_error_bodies.txt`, the event order of `ws_train_success.jsonl`, console lines of
`ws_train_success_with_logs.jsonl` (tqdm bars generated in the same format), caching of an
identical graph, the interrupt-is-noticed-only-after-training quirk, LossGraphNode's
ZeroDivisionError at one step, and SaveLoRA's file naming *including* its counter quirk.

No networking here; `fake_comfyui.py` wraps it in an aiohttp server.
"""

from __future__ import annotations

import copy
import json
import os
import random
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .recordings import COMFYUI_FIXTURES

FIXTURES = COMFYUI_FIXTURES
BLOCKS = " ▏▎▍▌▋▊▉█"


def load_fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_lines(name: str) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def console_lines_by_class() -> dict[str | None, list[str]]:
    """Non-tqdm console writes of the recorded run, grouped by the node class that printed them."""
    lines = fixture_lines("ws_train_success_with_logs.jsonl")
    graph = next(line["body"] for line in reversed(lines) if line["dir"] == "http")
    graph = next(iter(graph.values()))["prompt"][2]
    grouped: dict[str | None, list[str]] = {}
    current: str | None = None
    for line in lines:
        msg = line.get("msg") or {}
        if msg.get("type") == "executing":
            node = msg["data"]["node"]
            current = graph[node]["class_type"] if node else None
        elif msg.get("type") == "logs":
            for entry in msg["data"]["entries"]:
                text = entry["m"]
                if text.strip() and "Training LoRA" not in text and "Prompt executed" not in text:
                    grouped.setdefault(current, []).append(text)
    return grouped


def build_object_info(node_set: str) -> dict[str, Any]:
    """`/object_info` for "0.3.64", "newer" (renamed nodes, V3 combos) or "none" (no training)."""
    info = copy.deepcopy(load_fixture_json("object_info_subset.json"))
    if node_set == "none":
        for name in (
            "TrainLoraNode",
            "SaveLoRANode",
            "LossGraphNode",
            "LoraModelLoader",
            "LoadImageTextSetFromFolderNode",
            "LoadImageSetFromFolderNode",
        ):
            info.pop(name, None)
        return info
    if node_set == "newer":
        info.pop("LoadImageTextSetFromFolderNode")
        info.pop("SaveLoRANode")
        info["LoadImageTextDataSetFromFolder"] = {
            "input": {
                "required": {
                    "folder": [
                        "COMBO",
                        {"options": [], "tooltip": "The folder to load images from."},
                    ]
                }
            },
            "input_order": {"required": ["folder"]},
            "output": ["IMAGE", "STRING"],
            "output_is_list": [True, True],
            "output_name": ["images", "texts"],
            "name": "LoadImageTextDataSetFromFolder",
            "display_name": "Load Image and Text Dataset from Folder",
            "category": "dataset",
            "output_node": False,
            "experimental": True,
            "python_module": "comfy_extras.nodes_dataset",
        }
        info["SaveLoRA"] = {
            "input": {
                "required": {
                    "lora": ["LORA_MODEL", {}],
                    "prefix": ["STRING", {"default": "loras/ComfyUI_trained_lora"}],
                },
                "optional": {"steps": ["INT", {}]},
            },
            "output": [],
            "output_node": True,
            "name": "SaveLoRA",
            "experimental": True,
        }
        train = info["TrainLoraNode"]["input"]["required"]
        for name, spec in list(train.items()):
            if isinstance(spec[0], list):  # V3 servers describe combos as ["COMBO", {options}]
                train[name] = ["COMBO", {**spec[1], "options": spec[0]}]
    return info


def combo_options(spec: list[Any]) -> list[str] | None:
    if isinstance(spec[0], list):
        return spec[0]
    if spec[0] == "COMBO":
        return spec[1].get("options", [])
    return None


def set_combo(spec: list[Any], options: list[str]) -> None:
    if isinstance(spec[0], list):
        spec[0] = options
    elif spec[0] == "COMBO":
        spec[1]["options"] = options


def tqdm_line(n: int, total: int, elapsed: float, loss: float | None) -> str:
    """A `Training LoRA:` bar in tqdm's format (as recorded in ws_train_success_with_logs)."""
    frac = n / total if total else 0.0
    filled = frac * 10
    full = int(filled)
    bar = "█" * full
    if full < 10:
        bar += BLOCKS[int((filled - full) * 8)] if filled > full else " "
        bar = bar.ljust(10)

    def clock(seconds: float) -> str:
        return f"{int(seconds) // 60:02d}:{int(seconds) % 60:02d}"

    if n == 0:
        timing = "00:00<?, ?it/s"
    else:
        rate = n / elapsed if elapsed > 0 else 0.0
        remaining = (total - n) / rate if rate > 0 else 0.0
        speed = f"{rate:5.2f}it/s" if rate >= 1 or rate == 0 else f"{1 / rate:5.2f}s/it"
        timing = f"{clock(elapsed)}<{clock(remaining)}, {speed}"
    postfix = f", loss={loss:.4f}" if loss is not None else ""
    return f"\rTraining LoRA: {int(frac * 100):3d}%|{bar}| {n}/{total} [{timing}{postfix}]"


def next_counter(folder: Path, base: str) -> int:
    """ComfyUI's `get_save_image_path` counter, quirk included: the first `_`-separated number
    after the prefix counts, so `x_4_steps_00001_` makes the next counter for prefix `x` 5."""
    found = []
    if folder.is_dir():
        for filename in os.listdir(folder):
            prefix = filename[: len(base) + 1]
            try:
                digits = int(filename[len(base) + 1 :].split("_")[0])
            except ValueError:
                digits = 0
            if prefix[:-1].lower() == base.lower() and prefix[-1:] == "_":
                found.append(digits)
    return max(found) + 1 if found else 1


def write_lora_file(path: Path, rank: int, data_bytes: int, seed: int) -> None:
    """A structurally valid safetensors LoRA (ComfyUI key style, no __metadata__)."""
    header: dict[str, Any] = {}
    offset = 0
    # A new LoRA's alpha is fixed at 1.0 (docs/protocols.md §2.1), stored as a bf16 scalar.
    header["diffusion_model.input_blocks.1.1.proj_in.alpha"] = {
        "dtype": "BF16",
        "shape": [],
        "data_offsets": [0, 2],
    }
    offset = 2
    keys = [
        ("diffusion_model.input_blocks.1.1.proj_in.lora_down.weight", [rank, 320]),
        ("diffusion_model.input_blocks.1.1.proj_in.lora_up.weight", [320, rank]),
    ]
    for key, shape in keys:
        size = shape[0] * shape[1] * 2
        header[key] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    pad = max(0, data_bytes - offset) // 2 * 2
    header["diffusion_model.padding.diff"] = {
        "dtype": "BF16",
        "shape": [pad // 2],
        "data_offsets": [offset, offset + pad],
    }
    offset += pad
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(struct.pack("<Q", len(raw)) + raw)
        handle.write(b"\x80\x3f")  # bf16 1.0
        block = rng.randbytes(1 << 16)
        left = offset - 2
        while left > 0:
            piece = block[: min(left, len(block))]
            handle.write(piece)
            left -= len(piece)


# -- validation --------------------------------------------------------------------------------
def _error(kind: str, message: str, details: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": extra}


def validate_node_inputs(
    node_id: str,
    node: dict[str, Any],
    prompt: dict[str, Any],
    info: dict[str, Any],
    reject_inputs: dict[tuple[str, str], str],
) -> list[dict[str, Any]]:
    spec = info[node["class_type"]]["input"]
    inputs = node.get("inputs") or {}
    errors = []
    for section in ("required", "optional"):
        for name, item in (spec.get(section) or {}).items():
            if name not in inputs:
                if section == "required":
                    errors.append(
                        _error(
                            "required_input_missing",
                            "Required input is missing",
                            name,
                            {"input_name": name},
                        )
                    )
                continue
            value = inputs[name]
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                if value[0] not in prompt:
                    errors.append(
                        _error(
                            "exception_during_inner_validation",
                            "Exception when validating inner node",
                            f"'{value[0]}'",
                            {
                                "input_name": name,
                                "input_config": item,
                                "exception_message": f"'{value[0]}'",
                                "exception_type": "KeyError",
                                "traceback": [],
                                "linked_node": value,
                            },
                        )
                    )
                continue
            options = combo_options(item)
            if options is not None and value not in options:
                shown = str(options) if len(options) <= 20 else f"(list of length {len(options)})"
                errors.append(
                    _error(
                        "value_not_in_list",
                        "Value not in list",
                        f"{name}: '{value}' not in {shown}",
                        {
                            "input_name": name,
                            "input_config": item if len(options) <= 20 else None,
                            "received_value": value,
                        },
                    )
                )
                continue
            opts = item[1] if len(item) > 1 and isinstance(item[1], dict) else {}
            if isinstance(value, int | float) and not isinstance(value, bool):
                if "min" in opts and value < opts["min"]:
                    errors.append(
                        _error(
                            "value_smaller_than_min",
                            f"Value {value} smaller than min of {opts['min']}",
                            name,
                            {"input_name": name, "input_config": item, "received_value": value},
                        )
                    )
                if "max" in opts and value > opts["max"]:
                    errors.append(
                        _error(
                            "value_bigger_than_max",
                            f"Value {value} bigger than max of {opts['max']}",
                            name,
                            {"input_name": name, "input_config": item, "received_value": value},
                        )
                    )
            reason = reject_inputs.get((node["class_type"], name))
            if reason:
                errors.append(
                    _error(
                        "custom_validation_failed",
                        "Custom validation failed for node",
                        f"{name} - {reason}",
                        {"input_name": name, "input_config": item, "received_value": value},
                    )
                )
    return errors


def upstream(prompt: dict[str, Any], node_id: str, seen: set[str] | None = None) -> list[str]:
    """`node_id` and every node it depends on, dependencies first."""
    seen = set() if seen is None else seen
    order: list[str] = []
    if node_id in seen or node_id not in prompt:
        return order
    seen.add(node_id)
    for value in (prompt[node_id].get("inputs") or {}).values():
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
            order.extend(upstream(prompt, value[0], seen))
    order.append(node_id)
    return order


def validate_prompt(
    body: Any, info: dict[str, Any], reject_inputs: dict[tuple[str, str], str]
) -> tuple[int, dict[str, Any], list[str]]:
    """(status, reply body, outputs to execute) for a `POST /prompt` body."""
    if not isinstance(body, dict) or "prompt" not in body:
        return (
            400,
            {
                "error": _error("no_prompt", "No prompt provided", "No prompt provided", {}),
                "node_errors": {},
            },
            [],
        )
    prompt = body["prompt"]
    for node_id, node in prompt.items():
        class_type = node.get("class_type") if isinstance(node, dict) else None
        if class_type not in info:
            return (
                400,
                {
                    "error": _error(
                        "invalid_prompt",
                        f"Cannot execute because node {class_type} does not exist.",
                        f"Node ID '#{node_id}'",
                        {},
                    ),
                    "node_errors": {},
                },
                [],
            )
    outputs = [nid for nid, node in prompt.items() if info[node["class_type"]].get("output_node")]
    if not outputs:
        return (
            400,
            {
                "error": _error("prompt_no_outputs", "Prompt has no outputs", "", {}),
                "node_errors": {},
            },
            [],
        )
    node_errors: dict[str, Any] = {}
    good = []
    for output in outputs:
        failed = False
        for node_id in upstream(prompt, output):
            errors = validate_node_inputs(node_id, prompt[node_id], prompt, info, reject_inputs)
            if errors:
                failed = True
                entry = node_errors.setdefault(
                    node_id,
                    {
                        "errors": errors,
                        "dependent_outputs": [],
                        "class_type": prompt[node_id]["class_type"],
                    },
                )
                if output not in entry["dependent_outputs"]:
                    entry["dependent_outputs"].append(output)
        if not failed:
            good.append(output)
    if not good:
        return (
            400,
            {
                "error": _error(
                    "prompt_outputs_failed_validation", "Prompt outputs failed validation", "", {}
                ),
                "node_errors": node_errors,
            },
            [],
        )
    return 200, {"node_errors": node_errors}, good


def signature(prompt: dict[str, Any], node_id: str) -> str:
    """A cache key covering the node and everything upstream (like ComfyUI's input signature)."""
    parts = []
    for nid in upstream(prompt, node_id):
        node = prompt[nid]
        inputs = {
            k: (["link", v[1]] if isinstance(v, list) and len(v) == 2 else v)
            for k, v in sorted((node.get("inputs") or {}).items())
        }
        parts.append(json.dumps([node["class_type"], inputs], sort_keys=True))
    return "|".join(parts)


def image_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp")
    )


def read_sizes(paths: Iterable[Path]) -> list[tuple[int, int]]:
    from PIL import Image

    sizes = []
    for path in paths:
        with Image.open(path) as image:
            sizes.append(image.size)
    return sizes
