"""View-model: the batch dialog — one operation over the selected pictures or the whole dataset,
with a live preview (how many captions change, and a few before/after examples) and Apply as one
undo step.

The plan is computed off the GUI thread a moment after each change of the fields; a newer plan
supersedes an older one. An invalid regular expression is a sentence in `error`, not a crash.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from lora_studio.core.captioning import batch
from lora_studio.core.errors import LoraStudioError
from lora_studio.viewmodels.captions.session import CaptionSession
from lora_studio.viewmodels.observable import Observable

log = logging.getLogger(__name__)

PREVIEW_DELAY_MS = 120
EXAMPLES = 4


class BatchOperation(StrEnum):
    ADD_TRIGGER = "add_trigger"
    REMOVE_TRIGGER = "remove_trigger"
    PREFIX_SUFFIX = "prefix_suffix"
    FIND_REPLACE = "find_replace"
    REMOVE_TAG = "remove_tag"
    RENAME_TAG = "rename_tag"
    SORT_TAGS = "sort_tags"
    DEDUPE = "dedupe"


OPERATION_TITLES: dict[BatchOperation, str] = {
    BatchOperation.ADD_TRIGGER: "Add the trigger word (first)",
    BatchOperation.REMOVE_TRIGGER: "Remove the trigger word",
    BatchOperation.PREFIX_SUFFIX: "Add a prefix or suffix",
    BatchOperation.FIND_REPLACE: "Find and replace",
    BatchOperation.REMOVE_TAG: "Remove a tag",
    BatchOperation.RENAME_TAG: "Rename a tag",
    BatchOperation.SORT_TAGS: "Sort tags A→Z",
    BatchOperation.DEDUPE: "Remove repeated tags",
}

# Which fields each operation uses (the view shows only these).
OPERATION_FIELDS: dict[BatchOperation, tuple[str, ...]] = {
    BatchOperation.ADD_TRIGGER: ("word",),
    BatchOperation.REMOVE_TRIGGER: ("word",),
    BatchOperation.PREFIX_SUFFIX: ("prefix", "suffix"),
    BatchOperation.FIND_REPLACE: ("find", "replace", "regex", "case_sensitive"),
    BatchOperation.REMOVE_TAG: ("tag",),
    BatchOperation.RENAME_TAG: ("tag", "new_tag"),
    BatchOperation.SORT_TAGS: ("keep_first",),
    BatchOperation.DEDUPE: (),
}


@dataclass(frozen=True)
class BatchFields:
    """Everything the dialog's fields hold (unused ones are ignored)."""

    word: str = ""
    prefix: str = ""
    suffix: str = ""
    find: str = ""
    replace: str = ""
    regex: bool = False
    case_sensitive: bool = True
    tag: str = ""
    new_tag: str = ""
    keep_first: bool = True  # keep the first tag (the trigger) in place when sorting


def make_plan(
    operation: BatchOperation, fields: BatchFields, captions: Mapping[Path, str]
) -> batch.BatchPlan:
    """Worker thread: the core plan for `operation` (raises ConfigError for bad fields)."""
    if operation in (BatchOperation.ADD_TRIGGER, BatchOperation.REMOVE_TRIGGER):
        remove = operation is BatchOperation.REMOVE_TRIGGER
        return batch.plan_trigger_word(captions, fields.word, remove=remove)
    if operation is BatchOperation.PREFIX_SUFFIX:
        return batch.plan_prefix_suffix(captions, prefix=fields.prefix, suffix=fields.suffix)
    if operation is BatchOperation.FIND_REPLACE:
        return batch.plan_find_replace(
            captions,
            fields.find,
            fields.replace,
            regex=fields.regex,
            case_sensitive=fields.case_sensitive,
        )
    if operation is BatchOperation.REMOVE_TAG:
        return batch.plan_remove_tag(captions, fields.tag)
    if operation is BatchOperation.RENAME_TAG:
        return batch.plan_rename_tag(captions, fields.tag, fields.new_tag)
    if operation is BatchOperation.SORT_TAGS:
        return batch.plan_sort_tags(captions, keep_first=1 if fields.keep_first else 0)
    return batch.plan_dedupe(captions)


