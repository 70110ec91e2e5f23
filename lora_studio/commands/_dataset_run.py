"""Shared by `doctor`, `import`, `prepare`, `train` and `estimate`: check the dataset folder
argument, run a long, cancellable dataset operation with a progress line, turning its failures
into exit codes, and say which pictures a training leaves out."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from lora_studio.commands._command import EXIT_FAILED, EXIT_USAGE, CommandExit, usage_error
from lora_studio.core.dataset import CancelToken
from lora_studio.core.dataset.concurrency import TextProgress
from lora_studio.core.errors import DatasetError, LoraStudioError
from lora_studio.core.training.dataset_input import TrainingDataset, left_out_notice

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


def left_out_warnings(dataset: TrainingDataset) -> list[str]:
    """'warning: …' lines for the pictures a training leaves out (they do not decode): one
    summary naming them with what to do (the same sentence the Train wizard shows, with the
    command instead of the Dataset page), then the reason of each; [] when every one is used."""
    remedy = (
        f"Run `lora-studio doctor {dataset.folder}` to see why, then replace them with good "
        "copies or remove them."
    )
    notice = left_out_notice(dataset, remedy)
    if not notice:
        return []
    return [f"warning: {notice}", *(f"warning:   {reason}" for reason in dataset.skipped)]
