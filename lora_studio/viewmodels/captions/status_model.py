"""View-model item model: the per-picture status list of an auto-caption run (a
`QAbstractListModel`): waiting, captioned, skipped or failed with the reason.

Rows are set once when a run starts; each finished picture changes one row (one `dataChanged`), so
a run of 10,000 pictures costs the view nothing per outcome beyond repainting that row.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

ModelIndex = QModelIndex | QPersistentModelIndex

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2


class ImageStatus(StrEnum):
    WAITING = "waiting"
    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"


STATUS_MARKS = {
    ImageStatus.WAITING: "…",
    ImageStatus.OK: "✔",
    ImageStatus.SKIPPED: "–",
    ImageStatus.FAILED: "✖",
}
# The app's status colours (completed, warning-ish skipped, failed); waiting uses the text colour.
STATUS_COLORS = {
    ImageStatus.OK: QColor("#2e7d32"),
    ImageStatus.SKIPPED: QColor("#8a8a8e"),
    ImageStatus.FAILED: QColor("#c62828"),
}


class AutoCaptionStatusModel(QAbstractListModel):
    """One row per picture of the run: name, status mark and the caption or the reason."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._paths: list[Path] = []
        self._status: list[ImageStatus] = []
        self._detail: list[str] = []
        self._row_of: dict[Path, int] = {}

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._paths)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._paths):
            return None
        row = index.row()
        status = self._status[row]
        if role == Qt.ItemDataRole.DisplayRole:
            detail = self._detail[row]
            text = f"{STATUS_MARKS[status]}  {self._paths[row].name}"
            return f"{text} — {detail}" if detail else text
        if role == Qt.ItemDataRole.ForegroundRole:
            return STATUS_COLORS.get(status)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._detail[row] or status.value
        if role == PATH_ROLE:
            return str(self._paths[row])
        if role == STATUS_ROLE:
            return status.value
        return None

    def set_images(self, paths: list[Path]) -> None:
        self.beginResetModel()
        self._paths = list(paths)
        self._status = [ImageStatus.WAITING] * len(paths)
        self._detail = [""] * len(paths)
        self._row_of = {path: n for n, path in enumerate(self._paths)}
        self.endResetModel()

    def set_status(self, path: Path, status: ImageStatus, detail: str = "") -> None:
        row = self._row_of.get(path)
        if row is None:
            return
        self._status[row] = status
        self._detail[row] = " ".join(detail.split())[:200]
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)

    def paths_with(self, status: ImageStatus) -> list[Path]:
        return [p for p, s in zip(self._paths, self._status, strict=True) if s is status]

    def count(self, status: ImageStatus) -> int:
        return sum(1 for s in self._status if s is status)
