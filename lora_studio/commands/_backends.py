"""Shared by `train` and `jobs`: build a training backend from Settings plus command-line options.

The kinds come from `core.backends.registry`; each kind's configured settings (Settings →
Backends, `settings.json`) are the starting point and the options given here override them.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from lora_studio import paths
from lora_studio.core.backends.base import TrainingBackend
from lora_studio.core.backends.registry import backend_kinds, kind_names
from lora_studio.core.config.settings import load_settings
from lora_studio.core.errors import ConfigError
from lora_studio.local_backends import build_local_backend


def add_backend_options(parser: argparse.ArgumentParser, *, kind_required: bool) -> None:
    titles = ", ".join(f"{entry.kind} ({entry.title})" for entry in backend_kinds())
    parser.add_argument(
        "--backend",
        required=kind_required,
        choices=kind_names(),
        help=f"where to train: {titles}",
    )
    parser.add_argument(
        "--backend-name",
        metavar="NAME",
        help="which configured backend of that kind to use, by its name in settings.json "
        "(default: the first one)",
    )
    parser.add_argument(
        "--url",
        metavar="URL",
        help="server address (ComfyUI default: http://127.0.0.1:8188; Replicate: its API base "
        "including /v1, default https://api.replicate.com/v1)",
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
    parser.add_argument(
        "--create-destination",
        action="store_true",
        help="Replicate: create the destination model (private) if it does not exist yet",
    )
    parser.add_argument(
        "--trainer",
        metavar="OWNER/MODEL",
        help="Replicate: the trainer model (default: ostris/flux-dev-lora-trainer)",
    )
    parser.add_argument(
        "--sd-scripts", metavar="DIR", help="kohya: the sd-scripts folder (holds train_network.py)"
    )
    parser.add_argument(
        "--python", metavar="EXE", help="kohya: the Python that runs sd-scripts (default: its venv)"
    )
    parser.add_argument(
        "--trainer-arg",
        dest="trainer_args",
        action="append",
        default=[],
        metavar="ARG",
        help="kohya: a raw argument passed through to the trainer, e.g. "
        "--trainer-arg=--tokenizer_cache_dir=/models/tokenizers (repeatable)",
    )


def configured(kind: str, name: str | None = None) -> dict[str, Any]:
    """The settings of the configured backend of `kind` called `name` (default: the first one,
    or that kind's defaults). ConfigError names the configured ones when `name` is unknown."""
    settings = load_settings(paths.config_dir())
    if not name:
        return settings.backend_of_kind(kind)
    same_kind = [b for b in settings.backends if b.get("kind") == kind]
    for entry in same_kind:
        if (entry.get("name") or kind) == name:
            return dict(entry)
    known = ", ".join(str(b.get("name") or kind) for b in same_kind) or "none"
    raise ConfigError(
        f"No {kind} backend called “{name}” is configured (configured: {known}). Names are set "
        "in settings.json under “backends”."
    )


def backend_settings(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    settings = configured(kind, getattr(args, "backend_name", None))
    if kind == "comfyui":
        if args.url:
            settings["url"] = args.url
        if args.allow_insecure_http:
            settings["allow_insecure_http"] = True
        headers = dict(h.split("=", 1) for h in args.headers if "=" in h)
        if headers:
            settings["extra_headers"] = {**settings.get("extra_headers", {}), **headers}
        options: dict[str, Any] = dict(settings.get("options") or {})
        if getattr(args, "single_prompt", False):
            options["chunked"] = False
        if getattr(args, "chunk_steps", None):
            # Asking for a chunk size means asking for chunked training, however short the job.
            options["chunked"] = True
            options["chunk_steps"] = args.chunk_steps
        settings["options"] = options
    elif kind == "replicate":
        # The token is not an option: REPLICATE_API_TOKEN or the keychain (Settings).
        if args.url:
            settings["url"] = args.url
        if args.allow_insecure_http:
            settings["allow_insecure_http"] = True
        if getattr(args, "destination", None):
            settings["destination"] = args.destination
        if getattr(args, "create_destination", False):
            settings["create_destination"] = True
        if getattr(args, "trainer", None):
            settings["trainer"] = args.trainer
    elif kind == "kohya":
        # Paths as typed are relative to where the command runs; the trainer runs elsewhere.
        if getattr(args, "sd_scripts", None):
            settings["sd_scripts"] = os.path.abspath(os.path.expanduser(args.sd_scripts))
        if getattr(args, "python", None):
            settings["python"] = _program_path(args.python)
        extra = list(getattr(args, "trainer_args", []) or [])
        if extra:
            settings["trainer_args"] = [*settings.get("trainer_args", []), *extra]
    return settings


def _program_path(program: str) -> str:
    """An interpreter given as a path ("venv/bin/python", "~/kohya/python") made absolute; a bare
    name ("python3") is left for PATH to find."""
    program = os.path.expanduser(program)
    if os.sep in program or (os.altsep and os.altsep in program):
        return os.path.abspath(program)
    return program


def make_backend(args: argparse.Namespace, kind: str) -> TrainingBackend:
    """Raises ConfigError (unknown kind, bad header, invalid settings) with a readable message."""
    return build_local_backend(backend_settings(args, kind))
