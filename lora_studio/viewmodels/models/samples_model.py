"""Qt item model: a job's sample images as a grid — checkpoints as rows (the no-LoRA reference
first), prompts as columns, the loss at that step in the row header.

A thin adapter over plain data the JobsViewModel builds: `SampleGrid` holds the row and column
labels and, per cell, the image path and a thumbnail `QImage` decoded off the GUI thread (a
`QImage` is plain data safe to hand across threads; pixmaps are made by the view).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QImage

from lora_studio.core.jobs import SampleRef

Index = QModelIndex | QPersistentModelIndex
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
STEP_ROLE = Qt.ItemDataRole.UserRole + 2
THUMBNAIL_SIZE = 160


@dataclass
class SampleGrid:
    """Rows (step, label), columns (prompts) and cells (path, thumbnail)."""

    steps: list[int] = field(default_factory=list)  # 0 = the reference without the LoRA
    row_labels: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    cells: dict[tuple[int, int], tuple[str, QImage | None]] = field(default_factory=dict)


def build_grid(samples: list[SampleRef], loss_at: dict[int, float]) -> SampleGrid:
    """Arrange recorded samples; `loss_at` maps a step to the loss recorded there."""
    prompts: list[str] = []
    for sample in samples:
        if sample.prompt not in prompts:
            prompts.append(sample.prompt)
    keys = sorted({(sample.with_lora, sample.step) for sample in samples})
    grid = SampleGrid(prompts=prompts)
    for with_lora, step in keys:
        grid.steps.append(step if with_lora else 0)
        if not with_lora:
            grid.row_labels.append("No LoRA (reference)")
        else:
            loss = loss_at.get(step)
            shown = f" · loss {loss:.4f}" if loss is not None and math.isfinite(loss) else ""
            grid.row_labels.append(f"Step {step}{shown}")
    rows = {key: row for row, key in enumerate(keys)}
    for sample in samples:
        row = rows[(sample.with_lora, sample.step)]
        grid.cells[(row, prompts.index(sample.prompt))] = (sample.path, None)
    return grid


def load_thumbnails(grid: SampleGrid) -> SampleGrid:
    """Decode every cell's image at thumbnail size (call in a worker thread)."""
    for key, (path, _) in list(grid.cells.items()):
        image = QImage(path)
        if not image.isNull():
            image = image.scaled(
                THUMBNAIL_SIZE,
                THUMBNAIL_SIZE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        grid.cells[key] = (path, None if image.isNull() else image)
    return grid


class SamplesModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._grid = SampleGrid()

    def set_grid(self, grid: SampleGrid) -> None:
        self.beginResetModel()
        self._grid = grid
        self.endResetModel()

    def step_of_row(self, row: int) -> int:
        return self._grid.steps[row] if 0 <= row < len(self._grid.steps) else -1

    def row_label(self, row: int) -> str:
        labels = self._grid.row_labels
        return labels[row] if 0 <= row < len(labels) else ""

    def prompt_of_column(self, column: int) -> str:
        prompts = self._grid.prompts
        return prompts[column] if 0 <= column < len(prompts) else ""

    def path_at(self, row: int, column: int) -> str:
        """The image file of a cell, '' when that checkpoint did not render that prompt."""
        cell = self._grid.cells.get((row, column))
        return cell[0] if cell else ""

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._grid.steps)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._grid.prompts)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._grid.prompts):
            prompt = self._grid.prompts[section]
            return (
                prompt
                if role == Qt.ItemDataRole.ToolTipRole or len(prompt) <= 40
                else prompt[:39] + "…"
            )
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._grid.row_labels):
            return self._grid.row_labels[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        cell = self._grid.cells.get((index.row(), index.column()))
        if role == STEP_ROLE:
            return self.step_of_row(index.row())
        if cell is None:
            return "not rendered" if role == Qt.ItemDataRole.DisplayRole else None
        path, image = cell
        if role == Qt.ItemDataRole.DecorationRole:
            return image
        if role == Qt.ItemDataRole.DisplayRole:
            return "" if image is not None else "image missing"
        if role == Qt.ItemDataRole.ToolTipRole:
            return path
        if role == PATH_ROLE:
            return path
        return None
