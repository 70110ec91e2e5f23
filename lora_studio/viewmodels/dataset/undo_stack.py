"""View-model support: the Dataset page's undo stack — one step per delete or batch of fixes.

A step names a trash batch (the core keeps the files); undoing restores that batch. Deletes also
keep the rows they removed so an undo can put them back into the grid without a rescan.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from lora_studio.viewmodels.dataset.rows import GridRow
from lora_studio.viewmodels.observable import Observable

MAX_STEPS = 50  # older batches stay in the trash; only the stack forgets them


@dataclass(frozen=True)
class UndoStep:
    label: str  # "Undo delete of 3 pictures"
    batch_id: str
    rows: tuple[GridRow, ...]  # rows a delete removed (re-inserted on undo); empty for fixes
    overwrite: bool  # fixes rewrote files in place: restoring must replace them


class UndoStack(QObject):
    can_undo_changed = Signal(bool)
    text_changed = Signal(str)

    can_undo = Observable(False)
    text = Observable("")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._steps: list[UndoStep] = []

    def push(self, step: UndoStep) -> None:
        self._steps.append(step)
        del self._steps[:-MAX_STEPS]
        self._publish()

    def top(self) -> UndoStep | None:
        return self._steps[-1] if self._steps else None

    def discard(self, step: UndoStep) -> None:
        if step in self._steps:
            self._steps.remove(step)
            self._publish()

    def clear(self) -> None:
        self._steps.clear()
        self._publish()

    def _publish(self) -> None:
        self.can_undo = bool(self._steps)
        self.text = self._steps[-1].label if self._steps else ""
