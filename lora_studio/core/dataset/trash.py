"""Core/dataset: the project trash — delete without losing anything, undo by restoring.

Each delete (or each destructive fix) is one batch:

    DATASET/.lorastudio/trash/<YYYYmmdd-HHMMSS-micro>/batch.json
    DATASET/.lorastudio/trash/<batch id>/files/<path relative to the dataset>

`move_to_trash` moves each picture together with its same-stem caption (same filesystem, so a
rename: instant and nothing is copied). Fixes that rewrite a picture first `keep_copy` the original
into a batch. `batch.json` is rewritten atomically after every move, so a crash or a failure halfway
still leaves a batch that restores what was moved. `restore` puts files back and refuses to
overwrite a file that exists again in the dataset (it says which; `overwrite=True` is for "revert
this fix"). The trash lives in the sidecar, so it never looks like a concept folder to trainers.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lora_studio.core.atomic_io import atomic_write_text
from lora_studio.core.dataset.captions import caption_path_for
from lora_studio.core.dataset.formats import is_caption_name
from lora_studio.core.dataset.sidecar import Sidecar
from lora_studio.core.errors import DatasetError, StorageError

BATCH_FILE = "batch.json"
_lock = threading.Lock()


@dataclass(frozen=True)
class TrashItem:
    original: str  # POSIX path relative to the dataset
    kind: str = "moved"  # "moved": deleted from the dataset; "copy": an original kept by a fix


@dataclass(frozen=True)
class TrashBatch:
    id: str
    created_at: str
    label: str
    items: tuple[TrashItem, ...]
    directory: Path

    def stored_path(self, item: TrashItem) -> Path:
        return self.directory / "files" / item.original


@dataclass(frozen=True)
class RestoreReport:
    restored: tuple[Path, ...]
    conflicts: tuple[tuple[Path, str], ...]  # (dataset path, sentence) left in the trash


class Trash:
    """The trash of one dataset. Methods are safe to call from worker threads."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self.sidecar = Sidecar(self.root)

    def move_to_trash(
        self, paths: Sequence[Path], *, with_captions: bool = True, label: str = "deleted"
    ) -> TrashBatch:
        """Move pictures (and their captions) into a new batch; StorageError names a failure."""
        batch = self.new_batch(label)
        for path in paths:
            if not os.path.lexists(path):
                continue  # already gone, e.g. a caption listed beside its picture
            targets = [Path(path)]
            if with_captions and not is_caption_name(Path(path).name):
                caption = caption_path_for(Path(path))
                if caption.exists():
                    targets.append(caption)
            for target in targets:
                if os.path.lexists(target):
                    batch = self._add(batch, target, copy=False)
        return batch

    def new_batch(self, label: str) -> TrashBatch:
        self.sidecar.ensure()
        while True:
            now = time.time()
            batch_id = (
                time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
                + f"-{int(now * 1e6) % 1_000_000:06d}"
            )
            directory = self.sidecar.trash_dir / batch_id
            try:
                directory.mkdir(parents=True)
                break
            except FileExistsError:
                time.sleep(0.000_01)
            except OSError as exc:
                raise _storage_error(exc, "create the trash in", self.root) from exc
        batch = TrashBatch(batch_id, time.strftime("%Y-%m-%dT%H:%M:%S"), label, (), directory)
        self._save(batch)
        return batch

    def keep_copy(self, batch: TrashBatch, path: Path) -> TrashBatch:
        """Copy `path` into `batch` before it is rewritten (a fix). Returns the updated batch."""
        return self._add(batch, Path(path), copy=True)

    def move_into(self, batch: TrashBatch, path: Path) -> TrashBatch:
        """Move one more file into an existing batch. Returns the updated batch."""
        return self._add(batch, Path(path), copy=False)

    def batches(self) -> list[TrashBatch]:
        """All batches, newest first; damaged batch files are skipped."""
        found: list[TrashBatch] = []
        try:
            directories = sorted(self.sidecar.trash_dir.iterdir(), reverse=True)
        except OSError:
            return found
        for directory in directories:
            batch = _load(directory)
            if batch is not None:
                found.append(batch)
        return found

    def get(self, batch_id: str) -> TrashBatch:
        batch = _load(self.sidecar.trash_dir / batch_id)
        if batch is None:
            raise DatasetError(f"The trash has no deletion {batch_id!r} any more.")
        return batch

    def restore(self, batch_id: str, *, overwrite: bool = False) -> RestoreReport:
        """Put a batch's files back; existing files are not overwritten unless asked."""
        batch = self.get(batch_id)
        restored: list[Path] = []
        conflicts: list[tuple[Path, str]] = []
        remaining: list[TrashItem] = []
        for index, item in enumerate(batch.items):
            source = batch.stored_path(item)
            target = self.root / item.original
            if not source.exists():
                continue  # recorded but never moved (a failure mid-way): nothing to restore
            if target.exists() and not overwrite:
                conflicts.append(
                    (
                        target,
                        f"{item.original} exists in the dataset again, so the deleted copy was "
                        "left in the trash. Rename or remove the existing file, then undo again.",
                    )
                )
                remaining.append(item)
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                _move(source, target)
            except OSError as exc:
                # Keep what is still in the trash restorable, then say which file failed.
                self._save(_with_items(batch, (*remaining, *batch.items[index:])))
                raise _storage_error(exc, "restore", target) from exc
            restored.append(target)
        if remaining:
            self._save(_with_items(batch, tuple(remaining)))
        else:
            shutil.rmtree(batch.directory, ignore_errors=True)
        return RestoreReport(tuple(restored), tuple(conflicts))

    def purge(self, batch_id: str) -> None:
        """Delete a batch for good."""
        shutil.rmtree(self.sidecar.trash_dir / batch_id, ignore_errors=True)

    def _add(self, batch: TrashBatch, path: Path, *, copy: bool) -> TrashBatch:
        path = path.absolute()
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            raise DatasetError(f"{path} is not inside the dataset {self.root}.") from None
        stored = batch.directory / "files" / relative
        try:
            stored.parent.mkdir(parents=True, exist_ok=True)
            if copy:
                shutil.copy2(path, stored)
            else:
                _move(path, stored)
        except OSError as exc:
            with contextlib.suppress(OSError):
                if copy:
                    stored.unlink()
            raise _storage_error(
                exc, "move to the trash" if not copy else "keep a copy of", path
            ) from exc
        updated = _with_items(
            batch, (*batch.items, TrashItem(relative, "copy" if copy else "moved"))
        )
        self._save(updated)
        return updated

    def _save(self, batch: TrashBatch) -> None:
        data = {
            "id": batch.id,
            "created_at": batch.created_at,
            "label": batch.label,
            "items": [{"original": i.original, "kind": i.kind} for i in batch.items],
        }
        with _lock:
            atomic_write_text(
                batch.directory / BATCH_FILE, json.dumps(data, indent=1, ensure_ascii=False)
            )


def _with_items(batch: TrashBatch, items: tuple[TrashItem, ...]) -> TrashBatch:
    return TrashBatch(batch.id, batch.created_at, batch.label, items, batch.directory)


def _load(directory: Path) -> TrashBatch | None:
    try:
        data = json.loads((directory / BATCH_FILE).read_text(encoding="utf-8"))
        items = tuple(
            TrashItem(str(i["original"]), str(i.get("kind", "moved"))) for i in data["items"]
        )
        return TrashBatch(
            str(data["id"]), str(data["created_at"]), str(data["label"]), items, directory
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _move(source: Path, target: Path) -> None:
    try:
        source.replace(target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # A concept folder symlinked to another disk: copy, then remove the original.
        shutil.copy2(source, target)
        source.unlink()


def _storage_error(exc: OSError, action: str, path: Path) -> StorageError:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "The dataset folder is read-only or the file is protected; nothing was changed."
    elif exc.errno == errno.ENOSPC:
        hint = "The disk is full."
    else:
        hint = str(exc.strerror or exc)
    return StorageError(f"Could not {action} {Path(path).name}: {hint}", detail=str(exc))
