"""Qt item model: the job history as a table (name, backend, status, progress, started,
duration, cost).

A thin adapter over `JobRow` values the JobsViewModel owns. `set_rows` keeps the selection stable:
when the same jobs are listed in the same order it emits `dataChanged` for the rows that changed
instead of resetting the model; `update_progress` changes one row's step from a live event without
a store read. Numbers are right-aligned.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

Index = QModelIndex | QPersistentModelIndex

JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2
PERCENT_ROLE = Qt.ItemDataRole.UserRole + 3

_STATUS_COLOURS = {
    "queued": "#8a8d93",
    "running": "#3b6fd8",
    "completed": "#2e7d32",
    "failed": "#c62828",
    "cancelled": "#9e6a00",
    "lost": "#7b1fa2",
}
# The same statuses on a dark background: lighter, so they stay readable.
_DARK_STATUS_COLOURS = {
    "queued": "#a9adb5",
    "running": "#7fa6f5",
    "completed": "#66bb6a",
    "failed": "#ef5350",
    "cancelled": "#e0a030",
    "lost": "#ce93d8",
}


def status_colour(status: str) -> QColor:
    dark = QGuiApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128
    table = _DARK_STATUS_COLOURS if dark else _STATUS_COLOURS
    return QColor(table.get(status, "#808080"))


@dataclass(frozen=True)
class JobRow:
    """One line of the job list, already formatted for display."""

    job_id: str
    name: str
    backend: str
    status: str
    step: int
    total: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cost: float | None
    error: str | None

    @property
    def percent(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(100.0, 100.0 * self.step / self.total))

    def duration_seconds(self, now: datetime | None = None) -> float | None:
        """Seconds from start to finish (to now while it runs); None before it started."""
        if self.started_at is None:
            return None
        end = self.finished_at or (now or datetime.now(UTC))
        return max(0.0, (end - self.started_at).total_seconds())


def format_elapsed(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M")


class JobsTableModel(QAbstractTableModel):
    COLUMNS = ("Name", "Backend", "Status", "Progress", "Started", "Duration", "Cost")
    NUMERIC_COLUMNS = frozenset({3, 5, 6})

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[JobRow] = []

    def rows(self) -> list[JobRow]:
        return list(self._rows)

    def row_of(self, job_id: str) -> int:
        for index, row in enumerate(self._rows):
            if row.job_id == job_id:
                return index
        return -1

    def set_rows(self, rows: list[JobRow]) -> None:
        if [r.job_id for r in rows] != [r.job_id for r in self._rows]:
            self.beginResetModel()
            self._rows = list(rows)
            self.endResetModel()
            return
        old, self._rows = self._rows, list(rows)
        last_column = len(self.COLUMNS) - 1
        for index, (before, after) in enumerate(zip(old, rows, strict=True)):
            if before != after:
                self.dataChanged.emit(self.index(index, 0), self.index(index, last_column))

    def update_progress(self, job_id: str, step: int, total: int | None) -> None:
        """A live step count for one row (no-op when unchanged or not listed)."""
        index = self.row_of(job_id)
        if index < 0:
            return
        row = self._rows[index]
        new_total = total or row.total
        if row.step == step and row.total == new_total:
            return
        self._rows[index] = replace(row, step=step, total=new_total)
        self.dataChanged.emit(self.index(index, 3), self.index(index, 3))

    # -- Qt overrides --------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.COLUMNS)
        ):
            return self.COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.NUMERIC_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.error or f"{row.name} — {row.status}"
        if role == Qt.ItemDataRole.ForegroundRole and column == 2:
            return status_colour(row.status)
        if role == JOB_ID_ROLE:
            return row.job_id
        if role == STATUS_ROLE:
            return row.status
        if role == PERCENT_ROLE:
            return row.percent
        return None

    def _display(self, row: JobRow, column: int) -> str:
        if column == 0:
            return row.name
        if column == 1:
            return row.backend
        if column == 2:
            return row.status.capitalize()
        if column == 3:
            if row.total:
                return f"{row.step}/{row.total} ({row.percent:.0f}%)"
            return str(row.step) if row.step else ""
        if column == 4:
            return _when(row.started_at or row.created_at)
        if column == 5:
            return format_elapsed(row.duration_seconds())
        return "" if row.cost is None else f"${row.cost:.2f}"
