"""Shared by `doctor`, `import` and `prepare`: check the dataset folder argument and run a long,
cancellable dataset operation with a progress line, turning its failures into exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from lora_studio.commands._command import EXIT_FAILED, EXIT_USAGE, CommandExit, usage_error
from lora_studio.core.dataset import CancelToken
from lora_studio.core.dataset.concurrency import TextProgress
from lora_studio.core.errors import DatasetError, LoraStudioError

T = TypeVar("T")


def require_dataset_dir(directory: Path) -> None:
    if not directory.is_dir():
        what = "is a file, not a folder" if directory.exists() else "does not exist"
        raise usage_error(f"{directory} {what}. Give the dataset folder.")


def run_with_progress(
    label: str,
    work: Callable[[CancelToken, TextProgress], T],
    *,
    cancelled_note: str,
    bad_input_is_usage_error: bool = True,
) -> T:
    """Run `work(cancel, progress)`; Ctrl-C cancels it cleanly. Raises CommandExit on failure.

    A DatasetError counts as bad input (exit 2) when `bad_input_is_usage_error`, any other
    LoraStudioError as a failed command (exit 1); the artist reads the error's own sentence.
    """
    progress = TextProgress(label, sys.stderr)
    cancel = CancelToken()
    try:
        result = work(cancel, progress)
    except KeyboardInterrupt:
        cancel.cancel()
        print(f"\n{cancelled_note}", file=sys.stderr)
        raise CommandExit(EXIT_FAILED) from None
    except LoraStudioError as exc:
        progress.finish()
        print(exc.user_message, file=sys.stderr)
        usage = bad_input_is_usage_error and isinstance(exc, DatasetError)
        raise CommandExit(EXIT_USAGE if usage else EXIT_FAILED) from None
    progress.finish()
    return result
