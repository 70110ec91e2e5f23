"""Test fake: execute one queued prompt on the fake ComfyUI, emitting the recorded event order.

Order per `ws_train_success.jsonl`: status → execution_start → execution_cached → per node
progress_state(running) + executing [+ console lines] + progress_state(finished) [+ executed]
→ execution_success | execution_error | execution_interrupted → (history written) → status →
executing {node: null}. The interrupt flag is only checked *before* a node, so a running
TrainLoraNode always runs to its end (ws_train_interrupted.jsonl).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import random
import time
from typing import TYPE_CHECKING, Any

from . import fake_comfyui_engine as engine

if TYPE_CHECKING:
    from .fake_comfyui import FakeComfyUI


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


def _state(pid: str, nid: str, state: str) -> dict[str, Any]:
    return {
        "value": 1.0 if state == "finished" else 0.0,
        "max": 1.0,
        "state": state,
        "node_id": nid,
        "prompt_id": pid,
        "display_node_id": nid,
        "parent_node_id": None,
        "real_node_id": nid,
    }


async def execute(fake: FakeComfyUI, item: dict[str, Any]) -> None:
    from .fake_comfyui import NodeFailureError, NodeInterruptedError

    pid, prompt = item["prompt_id"], item["prompt"]
    cid = item["extra_data"].get("client_id")
    info = fake.object_info()
    began = time.monotonic()
    messages: list[list[Any]] = []

    async def emit(kind: str, data: dict[str, Any], record: bool = False) -> None:
        await fake.send(cid, kind, data)
        if record:
            messages.append([kind, data])

    await fake.broadcast_status()
    await emit("execution_start", {"prompt_id": pid, "timestamp": fake.now_ms()}, True)
    order: list[str] = []
    for output in item["outputs"]:
        order.extend(n for n in engine.upstream(prompt, output) if n not in order)
    signatures = {nid: engine.signature(prompt, nid) for nid in order}
    cached = [nid for nid in order if signatures[nid] in fake.cache]
    await emit(
        "execution_cached", {"nodes": cached, "prompt_id": pid, "timestamp": fake.now_ms()}, True
    )
    values: dict[str, list[Any]] = {}
    ui: dict[str, Any] = {}
    states: dict[str, dict[str, Any]] = {}
    executed: list[str] = []
    new_cache: dict[str, tuple[list[Any], Any]] = {}
    status_str = "success"
    try:
        for nid in order:
            is_output = bool(info[prompt[nid]["class_type"]].get("output_node"))
            if nid in cached:
                values[nid], cached_ui = fake.cache[signatures[nid]]
                new_cache[signatures[nid]] = (values[nid], cached_ui)
                if is_output:
                    await emit(
                        "executed",
                        {"node": nid, "display_node": nid, "output": cached_ui, "prompt_id": pid},
                    )
                    states[nid] = _state(pid, nid, "finished")
                    await emit("progress_state", {"prompt_id": pid, "nodes": dict(states)})
                    if cached_ui:
                        ui[nid] = cached_ui
                continue
            if fake.interrupt_requested:
                raise NodeInterruptedError(nid)
            states[nid] = _state(pid, nid, "running")
            await emit("progress_state", {"prompt_id": pid, "nodes": dict(states)})
            await emit("executing", {"node": nid, "display_node": nid, "prompt_id": pid})
            try:
                values[nid], node_ui = await run_node(fake, item, nid, values)
            except (NodeInterruptedError, asyncio.CancelledError):
                raise
            except Exception as exc:
                raise NodeFailureError(nid, exc) from exc
            states[nid] = _state(pid, nid, "finished")
            await emit("progress_state", {"prompt_id": pid, "nodes": dict(states)})
            new_cache[signatures[nid]] = (values[nid], node_ui)
            executed.append(nid)
            if node_ui is not None:
                ui[nid] = node_ui
                await emit(
                    "executed",
                    {"node": nid, "display_node": nid, "output": node_ui, "prompt_id": pid},
                )
        await emit("execution_success", {"prompt_id": pid, "timestamp": fake.now_ms()}, True)
    except NodeInterruptedError as stop:
        status_str = "error"
        await emit(
            "execution_interrupted",
            {
                "prompt_id": pid,
                "node_id": stop.node_id,
                "node_type": prompt[stop.node_id]["class_type"],
                "executed": executed,
                "timestamp": fake.now_ms(),
            },
            True,
        )
    except NodeFailureError as failure:
        status_str = "error"
        node = prompt[failure.node_id]
        await emit(
            "execution_error",
            {
                "prompt_id": pid,
                "node_id": failure.node_id,
                "node_type": node["class_type"],
                "executed": executed,
                "exception_message": f"{failure.exc}\n",
                "exception_type": type(failure.exc).__name__,
                "traceback": ['  File "/opt/ComfyUI/execution.py", line 496, in execute\n'],
                "current_inputs": {k: [repr(v)] for k, v in node["inputs"].items()},
                "current_outputs": executed,
                "timestamp": fake.now_ms(),
            },
            True,
        )
    fake.cache = new_cache  # "classic" cache: what the last prompt computed
    fake.history[pid] = {
        "prompt": [item["number"], pid, prompt, item["extra_data"], item["outputs"]],
        "outputs": ui,
        "status": {
            "status_str": status_str,
            "completed": status_str == "success",
            "messages": messages,
        },
        "meta": {
            nid: {"node_id": nid, "display_node": nid, "parent_node": None, "real_node_id": nid}
            for nid in ui
        },
    }
    fake.running = None
    await fake.broadcast_status()
    await emit("executing", {"node": None, "prompt_id": pid})
    await fake.console(f"Prompt executed in {time.monotonic() - began:.2f} seconds\n")


async def run_node(
    fake: FakeComfyUI, item: dict[str, Any], nid: str, values: dict[str, list[Any]]
) -> tuple[list[Any], Any]:
    from .fake_comfyui import CONSOLE

    node = item["prompt"][nid]
    kind = node["class_type"]
    inputs = {k: (values[v[0]][v[1]] if _is_link(v) else v) for k, v in node["inputs"].items()}
    console_kind = "LoadImageTextSetFromFolderNode" if kind.startswith("LoadImage") else kind
    for line in CONSOLE.get(console_kind, []):
        await fake.console(line)
    await asyncio.sleep(fake.node_delay)
    if kind in fake.faults.raise_in_node:  # e.g. ("OutOfMemoryError", "CUDA out of memory")
        name, message = fake.faults.raise_in_node[kind]
        raise type(name, (RuntimeError,), {})(message)
    if kind == "CheckpointLoaderSimple":
        return ["model", "clip", "vae"], None
    if kind in ("LoadImageTextSetFromFolderNode", "LoadImageTextDataSetFromFolder"):
        folder = fake.input_dir / inputs["folder"]
        files = engine.image_files(folder)
        if not files:
            raise ValueError("No valid images found in input")
        captions = []
        for path in files:
            caption_path = path.with_suffix(".txt")
            captions.append(
                caption_path.read_text(encoding="utf-8").strip() if caption_path.exists() else ""
            )
        if kind == "LoadImageTextDataSetFromFolder":
            return [len(files), captions], None
        if inputs.get("resize_method", "None") == "None" and len(set(engine.read_sizes(files))) > 1:
            raise ValueError(
                "Your input image size does not match the first image in the "
                "dataset. Either select a valid resize method or use the same size "
                "for all images."
            )
        # An image without caption yields two conditionings (code-derived quirk, §2.1).
        return [len(files), sum(1 if c else 2 for c in captions)], None
    if kind == "CLIPTextEncode":
        text = inputs["text"]
        return [len(text) if isinstance(text, list) else 1], None
    if kind == "VAEEncode":
        return [inputs["pixels"]], None
    if kind == "TrainLoraNode":
        return await _train(fake, item, nid, inputs), None
    if kind in ("SaveLoRANode", "SaveLoRA"):
        await _save(fake, inputs)
        return [], None
    if kind == "LossGraphNode":
        losses = inputs["loss"]["loss"]
        low, high = min(losses), max(losses)
        _ = [(v - low) / (high - low) for v in losses]  # raises ZeroDivisionError on 1 step
        name = f"{inputs['filename_prefix']}_{datetime.datetime.now():%Y%m%d_%H%M%S}.png"
        (fake.temp_dir / name).write_bytes(b"\x89PNG\r\n\x1a\n")
        return [], {"images": [{"filename": name, "subfolder": "", "type": "temp"}]}
    if kind == "PreviewAny":
        return [], {"text": [json.dumps(inputs["source"])]}
    if kind in _INFERENCE:
        return await _INFERENCE[kind](fake, item, nid, inputs)
    raise RuntimeError(f"The fake cannot execute {kind}")


# -- inference (ws_infer_with_trained_lora.jsonl): a PNG whose colour depends on everything
# upstream of the sampler (prompt, seed, LoRA and its strength), so tests can tell renders apart.


async def _lora_loader(
    fake: FakeComfyUI, item: dict[str, Any], nid: str, inputs: dict[str, Any]
) -> tuple[list[Any], Any]:
    name = inputs["lora_name"]
    if not (fake.output_dir / "loras" / name).exists():
        raise FileNotFoundError(f"Model in folder 'loras' with filename '{name}' not found.")
    return [f"{inputs['model']}+{name}@{inputs['strength_model']}"], None


async def _empty_latent(
    fake: FakeComfyUI, item: dict[str, Any], nid: str, inputs: dict[str, Any]
) -> tuple[list[Any], Any]:
    return [(inputs["width"], inputs["height"])], None


async def _ksampler(
    fake: FakeComfyUI, item: dict[str, Any], nid: str, inputs: dict[str, Any]
) -> tuple[list[Any], Any]:
    pid, cid = item["prompt_id"], item["extra_data"].get("client_id")
    steps = int(inputs["steps"])
    for step in range(1, steps + 1):  # real `progress` events, as the recording shows
        await asyncio.sleep(1 / fake.steps_per_second)
        await fake.send(
            cid, "progress", {"value": step, "max": steps, "prompt_id": pid, "node": nid}
        )
    key = engine.signature(item["prompt"], nid)
    return [(inputs["latent_image"], key)], None


async def _vae_decode(
    fake: FakeComfyUI, item: dict[str, Any], nid: str, inputs: dict[str, Any]
) -> tuple[list[Any], Any]:
    return [inputs["samples"]], None


async def _save_image(
    fake: FakeComfyUI, item: dict[str, Any], nid: str, inputs: dict[str, Any]
) -> tuple[list[Any], Any]:
    import hashlib

    from PIL import Image

    (width, height), key = inputs["images"]
    sub, _, base = str(inputs["filename_prefix"]).rpartition("/")
    folder = fake.output_dir / sub
    folder.mkdir(parents=True, exist_ok=True)
    counter = 1 + len(list(folder.glob(f"{base}_*_.png")))
    name = f"{base}_{counter:05}_.png"
    colour = tuple(hashlib.sha256(key.encode()).digest()[:3])
    await asyncio.to_thread(Image.new("RGB", (width, height), colour).save, folder / name)
    return [], {"images": [{"filename": name, "subfolder": sub, "type": "output"}]}


_INFERENCE = {
    "LoraLoaderModelOnly": _lora_loader,
    "EmptyLatentImage": _empty_latent,
    "KSampler": _ksampler,
    "VAEDecode": _vae_decode,
    "SaveImage": _save_image,
}


async def _train(
    fake: FakeComfyUI, item: dict[str, Any], nid: str, inputs: dict[str, Any]
) -> list[Any]:
    pid, cid = item["prompt_id"], item["extra_data"].get("client_id")
    latents, conds = inputs["latents"], inputs["positive"]
    if conds != 1 and conds != latents:
        raise ValueError(
            f"Number of positive conditions ({conds}) does not match number of images ({latents})."
        )
    existing, existing_steps = inputs.get("existing_lora", "[None]"), 0
    if existing != "[None]":
        if not (fake.output_dir / "loras" / existing).exists():
            raise FileNotFoundError(
                f"Model in folder 'loras' with filename '{existing}' not found."
            )
        existing_steps = int(existing.split("_steps_")[0].split("_")[-1])
    steps, acc = inputs["steps"], inputs["grad_accumulation_steps"]
    total = steps * acc
    rng = random.Random(inputs["seed"])
    progress_on = fake.faults.progress_events
    if progress_on is None:
        progress_on = fake.node_set == "newer"
    began = time.monotonic()
    await fake.console(engine.tqdm_line(0, total, 0.0, None))
    losses: list[float] = []
    for i in range(total):
        await asyncio.sleep(1 / fake.steps_per_second)
        loss = round(abs(rng.gauss(0.12, 0.05)) + 0.005, 6)
        losses.append(loss)
        elapsed = time.monotonic() - began
        await fake.console(engine.tqdm_line(i, total, elapsed, loss))
        fake.bar_sent[(pid, i + 1)] = time.monotonic()  # before sending: the client may be quick
        await fake.console(engine.tqdm_line(i + 1, total, elapsed, loss))
        if (i + 1) % acc:
            continue
        step = (i + 1) // acc
        overall = existing_steps + step
        if progress_on:
            await fake.send(
                cid, "progress", {"value": step, "max": steps, "prompt_id": pid, "node": nid}
            )
        faults = fake.faults
        if faults.drop_ws_at_step == overall:
            faults.drop_ws_at_step = None
            await fake._drop_websockets()
        for attribute, action in (
            ("die_at_step", fake._die),
            ("restart_at_step", fake.restart_inside),
        ):
            if getattr(faults, attribute) == overall:
                setattr(faults, attribute, None)
                fake.trigger(action)
                await asyncio.sleep(3600)  # cancelled by the die
    await fake.console("")
    lora = {"rank": inputs["rank"], "seed": inputs["seed"]}
    return ["model_with_lora", lora, {"loss": losses}, steps + existing_steps]


async def _save(fake: FakeComfyUI, inputs: dict[str, Any]) -> None:
    prefix, steps = inputs["prefix"], inputs.get("steps")
    sub, _, base = prefix.rpartition("/")
    folder = fake.output_dir / sub
    counter = engine.next_counter(folder, base)
    name = (
        f"{base}_{steps}_steps_{counter:05}_.safetensors"
        if steps is not None
        else f"{base}_{counter:05}_.safetensors"
    )
    lora = inputs["lora"]
    path = folder / name
    await asyncio.to_thread(
        engine.write_lora_file, path, lora["rank"], fake.lora_bytes, lora["seed"]
    )
    if fake.faults.corrupt_saved_files:
        with path.open("r+b") as handle:
            handle.truncate(path.stat().st_size // 2)
