"""Command line: no sub-command starts the GUI; sub-commands run headless on core/.

Sub-commands live in `lora_studio/commands/`, one module each, exposing
`register(subparsers) -> None` which adds a parser whose default `func(args) -> int` runs it.
Exit codes: 0 success, 1 the command failed (message on stderr), 2 bad usage or invalid input.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from lora_studio import __version__, paths
from lora_studio.commands._command import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK
from lora_studio.core.errors import LoraStudioError


def _discover_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    import lora_studio.commands as package

    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(subparsers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lora-studio",
        description="LoRA Studio: turn a folder of pictures into a trained LoRA. "
        "Without a command the desktop application starts.",
    )
    parser.add_argument("--version", action="version", version=f"LoRA Studio {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep all settings, job records, caches and logs under DIR "
        f"(same as the {paths.HOME_ENV} environment variable)",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="build the main window with every page offscreen, then exit (0 = healthy)",
    )
    parser.add_argument(
        "--screenshot-dir",
        metavar="DIR",
        type=Path,
        help="with --self-test: save one PNG per page of the main window into DIR",
    )
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    _discover_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.data_dir:
        paths.set_home(args.data_dir)
    if args.screenshot_dir and not args.self_test:
        parser.error("--screenshot-dir only works together with --self-test")
    if args.self_test:
        from lora_studio.self_test import self_test

        return self_test(args.screenshot_dir)
    if args.command:
        try:
            return int(args.func(args))
        except BrokenPipeError:
            # `lora-studio jobs --json | head`: the reader went away; that is not an error.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return EXIT_OK
        except KeyboardInterrupt:
            print("Interrupted.", file=sys.stderr)
            return EXIT_CANCELLED
        except LoraStudioError as exc:
            # Last line of defence: an expected failure a command did not catch (a read-only
            # LORA_STUDIO_HOME, a full disk under the job history) is a sentence, not a traceback.
            print(f"error: {exc.user_message}", file=sys.stderr)
            return EXIT_FAILED
    from lora_studio.app import run_gui

    return run_gui()


def gui_main() -> int:
    """Entry point of the `lora-studio-gui` script (no console window on Windows)."""
    return main(sys.argv[1:] or [])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
