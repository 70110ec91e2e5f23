"""View-model item model: the tag-frequency table (tag, number of captions, share of the dataset).

A plain `QAbstractTableModel` over a list the TagsViewModel computes off the GUI thread. Sorting is
done here in Python (a few thousand rows at most) with one `layoutChanged`, so a
QSortFilterProxyModel on top only filters.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

ModelIndex = QModelIndex | QPersistentModelIndex

TAG_ROLE = Qt.ItemDataRole.UserRole + 1  # the tag text of a row, whatever the column
COUNT_ROLE = Qt.ItemDataRole.UserRole + 2
SORT_ROLE = Qt.ItemDataRole.UserRole + 3  # what a sorting proxy compares: name or count
_HEADERS = ("Tag", "Captions", "Share")


class TagFrequencyModel(QAbstractTableModel):
    """Rows of (tag, count); `total` is the number of pictures (for the share column)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, int]] = []
        self._total = 0
        self._sort_column = 1
        self._sort_order = Qt.SortOrder.DescendingOrder

    # -- Qt API ------------------------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(_HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        tag, count = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return tag
            if column == 1:
                return f"{count:,}"
            return f"{100 * count / self._total:.0f} %" if self._total else "—"
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            noun = "caption" if count == 1 else "captions"
            return f"“{tag}” is in {count:,} {noun} of {self._total:,}"
        if role == TAG_ROLE:
            return tag
        if role == COUNT_ROLE:
            return count
        if role == SORT_ROLE:
            return tag.casefold() if column == 0 else count
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column, self._sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        self._sort()
        self.layoutChanged.emit()

    # -- updates -----------------------------------------------------------------------------------
    def set_rows(self, rows: list[tuple[str, int]], total: int) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._total = total
        self._sort()
        self.endResetModel()

    def rows(self) -> list[tuple[str, int]]:
        return list(self._rows)

    def total(self) -> int:
        return self._total

    def _sort(self) -> None:
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        if self._sort_column == 0:
            self._rows.sort(key=lambda row: row[0].casefold(), reverse=descending)
        else:
            # Ties by name, always A→Z, so equal counts keep a stable readable order.
            self._rows.sort(key=lambda row: row[0].casefold())
            self._rows.sort(key=lambda row: row[1], reverse=descending)
