"""What every sub-command shares: the exit codes, a way to stop with one from deep inside, the
`--json` flag, and output (text or JSON) that a console which cannot encode a character does not
crash.

Exit codes (README): 0 success, 1 the command failed (message on stderr), 2 bad usage or invalid
input, 130 stopped with Ctrl-C. A command's `run(args) -> int` is wrapped in `@exits`, so a helper anywhere below it can
`raise usage_error("…")` or `raise failure("…")` instead of threading a code back up.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130

Run = Callable[[argparse.Namespace], int]


class CommandExit(Exception):  # noqa: N818 - control flow like SystemExit, not an error
    """Stop the command with this exit code (the message was already printed)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def exits(run: Run) -> Run:
    """Decorate a command's `run`: a CommandExit raised inside becomes its exit code."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except CommandExit as stop:
            return stop.code

    return wrapper


def usage_error(message: str) -> CommandExit:
    """Print `message` on stderr; the CommandExit (code 2) to raise for bad input."""
    emit(message, sys.stderr)
    return CommandExit(EXIT_USAGE)


def failure(message: str) -> CommandExit:
    """Print `message` on stderr; the CommandExit (code 1) to raise for a failed command."""
    emit(message, sys.stderr)
    return CommandExit(EXIT_FAILED)


def add_json_flag(parser: argparse.ArgumentParser, help: str = "print the result as JSON") -> None:
    parser.add_argument("--json", action="store_true", help=help)


def emit(text: str, stream: TextIO | None = None) -> None:
    """Print `text` (stdout by default); characters the console cannot encode become '?'."""
    stream = sys.stdout if stream is None else stream
    try:
        print(text, file=stream)
    except UnicodeEncodeError:
        # A console that cannot encode a tag name (cp1252 on Windows) must not crash the command.
        encoding = getattr(stream, "encoding", None) or "ascii"
        print(text.encode(encoding, errors="replace").decode(encoding), file=stream)


def to_json(payload: Any) -> str:
    """The `--json` form of a command's result: indented, non-ASCII kept as is (UTF-8)."""
    return json.dumps(payload, indent=2, ensure_ascii=False)


def print_json(payload: Any) -> None:
    """Print `to_json(payload)`; on a console that cannot encode it, the same JSON \\u-escaped."""
    try:
        print(to_json(payload))
    except UnicodeEncodeError:
        print(json.dumps(payload, indent=2))
