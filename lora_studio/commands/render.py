"""Command `lora-studio render LORA.safetensors --backend comfyui --base-model NAME --prompt TEXT
[--prompt …] [--strength S] [--seed N] [--out DIR] [--json]`: test images with any LoRA file.

The same check the Jobs page's sample grid makes, for LoRAs trained anywhere: each prompt is
rendered on the ComfyUI server with the recorded inference graph (`core.backends.comfyui.render`).
The LoRA is uploaded into its `output/loras` first under a name made from its content (the
documented upload route; skipped when that name is listed already). A file over the server's upload
limit must be copied into `ComfyUI/models/loras` by hand — the message says so — and is then used
by its name. Images land in `--out` (default: `NAME_samples/` beside the LoRA).
Exit codes: 0 rendered, 1 the server or a render failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from lora_studio.commands._backends import add_backend_options, make_backend
from lora_studio.commands._command import (
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_json_flag,
)
from lora_studio.core.backends.comfyui.render import ComfyRenderer, RenderSettings
from lora_studio.core.errors import BackendError, ConfigError, LoraStudioError
from lora_studio.core.redact import redact


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render test images with a LoRA file on a ComfyUI server",
        description="Render each --prompt with LORA on a ComfyUI server (uploading the file "
        "when the server does not have it), into --out. The same seed and settings give "
        "comparable images, so LoRAs trained anywhere can be checked side by side.",
    )
    parser.add_argument("lora", type=Path, metavar="LORA.safetensors", help="the LoRA file")
    add_backend_options(parser, kind_required=True)
    parser.add_argument(
        "--base-model",
        required=True,
        metavar="NAME",
        help="checkpoint on the server to render with",
    )
    parser.add_argument(
        "--prompt",
        dest="prompts",
        action="append",
        required=True,
        metavar="TEXT",
        help="what to render (repeatable; one image each)",
    )
    parser.add_argument(
        "--strength", type=float, default=1.0, metavar="S", help="LoRA strength (default 1.0)"
    )
    parser.add_argument(
        "--seed", type=int, default=42, metavar="N", help="sampler seed (default 42)"
    )
    parser.add_argument(
        "--size", type=int, default=512, metavar="PX", help="image width and height (default 512)"
    )
    parser.add_argument(
        "--steps", type=int, default=20, metavar="N", help="sampler steps (default 20)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where the images go (default: NAME_samples/ beside the LoRA)",
    )
    add_json_flag(parser, "print JSON lines, one per image")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    lora: Path = args.lora
    if args.backend != "comfyui":
        _error(f"render works with ComfyUI servers only, not {args.backend}.")
        return EXIT_USAGE
    if not lora.is_file():
        _error(f"{lora} is not a file. Give the path of a .safetensors LoRA.")
        return EXIT_USAGE
    if not 64 <= args.size <= 4096 or args.size % 8 or not 1 <= args.steps <= 200:
        _error("--size must be a multiple of 8 from 64 to 4096 and --steps from 1 to 200.")
        return EXIT_USAGE
    try:
        backend = make_backend(args, "comfyui")
    except ConfigError as exc:
        _error(exc.user_message)
        return EXIT_USAGE
    try:
        return asyncio.run(_render(args, backend))
    except KeyboardInterrupt:
        _error("Interrupted; a render already queued may still run on the server.")
        return EXIT_CANCELLED


async def _render(args: argparse.Namespace, backend: Any) -> int:
    renderer: ComfyRenderer = backend.sample_renderer()
    lora: Path = args.lora
    out: Path = args.out or lora.parent / f"{lora.stem}_samples"
    settings = RenderSettings(
        base_model=args.base_model,
        width=args.size,
        height=args.size,
        steps=args.steps,
        seed=args.seed,
        strength=args.strength,
    )
    try:
        name = await _lora_on_server(renderer, lora, args.json)
        checkpoints = (await renderer.client.node_specs(["CheckpointLoaderSimple"])).get(
            "CheckpointLoaderSimple"
        )
        known = checkpoints.options("ckpt_name") if checkpoints is not None else ()
        if known and args.base_model not in known:
            _error(
                f"{renderer.client.where} has no checkpoint {args.base_model}. It has: "
                f"{', '.join(known[:10])}{' …' if len(known) > 10 else ''}."
            )
            return EXIT_FAILED
        for index, prompt in enumerate(args.prompts, start=1):
            dest = out / f"{lora.stem}_seed{args.seed}_p{index:02d}.png"
            prefix = f"lorastudio_render/{lora.stem}_p{index:02d}"
            path = await renderer.render(settings, prompt, name, dest, prefix)
            _emit(
                args.json,
                {"event": "sample", "prompt": prompt, "path": str(path)},
                f"Saved: {path}",
            )
    except LoraStudioError as exc:
        _error(exc.user_message)
        return EXIT_FAILED
    finally:
        await backend.aclose()
    return EXIT_OK


async def _lora_on_server(renderer: ComfyRenderer, lora: Path, as_json: bool) -> str:
    # The server lists LoRAs by file name only, so a different file of the same name (an earlier
    # upload, another run named alike) would be rendered instead of this one. Uploads are named
    # after their content (NAME-<sha256, 12 hex>.safetensors): a listed name is this very file.
    digest = await asyncio.to_thread(_sha256, lora)
    named = f"{lora.stem}-{digest[:12]}{lora.suffix}"
    listed = await renderer.loras()
    if named in listed:
        _emit(
            as_json,
            {"event": "found", "name": named},
            f"Using {named} already on {renderer.client.where} (this file, uploaded before).",
        )
        return named
    try:
        name = await renderer.upload_lora(lora, named)
    except BackendError:
        if lora.name not in listed:
            raise
        # Too big to upload, copied into models/loras by hand: only its name can be matched.
        _emit(
            as_json,
            {"event": "found", "name": lora.name, "verified": False},
            f"Using {lora.name} on {renderer.client.where}: it could not be uploaded, so the "
            "server's file of that name is used as it is (make sure it is the same file).",
        )
        return lora.name
    _emit(
        as_json,
        {"event": "uploaded", "name": name},
        f"Uploaded {lora.name} to {renderer.client.where} (output/loras/{name}).",
    )
    return name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    if as_json:
        print(redact(json.dumps(payload, ensure_ascii=False)), flush=True)
    else:
        print(redact(text), flush=True)


def _error(text: str) -> None:
    print(f"error: {redact(text)}", file=sys.stderr)