class BatchViewModel(QObject):
    """State and commands of the batch dialog (see the module docstring)."""

    operation_changed = Signal(str)
    fields_changed = Signal(object)
    use_selection_changed = Signal(bool)
    selection_count_changed = Signal(int)
    scope_text_changed = Signal(str)
    preview_count_changed = Signal(int)
    preview_text_changed = Signal(str)
    examples_changed = Signal(list)  # [(name, before, after)]
    can_apply_changed = Signal(bool)
    busy_changed = Signal(bool)
    error_changed = Signal(str)
    applied = Signal(int)  # captions changed

    operation = Observable(BatchOperation.ADD_TRIGGER.value)
    fields = Observable(BatchFields())
    use_selection = Observable(False)
    selection_count = Observable(0)
    scope_text = Observable("")
    preview_count = Observable(0)
    preview_text = Observable("")
    examples = Observable([])
    can_apply = Observable(False)
    busy = Observable(False)
    error = Observable("")

    def __init__(
        self, session: CaptionSession, executor: Executor | None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self._executor = executor
        self._selection: list[Path] = []
        self._plan: batch.BatchPlan | None = None
        self._generation = 0
        self._preview_task: asyncio.Task[None] | None = None
        self._apply_task: asyncio.Task[None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self._handle_preview_timeout)
        self._active = False  # a preview is only worth computing while the dialog is open
        session.captions_changed.connect(self._handle_captions_changed)

    @property
    def preview_task(self) -> asyncio.Task[None] | None:
        return self._preview_task

    @property
    def apply_task(self) -> asyncio.Task[None] | None:
        return self._apply_task

    # -- inputs ------------------------------------------------------------------------------------
    def prepare(self, selection: Sequence[str], trigger_word: str = "") -> None:
        """The dialog opens: the current selection and the dataset's trigger word."""
        self._active = True
        self._selection = [Path(p) for p in selection]
        self.selection_count = len(self._selection)
        self.use_selection = len(self._selection) > 1
        if trigger_word and not self.fields.word:
            self.fields = _replace(self.fields, word=trigger_word)
        self._update_scope_text()
        self._schedule_preview()

    def close(self) -> None:
        """The dialog closed: stop following caption changes."""
        self._active = False
        self._timer.stop()

    def _handle_captions_changed(self, _paths: list[Path]) -> None:
        if self._active:
            self._schedule_preview()

    def set_operation(self, key: str) -> None:
        try:
            operation = BatchOperation(key)
        except ValueError:
            self.error = f"Unknown batch operation '{key}'."
            return
        self.operation = operation.value
        self._schedule_preview()

    def set_field(self, name: str, value: str | bool) -> None:
        if name not in BatchFields.__dataclass_fields__:
            raise ValueError(f"no batch field {name!r}")
        self.fields = _replace(self.fields, **{name: value})
        self._schedule_preview()

    def set_use_selection(self, use: bool) -> None:
        self.use_selection = use and bool(self._selection)
        self._update_scope_text()
        self._schedule_preview()

    # -- apply -------------------------------------------------------------------------------------
    def apply(self) -> None:
        """Write the previewed plan as one undo step."""
        if self.busy or not self.can_apply:
            return
        self.busy = True
        self.can_apply = False
        loop = asyncio.get_running_loop()
        self._apply_task = loop.create_task(self._run_apply())

    async def _run_apply(self) -> None:
        try:
            await self.session.flush_all()
            # Plan again against the captions as they are now (an autosave may have landed).
            plan = await self._plan_now()
            count = await self.session.apply(plan.changes, label=plan.label)
        except LoraStudioError as exc:
            self.error = exc.user_message
            return
        finally:
            self.busy = False
        self.applied.emit(count)

    def shutdown(self) -> None:
        """Stop pending timers (the page is closing; the executor goes away next)."""
        self._timer.stop()
        self._generation += 1

    # -- preview -----------------------------------------------------------------------------------
    def _scope(self) -> dict[Path, str]:
        captions = self.session.captions
        if self.use_selection:
            return {p: captions[p] for p in self._selection if p in captions}
        return dict(captions)

    def _update_scope_text(self) -> None:
        total = len(self.session.captions)
        if self.use_selection:
            self.scope_text = f"{self.selection_count:,} selected of {total:,} pictures"
        else:
            self.scope_text = f"All {total:,} pictures"

    def _schedule_preview(self) -> None:
        self._timer.start()

    def refresh_preview(self) -> None:
        self._timer.stop()
        self._handle_preview_timeout()

    def _handle_preview_timeout(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._generation += 1
        self._preview_task = loop.create_task(self._run_preview(self._generation))

    async def _plan_now(self) -> batch.BatchPlan:
        loop = asyncio.get_running_loop()
        operation, fields, scope = BatchOperation(self.operation), self.fields, self._scope()
        return await loop.run_in_executor(self._executor, make_plan, operation, fields, scope)

    async def _run_preview(self, generation: int) -> None:
        self._update_scope_text()
        try:
            plan = await self._plan_now()
        except LoraStudioError as exc:
            if generation == self._generation:
                self._show_plan(None, exc.user_message)
            return
        if generation == self._generation:
            self._show_plan(plan, "")

    def _show_plan(self, plan: batch.BatchPlan | None, problem: str) -> None:
        self._plan = plan
        self.error = problem
        count = plan.count if plan is not None else 0
        self.preview_count = count
        scope = len(self._scope())
        if plan is None:
            self.preview_text = "Nothing to preview yet."
        elif count == 0:
            self.preview_text = f"No caption would change (of {scope:,})."
        else:
            noun = "caption" if count == 1 else "captions"
            self.preview_text = f"{count:,} of {scope:,} {noun} will change."
        examples = []
        if plan is not None:
            captions = self.session.captions
            for path, after in list(plan.changes.items())[:EXAMPLES]:
                examples.append((path.name, captions.get(path, ""), after))
        self.examples = examples
        self.can_apply = count > 0 and not self.busy


def _replace(fields: BatchFields, **changes: object) -> BatchFields:
    from dataclasses import replace

    return replace(fields, **changes)  # type: ignore[arg-type]
