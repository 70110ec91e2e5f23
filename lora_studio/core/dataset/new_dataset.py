"""Core/dataset: starting a dataset — a new named folder under the artist's datasets location, or
a copy of a folder of pictures made into one.

"Copy into a new dataset" keeps the source's layout (kohya `10_ohwx` folders and their captions)
and copies only pictures, videos and captions; hidden folders (another tool's sidecar) stay
behind. The copy is made in a hidden `.name.partial` folder and renamed at the end, so a cancel,
a full disk or a crash never leaves a half dataset under the real name. The source is only read.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from lora_studio.core.dataset.concurrency import CancelToken, ProgressCallback, is_cancelled, report
from lora_studio.core.dataset.formats import is_caption_name, is_image_name, is_video_name
from lora_studio.core.errors import DatasetError

_FORBIDDEN = set('/\\:*?"<>|')


def check_dataset_name(name: str) -> str:
    """The cleaned name of a new dataset, or DatasetError saying what is wrong with it."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise DatasetError("Give the new dataset a name, for example the character or style.")
    if cleaned.startswith(".") or any(ch in _FORBIDDEN for ch in cleaned):
        raise DatasetError(
            f'“{cleaned}” cannot be a folder name: leave out / \\ : * ? " < > | and a leading dot.'
        )
    if len(cleaned) > 100:
        raise DatasetError("Keep the dataset name under 100 characters.")
    return cleaned


def unique_dataset_dir(parent: Path, name: str) -> Path:
    """`parent/name`, or `parent/name 2`, `name 3`, … when that exists already."""
    candidate = parent / name
    number = 2
    while candidate.exists() or (parent / f".{candidate.name}.partial").exists():
        candidate = parent / f"{name} {number}"
        number += 1
    return candidate


def create_dataset(parent: Path, name: str) -> Path:
    """Create the empty folder of a new dataset under `parent` (made if missing)."""
    folder = parent / check_dataset_name(name)
    if folder.exists():
        raise DatasetError(
            f"A dataset named “{folder.name}” already exists in {parent}. Choose another name "
            "or open that one (Open folder…)."
        )
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        raise DatasetError(
            f"Could not create the folder {folder}: {exc.strerror or exc}. Check that the "
            "datasets location in Settings exists and is writable.",
            detail=repr(exc),
        ) from exc
    return folder


@dataclass(frozen=True)
class CopiedDataset:
    folder: Path  # the new dataset
    copied: int  # pictures and videos copied (captions not counted)
    cancelled: bool = False


def copy_as_dataset(
    source: Path,
    parent: Path,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> CopiedDataset:
    """Copy the pictures, videos and captions of `source` into a new dataset under `parent`,
    named after the source (made unique). A cancel removes the partial copy."""
    source = source.absolute()
    if not source.is_dir():
        raise DatasetError(f"{source} is not a folder; drop a folder to copy it as a dataset.")
    files = _dataset_files(source)
    parent.mkdir(parents=True, exist_ok=True)
    target = unique_dataset_dir(parent, check_dataset_name(source.name or "dataset"))
    partial = parent / f".{target.name}.partial"
    copied = 0
    try:
        for done, path in enumerate(files, start=1):
            if is_cancelled(cancel):
                shutil.rmtree(partial, ignore_errors=True)
                return CopiedDataset(target, copied, cancelled=True)
            destination = partial / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
            copied += 0 if is_caption_name(path.name) else 1
            report(progress, done, len(files))
        partial.mkdir(parents=True, exist_ok=True)  # an empty source still gives a dataset
        os.replace(partial, target)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise DatasetError(
            f"Could not copy {source} into {parent}: {exc.strerror or exc}. Nothing was changed "
            "in the original folder; free some space or choose another datasets location.",
            detail=repr(exc),
        ) from exc
    return CopiedDataset(target, copied)


def _dataset_files(source: Path) -> list[Path]:
    found: list[Path] = []
    for current, dirnames, filenames in os.walk(source):
        base = Path(current)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and not (base / d).is_symlink()
        )
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if is_image_name(name) or is_video_name(name) or is_caption_name(name):
                found.append(base / name)
    return found
