"""View-model: the caption editor of the current picture — text and tag chips, length against the
75-token CLIP budget, autosave, undo/redo.

One instance serves both the Captions page and the Dataset detail pane (two widgets, one editor):
whichever picture was picked last, in either place, is the one being edited.

Autosave: typing updates `text` at once and starts a short timer (`AUTOSAVE_DELAY_MS`); when it
fires, or when the artist moves to another picture, the caption is written through the session
(atomic, journalled, in the executor). Undo first saves what is pending, so the step undone is
the artist's last edit. Widgets keep no undo of their own: the store's history is the only one,
and it survives a restart.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from lora_studio.core.captioning.tags import caption_length, dedupe_tags, join_tags, split_tags
from lora_studio.core.dataset.tokens import CLIP_TOKEN_BUDGET
from lora_studio.core.errors import LoraStudioError
from lora_studio.viewmodels.captions.session import CaptionSession
from lora_studio.viewmodels.observable import Observable

log = logging.getLogger(__name__)

AUTOSAVE_DELAY_MS = 600
NO_PICTURE_HINT = "Select a picture to edit its caption."
LOADING_HINT = "Reading the captions of this dataset…"


class SaveState:
    """Values of `save_state`: what the artist sees next to the editor."""

    NONE = ""
    EDITED = "Edited"
    SAVING = "Saving…"
    SAVED = "Saved"
    FAILED = "Not saved"


class CaptionEditorViewModel(QObject):
    """State and commands of the caption editor (see the module docstring)."""

    path_changed = Signal(str)
    title_changed = Signal(str)
    text_changed = Signal(str)
    tags_changed = Signal(list)
    length_text_changed = Signal(str)
    over_budget_changed = Signal(bool)
    save_state_changed = Signal(str)
    editable_changed = Signal(bool)
    hint_changed = Signal(str)
    error_changed = Signal(str)
    completions_changed = Signal(list)
    saved = Signal(str)  # path whose caption reached the disk

    path = Observable("")
    title = Observable("")
    text = Observable("")
    tags = Observable([])
    length_text = Observable("")
    over_budget = Observable(False)
    save_state = Observable(SaveState.NONE)
    editable = Observable(False)
    # Why there is nothing to edit ('' while editable): shown instead of an empty text box, so
    # nobody types a caption that belongs to no picture.
    hint = Observable(NO_PICTURE_HINT)
    error = Observable("")
    completions = Observable([])

    def __init__(
        self,
        session: CaptionSession,
        *,
        autosave_delay_ms: int = AUTOSAVE_DELAY_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.token_budget = CLIP_TOKEN_BUDGET
        self._dirty = False
        self._save_task: asyncio.Task[None] | None = None
        self._undo_task: asyncio.Task[None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(autosave_delay_ms)
        self._timer.timeout.connect(self._handle_autosave_timeout)
        session.add_flusher(self.flush)
        session.captions_changed.connect(self._handle_captions_changed)
        session.loaded_changed.connect(lambda _loaded: self._refresh_editable())
        session.images_changed.connect(self._handle_images_changed)

    # -- properties --------------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Typed but not yet written."""
        return self._dirty

    @property
    def save_task(self) -> asyncio.Task[None] | None:
        return self._save_task

    @property
    def undo_task(self) -> asyncio.Task[None] | None:
        return self._undo_task

    def set_completions(self, tags: list[str]) -> None:
        """Tags used anywhere in the dataset, most frequent first (computed by the tag table)."""
        self.completions = list(tags)

    # -- picture -----------------------------------------------------------------------------------
    def show(self, path: str) -> None:
        """Edit the caption of `path` ('' shows nothing); a pending edit is saved first."""
        if path == self.path:
            return
        self._save_pending()
        self.path = path
        self.title = Path(path).name if path else ""
        self.error = ""
        self._load_text(self.session.caption(Path(path)) if path else "")
        self.save_state = SaveState.NONE
        self._refresh_editable()

    # -- editing -----------------------------------------------------------------------------------
    def set_text(self, text: str) -> None:
        """The artist typed: show the new length at once, save a moment later."""
        if not self.editable or text == self.text:
            return
        self._set_text(text)
        self._dirty = True
        self.save_state = SaveState.EDITED
        self._timer.start()

    def set_tags(self, tags: list[str]) -> None:
        self.set_text(join_tags([t for t in (tag.strip() for tag in tags) if t]))

    def add_tag(self, tag: str) -> None:
        tags = split_tags(tag)
        if not tags:
            return
        self.set_tags(dedupe_tags([*self.tags, *tags]))

    def remove_tag(self, index: int) -> None:
        if 0 <= index < len(self.tags):
            tags = list(self.tags)
            del tags[index]
            self.set_tags(tags)

    def move_tag(self, index: int, to: int) -> None:
        tags = list(self.tags)
        if 0 <= index < len(tags) and 0 <= to < len(tags) and index != to:
            tags.insert(to, tags.pop(index))
            self.set_tags(tags)

    def save_now(self) -> None:
        """Write the pending edit without waiting for the timer."""
        self._save_pending()

    def save_before_exit(self) -> None:
        """The window closes: write the pending edit right here (one small file; the executor
        may already be shutting down, and a caption must not be lost)."""
        self._timer.stop()
        store = self.session.store
        if not self._dirty or not self.path or store is None:
            return
        self._dirty = False
        try:
            store.write(Path(self.path), self.text)
        except LoraStudioError as exc:
            log.error("caption of %s not saved at exit: %s", self.path, exc.user_message)

    async def flush(self) -> None:
        """Write the pending edit and wait until it is on disk (awaited before batches/undo)."""
        self._save_pending()
        task = self._save_task
        if task is not None and not task.done():
            await asyncio.shield(task)

    # -- undo / redo -------------------------------------------------------------------------------
    def undo(self) -> None:
        self._schedule_step(redo=False)

    def redo(self) -> None:
        self._schedule_step(redo=True)

    def _schedule_step(self, *, redo: bool) -> None:
        if self._undo_task is not None and not self._undo_task.done():
            return  # one step at a time; the key repeats faster than the disk
        if not self.session.loaded:
            return
        loop = asyncio.get_running_loop()
        self._undo_task = loop.create_task(self._run_step(redo))

    async def _run_step(self, redo: bool) -> None:
        try:
            await (self.session.redo() if redo else self.session.undo())
        except LoraStudioError as exc:
            self.error = exc.user_message

    # -- private -----------------------------------------------------------------------------------
    def _set_text(self, text: str) -> None:
        self.text = text
        self.tags = split_tags(text)
        chars, tokens = caption_length(text)
        self.over_budget = tokens > self.token_budget
        self.length_text = (
            f"{tokens} of {self.token_budget} tokens · {chars:,} characters" if self.path else ""
        )

    def _load_text(self, text: str) -> None:
        self._dirty = False
        self._timer.stop()
        self._set_text(text)

    def _refresh_editable(self) -> None:
        self.editable = bool(self.path) and self.session.loaded
        if self.editable:
            self.hint = ""
        else:
            self.hint = LOADING_HINT if self.path else NO_PICTURE_HINT

    def _handle_autosave_timeout(self) -> None:
        self._save_pending()

    def _save_pending(self) -> None:
        """Schedule the write of the pending edit (ordered after any earlier write)."""
        self._timer.stop()
        if not self._dirty or not self.path:
            return
        self._dirty = False
        path, text = Path(self.path), self.text
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("caption of %s not saved: no event loop", path)
            return
        previous = self._save_task
        self.save_state = SaveState.SAVING
        self._save_task = loop.create_task(self._run_save(path, text, previous))

    async def _run_save(self, path: Path, text: str, previous: asyncio.Task[None] | None) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        try:
            await self.session.write(path, text)
        except LoraStudioError as exc:
            # The text stays in the editor, marked as not saved; the next keystroke retries.
            self.error = exc.user_message
            if str(path) == self.path:
                self._dirty = True
                self.save_state = SaveState.FAILED
            return
        self.saved.emit(str(path))
        if str(path) == self.path and not self._dirty:
            self.error = ""
            self.save_state = SaveState.SAVED

    def _handle_captions_changed(self, paths: list[Path]) -> None:
        """Another change (batch, undo, a run) touched the current caption: show the disk's."""
        if not self.path or self._dirty:
            return
        current = Path(self.path)
        if current in paths:
            text = self.session.caption(current)
            if text != self.text:
                self._load_text(text)

    def _handle_images_changed(self) -> None:
        if self.path and Path(self.path) not in self.session.captions:
            if self.session.loaded:
                self.show("")
        elif self.path and not self._dirty:
            self._load_text(self.session.caption(Path(self.path)))
        self._refresh_editable()
