"""View-model: the tag-frequency table and its one-click actions — remove a tag everywhere, rename
it, make it the trigger word. Each action is one undo step of the caption history.

The frequencies are recomputed off the GUI thread a moment after captions change (a batch over
10,000 captions emits one change, typing emits one per autosave), and a newer recompute
supersedes an older one still running.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from lora_studio.core.captioning.batch import (
    BatchPlan,
    plan_remove_tag,
    plan_rename_tag,
    plan_trigger_word,
)
from lora_studio.core.captioning.tags import tag_frequency
from lora_studio.core.errors import LoraStudioError
from lora_studio.viewmodels.captions.session import CaptionSession
from lora_studio.viewmodels.captions.tag_table_model import TagFrequencyModel
from lora_studio.viewmodels.observable import Observable

log = logging.getLogger(__name__)

RECOUNT_DELAY_MS = 150


def _frequencies(captions: list[str]) -> list[tuple[str, int]]:
    return tag_frequency(captions)


class TagsViewModel(QObject):
    """Tag frequencies of the open dataset and the actions on one tag."""

    summary_changed = Signal(str)
    notice_changed = Signal(str)
    error_changed = Signal(str)
    busy_changed = Signal(bool)
    rename_requested = Signal(str)  # view: ask for the new name of this tag
    counted = Signal()

    summary = Observable("")
    notice = Observable("")
    error = Observable("")
    busy = Observable(False)

    def __init__(
        self,
        session: CaptionSession,
        executor: Executor | None,
        *,
        set_trigger_word: Callable[[str], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.model = TagFrequencyModel(self)
        self._executor = executor
        self._set_trigger_word = set_trigger_word
        self._generation = 0
        self._count_task: asyncio.Task[None] | None = None
        self._action_task: asyncio.Task[None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RECOUNT_DELAY_MS)
        self._timer.timeout.connect(self._handle_recount_timeout)
        session.captions_changed.connect(lambda _paths: self._timer.start())
        session.images_changed.connect(self._timer.start)

    @property
    def action_task(self) -> asyncio.Task[None] | None:
        return self._action_task

    @property
    def count_task(self) -> asyncio.Task[None] | None:
        return self._count_task

    def tags(self) -> list[str]:
        """Tags of the dataset, most frequent first (the editor's autocomplete list)."""
        return [tag for tag, _count in sorted(self.model.rows(), key=lambda row: -row[1])]

    # -- actions -----------------------------------------------------------------------------------
    def remove_everywhere(self, tag: str) -> None:
        self._start(
            lambda captions: plan_remove_tag(captions, tag),
            lambda n: f"Removed “{tag}” from {_captions(n)}.",
        )

    def request_rename(self, tag: str) -> None:
        if tag:
            self.rename_requested.emit(tag)

    def rename(self, old: str, new: str) -> None:
        if not new.strip():
            self.error = "Type the new name of the tag; it cannot be empty."
            return
        self._start(
            lambda captions: plan_rename_tag(captions, old, new),
            lambda n: f"Renamed “{old}” to “{new.strip()}” in {_captions(n)}.",
        )

    def make_trigger(self, tag: str) -> None:
        """Use `tag` as the dataset's trigger word: first in every caption, remembered."""
        if self._set_trigger_word is not None and tag.strip():
            self._set_trigger_word(tag.strip())
        self._start(
            lambda captions: plan_trigger_word(captions, tag),
            lambda n: f"“{tag}” is the trigger word, first in {_captions(n)}.",
        )

    def _start(
        self,
        make_plan: Callable[[Mapping[Path, str]], BatchPlan],
        describe: Callable[[int], str],
    ) -> None:
        if self.busy:
            return
        if not self.session.loaded:
            self.error = "Open a dataset folder first."
            return
        self.error = ""
        self.busy = True
        loop = asyncio.get_running_loop()
        self._action_task = loop.create_task(self._run_action(make_plan, describe))

    async def _run_action(
        self,
        make_plan: Callable[[Mapping[Path, str]], BatchPlan],
        describe: Callable[[int], str],
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            await self.session.flush_all()
            captions = dict(self.session.captions)
            plan = await loop.run_in_executor(self._executor, make_plan, captions)
            count = await self.session.apply(plan.changes, label=plan.label)
            self.notice = describe(count) + (" Undo with Ctrl+Z." if count else "")
        except LoraStudioError as exc:
            self.error = exc.user_message
        finally:
            self.busy = False

    def shutdown(self) -> None:
        """Stop pending timers (the page is closing; the executor goes away next)."""
        self._timer.stop()
        self._generation += 1

    # -- counting ----------------------------------------------------------------------------------
    def recount(self) -> None:
        self._timer.stop()
        self._handle_recount_timeout()

    def _handle_recount_timeout(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._generation += 1
        self._count_task = loop.create_task(self._run_count(self._generation))

    async def _run_count(self, generation: int) -> None:
        captions = list(self.session.captions.values())
        loop = asyncio.get_running_loop()
        rows = await loop.run_in_executor(self._executor, functools.partial(_frequencies, captions))
        if generation != self._generation:
            return
        total = len(captions)
        self.model.set_rows(rows, total)
        tagged = sum(1 for text in captions if text.strip())
        self.summary = (
            f"{len(rows):,} different tags in {tagged:,} of {_pictures(total)}" if total else ""
        )
        self.counted.emit()


def _captions(count: int) -> str:
    return f"{count:,} caption{'s' if count != 1 else ''}"


def _pictures(count: int) -> str:
    return f"{count:,} picture{'s' if count != 1 else ''}"
