"""Shared by `train` and `jobs`: build a training backend from command-line options."""

from __future__ import annotations

import argparse
from typing import Any

from lora_studio.core.backends.base import TrainingBackend
from lora_studio.core.backends.registry import build_backend
from lora_studio.core.config.settings import Settings

DEFAULT_URLS = {"comfyui": "http://127.0.0.1:8188"}


def add_backend_options(parser: argparse.ArgumentParser, *, kind_required: bool) -> None:
    parser.add_argument(
        "--backend",
        required=kind_required,
        choices=("comfyui", "replicate", "kohya"),
        help="where to train: a ComfyUI server, the Replicate cloud or a local kohya sd-scripts",
    )
    parser.add_argument(
        "--url", metavar="URL", help="server address (ComfyUI default: http://127.0.0.1:8188)"
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow plain http:// to a server that is not on this computer (not recommended)",
    )
    parser.add_argument(
        "--header",
        dest="headers",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra HTTP header for a proxy in front of the server (repeatable; no tokens here — "
        "use LORA_STUDIO_COMFYUI_TOKEN)",
    )


def backend_settings(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "kind": kind,
        "url": args.url or DEFAULT_URLS.get(kind, ""),
        "allow_insecure_http": bool(args.allow_insecure_http),
        "extra_headers": dict(h.split("=", 1) for h in args.headers if "=" in h),
    }
    options: dict[str, Any] = {}
    if getattr(args, "single_prompt", False):
        options["chunked"] = False
    if getattr(args, "chunk_steps", None):
        # Asking for a chunk size means asking for chunked training, however short the job.
        options["chunked"] = True
        options["chunk_steps"] = args.chunk_steps
    if options:
        settings["options"] = options
    return settings


def make_backend(args: argparse.Namespace, kind: str) -> TrainingBackend:
    """Raises ConfigError (unknown kind, bad header) with a readable message."""
    settings = backend_settings(args, kind)
    if kind == "comfyui":
        # A proxy token from LORA_STUDIO_COMFYUI_TOKEN or the keychain, when one is set.
        settings["token"] = Settings().backend_settings()[0]["token"]
    return build_backend(settings)
