"""View-model: the caption session of the open dataset — one CaptionStore, an in-memory copy of
every caption, and the dataset-wide undo/redo history (which survives a restart: the store keeps
it in a journal in the sidecar folder).

Every view that reads or writes captions (the editor on the Captions page and in the Dataset detail
pane, the tag table, the batch dialog, auto-caption) goes through this one object, so they never
disagree about what is on disk. Store calls run in the executor, one at a time (an asyncio lock):
the store and its journal are not written from two threads at once, and the GUI thread never
touches the disk. `captions_changed(paths)` tells everybody which captions changed, whatever
changed them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from lora_studio.core.dataset.caption_store import CaptionStore
from lora_studio.viewmodels.observable import Observable

log = logging.getLogger(__name__)

T = TypeVar("T")
Flusher = Callable[[], Awaitable[None]]


History = tuple[bool, bool, str, str]  # can undo, can redo, undo label, redo label
_NO_HISTORY: History = (False, False, "", "")


def _read_all(store: CaptionStore, images: Sequence[Path]) -> dict[Path, str]:
    """Worker thread: the caption of every image ('' when it has none)."""
    return {image: store.read(image) for image in images}


def _history(store: CaptionStore) -> History:
    """Worker thread: the undo/redo state (the store's lock may be busy with another writer)."""
    undo, redo = store.undo_label, store.redo_label
    return undo is not None, redo is not None, undo or "", redo or ""


def _write(store: CaptionStore, image: Path, text: str, label: str) -> tuple[bool, History]:
    return store.write(image, text, label=label), _history(store)


def _apply(store: CaptionStore, changes: dict[Path, str], label: str) -> tuple[int, History]:
    return store.apply(changes, label=label), _history(store)


def _undo_step(
    store: CaptionStore, action: Callable[[CaptionStore], list[Path]]
) -> tuple[list[Path], dict[Path, str], History]:
    changed = action(store)
    return changed, _read_all(store, changed), _history(store)


class CaptionSession(QObject):
    """The open dataset's captions, their store and history (see the module docstring)."""

    folder_changed = Signal(str)
    can_undo_changed = Signal(bool)
    can_redo_changed = Signal(bool)
    undo_text_changed = Signal(str)
    redo_text_changed = Signal(str)
    loaded_changed = Signal(bool)
    # Paths (list[Path]) whose caption changed on disk — by an edit, a batch, an undo, a run.
    captions_changed = Signal(list)
    # The set of images was replaced (another folder, pictures imported or deleted).
    images_changed = Signal()

    folder = Observable("")
    can_undo = Observable(False)
    can_redo = Observable(False)
    undo_text = Observable("")
    redo_text = Observable("")
    loaded = Observable(False)

    def __init__(self, executor: Executor | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = executor
        self._store: CaptionStore | None = None
        self._root: Path | None = None
        self._captions: dict[Path, str] = {}
        self._lock = asyncio.Lock()
        self._flushers: list[Flusher] = []
        self._generation = 0
        self._history_task: asyncio.Task[None] | None = None

    # -- state -------------------------------------------------------------------------------------
    @property
    def store(self) -> CaptionStore | None:
        return self._store

    @property
    def root(self) -> Path | None:
        return self._root

    @property
    def captions(self) -> Mapping[Path, str]:
        """Every image of the dataset with its caption ('' when none); read-only."""
        return self._captions

    def caption(self, image: Path) -> str:
        return self._captions.get(image, "")

    def images(self) -> list[Path]:
        return list(self._captions)

    def add_flusher(self, flush: Flusher) -> None:
        """`flush()` is awaited before any batch, undo or run, so a pending edit is saved first
        (and becomes its own undo step, before the batch's)."""
        self._flushers.append(flush)

    # -- opening -----------------------------------------------------------------------------------
    async def open(self, root: Path, images: Sequence[Path]) -> None:
        """Open the store of `root` (its journal is replayed) and read every caption."""
        self._generation += 1
        generation = self._generation
        await self.flush_all()
        async with self._lock:
            store = await self._in_executor(CaptionStore, root)
            captions = await self._in_executor(_read_all, store, list(images))
            history = await self._in_executor(_history, store)
        if generation != self._generation:
            return  # another folder was opened meanwhile
        self._store, self._root, self._captions = store, root, captions
        self.folder = str(root)
        self.loaded = True
        self._publish_history(history)
        self.images_changed.emit()
        self.captions_changed.emit(list(captions))

    async def sync_images(self, images: Sequence[Path]) -> None:
        """The dataset's pictures changed (import, delete): read the new ones, drop the gone."""
        store = self._store
        if store is None:
            return
        wanted = list(images)
        new = [path for path in wanted if path not in self._captions]
        async with self._lock:
            read = await self._in_executor(_read_all, store, new) if new else {}
        if store is not self._store:
            return
        old = self._captions
        self._captions = {path: read.get(path, old.get(path, "")) for path in wanted}
        self.images_changed.emit()
        if new:
            self.captions_changed.emit(new)

    def close(self) -> None:
        self._generation += 1
        self._store, self._root, self._captions = None, None, {}
        self.folder = ""
        self.loaded = False
        self._publish_history(_NO_HISTORY)
        self.images_changed.emit()

    # -- changes -----------------------------------------------------------------------------------
    async def write(self, image: Path, text: str, *, label: str = "Edit caption") -> bool:
        """Write one caption (atomic, journalled); False when it was unchanged."""
        store = self._require_store()
        # The copy shows the new text at once: coming back to this picture before the write
        # has landed must not show the old caption (and then save it over the new one).
        before = self._captions.get(image)
        self._captions[image] = text
        try:
            async with self._lock:
                changed, history = await self._in_executor(_write, store, image, text, label)
        except BaseException:
            if store is self._store and before is not None and self._captions.get(image) == text:
                self._captions[image] = before
            raise
        if store is not self._store:
            return changed
        self._publish_history(history)
        if changed:
            self.captions_changed.emit([image])
        return changed

    async def apply(self, changes: Mapping[Path, str], *, label: str) -> int:
        """Many captions as ONE undo step; returns how many changed."""
        store = self._require_store()
        if not changes:
            return 0
        await self.flush_all()
        async with self._lock:
            count, history = await self._in_executor(_apply, store, dict(changes), label)
        if store is self._store:
            self._captions.update(changes)
            self._publish_history(history)
            self.captions_changed.emit(list(changes))
        return count

    async def undo(self) -> list[Path]:
        return await self._step(lambda store: store.undo())

    async def redo(self) -> list[Path]:
        return await self._step(lambda store: store.redo())

    async def reload(self, images: Iterable[Path]) -> None:
        """Re-read captions written by someone else (the auto-caption runner) into the cache."""
        store = self._store
        paths = [path for path in images if path in self._captions]
        if store is None or not paths:
            return
        async with self._lock:
            read = await self._in_executor(_read_all, store, paths)
            history = await self._in_executor(_history, store)
        if store is self._store:
            self._captions.update(read)
            self._publish_history(history)
            self.captions_changed.emit(paths)

    def note_written(self, image: Path, text: str) -> None:
        """The auto-caption runner wrote `image`'s caption through the store: follow it."""
        if image in self._captions and self._captions[image] != text:
            self._captions[image] = text
            self.captions_changed.emit([image])

    def refresh_history(self) -> None:
        """Read the undo/redo state again (after the runner wrote through the store)."""
        store = self._store
        if store is None:
            return
        loop = asyncio.get_running_loop()
        self._history_task = loop.create_task(self._run_refresh_history(store))

    async def _run_refresh_history(self, store: CaptionStore) -> None:
        history = await self._in_executor(_history, store)
        if store is self._store:
            self._publish_history(history)

    async def exclusive(self, work: Callable[[CaptionStore], Awaitable[T]]) -> T:
        """Run `work(store)` holding the store for itself (the auto-caption runner writes
        through the store from its own coroutine; nothing else may write meanwhile)."""
        store = self._require_store()
        await self.flush_all()
        async with self._lock:
            return await work(store)

    async def flush_all(self) -> None:
        for flush in list(self._flushers):
            await flush()

    # -- helpers -----------------------------------------------------------------------------------
    async def _step(self, action: Callable[[CaptionStore], list[Path]]) -> list[Path]:
        store = self._store
        if store is None:
            return []
        await self.flush_all()
        async with self._lock:
            changed, read, history = await self._in_executor(_undo_step, store, action)
        if store is self._store:
            self._captions.update(read)
            self._publish_history(history)
            if changed:
                self.captions_changed.emit(list(changed))
        return list(changed)

    def _require_store(self) -> CaptionStore:
        if self._store is None:
            from lora_studio.core.errors import ConfigError

            raise ConfigError("Open a dataset folder first; its captions are edited here.")
        return self._store

    def _publish_history(self, history: History) -> None:
        self.can_undo, self.can_redo, self.undo_text, self.redo_text = history

    async def _in_executor(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args, **kwargs))
