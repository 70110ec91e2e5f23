"""View-model: one sample image at a time, large — ←/→ across the prompts, ↑/↓ across the
checkpoints (the no-LoRA reference at the top), as Civitai's trainer shows its samples.

It walks the same `SamplesModel` the grid shows, so the two never disagree; the full-size image
is decoded off the GUI thread, and a late decode of a cell the artist already left is dropped.
"""

from __future__ import annotations

from concurrent.futures import Executor

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from lora_studio.viewmodels.background import BackgroundWork
from lora_studio.viewmodels.models.samples_model import SamplesModel
from lora_studio.viewmodels.observable import Observable


def _decode(path: str) -> QImage:
    return QImage(path)  # a QImage is plain data: safe to make in a worker thread


class SampleViewerViewModel(QObject):
    title_changed = Signal(str)
    prompt_changed = Signal(str)
    position_changed = Signal(str)
    message_changed = Signal(str)
    path_changed = Signal(str)
    image_loaded = Signal(QImage)  # the current cell's picture (a null image when there is none)

    title = Observable("")  # "Step 340 · loss 0.1234" or "No LoRA (reference)"
    prompt = Observable("")
    position = Observable("")  # "Prompt 2 of 3 · row 4 of 5"
    message = Observable("")  # why there is no picture, else ""
    path = Observable("")

    def __init__(
        self, model: SamplesModel, executor: Executor | None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._work = BackgroundWork(executor)
        self._row = 0
        self._column = 0
        self._generation = 0

    def open_at(self, row: int, column: int) -> None:
        self._row, self._column = self._clamped(row, column)
        self._show()

    def move(self, rows: int, columns: int) -> None:
        """Step to a neighbouring cell; at an edge it stays put."""
        row, column = self._clamped(self._row + rows, self._column + columns)
        if (row, column) != (self._row, self._column):
            self._row, self._column = row, column
            self._show()

    def shutdown(self) -> None:
        self._generation += 1
        self._work.cancel()

    def _clamped(self, row: int, column: int) -> tuple[int, int]:
        rows, columns = self._model.rowCount(), self._model.columnCount()
        return min(max(row, 0), max(rows - 1, 0)), min(max(column, 0), max(columns - 1, 0))

    def _show(self) -> None:
        self._generation += 1
        row, column = self._row, self._column
        self.title = self._model.row_label(row)
        self.prompt = self._model.prompt_of_column(column)
        self.position = (
            f"Prompt {column + 1} of {self._model.columnCount()} · "
            f"row {row + 1} of {self._model.rowCount()}"
        )
        self.path = self._model.path_at(row, column)
        if not self.path:
            self.message = "This checkpoint has no picture for this prompt (it was not rendered)."
            self.image_loaded.emit(QImage())
            return
        self.message = "Loading…"
        self._work.spawn(self._run_load(self._generation, self.path))

    async def _run_load(self, generation: int, path: str) -> None:
        image = await self._work.blocking(_decode, path)
        if generation != self._generation:
            return  # the artist moved on
        self.message = (
            ""
            if not image.isNull()
            else f"{path} cannot be read (moved, deleted or damaged); the grid shows what is left."
        )
        self.image_loaded.emit(image)
