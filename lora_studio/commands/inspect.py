"""Command `lora-studio inspect FILE.safetensors [--json]`: what a LoRA file contains.

Headless wrapper over `core.weights.inspect_lora`. Human output is a short block (family, rank,
alpha, scale, base model, sizes) followed by the metadata with long JSON-in-string values
summarised; `--json` prints everything, raw metadata included. Exit codes: 0 inspected, 1 the file
is corrupt/truncated/not safetensors (message on stderr), 2 the path is missing or a folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lora_studio.commands._command import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_json_flag,
    emit,
    print_json,
)
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.weights import LoraInfo, Spread, inspect_lora, summarize_metadata_value

_KEY_WIDTH_CAP = 40


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="show what a LoRA .safetensors file contains",
        description="Check a .safetensors file (truncated or damaged downloads are reported) and "
        "show its LoRA family, rank, alpha, scale, base model, size and metadata.",
    )
    parser.add_argument("file", type=Path, metavar="FILE.safetensors", help="the file to inspect")
    add_json_flag(parser, "print everything as JSON, raw metadata included")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.exists():
        emit(f"{path} does not exist. Check the path.", sys.stderr)
        return EXIT_USAGE
    if path.is_dir():
        emit(f"{path} is a folder; give the .safetensors file inside it.", sys.stderr)
        return EXIT_USAGE
    try:
        info = inspect_lora(path)
    except LoraStudioError as exc:
        emit(exc.user_message, sys.stderr)
        return EXIT_FAILED
    if args.json:
        print_json(info.to_dict())
    else:
        emit(format_info(info))
    return EXIT_OK


def format_info(info: LoraInfo) -> str:
    """The human-readable block printed without --json."""
    rows: list[tuple[str, str]] = [
        ("File", f"{info.path.name}  ({_size(info.file_size)}, header {_size(info.header_size)})"),
    ]
    if info.is_lora:
        rows.append(("Kind", f"{info.algorithm} — {info.family.label}"))
    else:
        rows.append(("Kind", "not recognised as a LoRA (no LoRA tensor names found)"))
    base = info.base_model.label
    if info.base_model_source != "none":
        base += f"  (from {info.base_model_source}: {info.base_model_evidence})"
    rows.append(("Base model", base))
    if info.is_lora:
        rows.append(("Rank", _spread(info.rank)))
        alpha = _spread(info.alpha)
        if info.alpha_source != "tensors" and info.alpha is not None:
            alpha += "  (none stored: alpha = rank)"
        rows.append(("Alpha", alpha))
        rows.append(("Scale", _spread(info.scale) + "  (alpha / rank)"))
        text_encoder = info.text_encoder_module_count
        rows.append(
            (
                "Modules",
                f"{info.module_count:,}  ({info.module_count - text_encoder:,} diffusion model, "
                f"{text_encoder:,} text encoder)",
            )
        )
    rows.append(("Tensors", f"{info.tensor_count:,}"))
    rows.append(("Parameters", f"{info.parameter_count:,}"))
    rows.append(("Dtypes", ", ".join(f"{dtype} ({n:,})" for dtype, n in info.dtypes.items())))

    lines = [f"{name:<12} {value}" for name, value in rows]
    lines.append("")
    if not info.metadata:
        lines.append("Metadata     none")
        return "\n".join(lines)
    lines.append(f"Metadata ({len(info.metadata)} keys)")
    width = min(max(len(key) for key in info.metadata), _KEY_WIDTH_CAP)
    for key, value in info.metadata.items():
        lines.append(f"  {key:<{width}}  {summarize_metadata_value(key, value)}")
    return "\n".join(lines)


def _spread(spread: Spread | None) -> str:
    if spread is None:
        return "—"
    value = _number(spread.most_common)
    if not spread.varies:
        return value
    return f"{value}  (most modules; ranges {_number(spread.minimum)}–{_number(spread.maximum)})"


def _number(value: float) -> str:
    return str(value)


def _size(count: int) -> str:
    if count < 1024:
        return f"{count:,} bytes"
    size = count / 1024
    for unit in ("KB", "MB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
