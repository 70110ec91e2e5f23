"""View-model item model: the dataset doctor's findings as a table (severity, file, problem, fix).

A thin `QAbstractTableModel` over a list of core `Finding`s owned by the DoctorViewModel. The
finding itself and its fields are exposed as custom roles so the doctor panel can act on a
selection without parsing display text.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from lora_studio.viewmodels.dataset.core_adapter import Finding, Fix, Kind, Severity

ModelIndex = QModelIndex | QPersistentModelIndex


class FindingRole(IntEnum):
    FINDING = Qt.ItemDataRole.UserRole + 1
    PATH = Qt.ItemDataRole.UserRole + 2
    KIND = Qt.ItemDataRole.UserRole + 3
    SEVERITY = Qt.ItemDataRole.UserRole + 4
    FIX = Qt.ItemDataRole.UserRole + 5
    GROUP = Qt.ItemDataRole.UserRole + 6


class FindingColumn(IntEnum):
    # The long sentence goes last: in a narrow side pane it is what gets cut (it is shown in
    # full under the table), never the short Fix label the artist acts on.
    SEVERITY = 0
    FILE = 1
    FIX = 2
    PROBLEM = 3


HEADERS = {
    FindingColumn.SEVERITY: "Severity",
    FindingColumn.FILE: "File",
    FindingColumn.PROBLEM: "Problem",
    FindingColumn.FIX: "Fix",
}
SEVERITY_TEXT = {Severity.ERROR: "Error", Severity.WARNING: "Warning", Severity.INFO: "Note"}
SEVERITY_COLOUR = {
    Severity.ERROR: QColor("#d32f2f"),
    Severity.WARNING: QColor("#ef8c00"),
    Severity.INFO: QColor("#1e88e5"),
}
FIX_LABELS = {
    Fix.ROTATE_EXIF: "Rotate upright",
    Fix.CONVERT_RGB: "Convert to RGB",
    Fix.FLATTEN_ALPHA: "Flatten transparency",
    Fix.ADD_TRIGGER: "Add trigger word",
    Fix.CREATE_CAPTION: "Create caption",
    Fix.REENCODE_CAPTION: "Rewrite as UTF-8",
    Fix.MOVE_TO_TRASH: "Move to trash",
}


def fix_label(fix: Fix | str | None) -> str:
    if fix is None:
        return ""
    try:
        return FIX_LABELS[Fix(fix)]
    except ValueError:
        return str(fix)


class FindingsModel(QAbstractTableModel):
    """Table model of doctor findings; rows are replaced as a whole after each check."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._findings: list[Finding] = []
        self._root: Path | None = None

    def set_findings(self, findings: Sequence[Finding], root: Path | None = None) -> None:
        self.beginResetModel()
        self._findings = list(findings)
        self._root = root
        self.endResetModel()

    def findings(self) -> list[Finding]:
        return list(self._findings)

    def finding_at(self, row: int) -> Finding:
        return self._findings[row]

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._findings)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(FindingColumn)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(FindingColumn):
            return HEADERS[FindingColumn(section)]
        return super().headerData(section, orientation, role)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._findings):
            return None
        finding = self._findings[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(finding, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{finding.path}\n{finding.message}"
        if role == Qt.ItemDataRole.ForegroundRole and column == FindingColumn.SEVERITY:
            return SEVERITY_COLOUR.get(Severity(finding.severity))
        return self._custom(finding, role)

    def _display(self, finding: Finding, column: int) -> str | None:
        if column == FindingColumn.SEVERITY:
            return SEVERITY_TEXT.get(Severity(finding.severity), str(finding.severity))
        if column == FindingColumn.FILE:
            return self._relative(finding.path)
        if column == FindingColumn.PROBLEM:
            return finding.message
        if column == FindingColumn.FIX:
            if finding.fix is None and finding.kind == Kind.NEAR_DUPLICATE:
                return "Keep (best copy)"
            return fix_label(finding.fix)
        return None

    def _custom(self, finding: Finding, role: int) -> Any:
        if role == FindingRole.FINDING:
            return finding
        if role == FindingRole.PATH:
            return str(finding.path)
        if role == FindingRole.KIND:
            return str(finding.kind)
        if role == FindingRole.SEVERITY:
            return str(finding.severity)
        if role == FindingRole.FIX:
            return str(finding.fix) if finding.fix is not None else ""
        if role == FindingRole.GROUP:
            return finding.group if finding.group is not None else 0
        return None

    def _relative(self, path: Path) -> str:
        if self._root is not None:
            try:
                return path.relative_to(self._root).as_posix()
            except ValueError:
                pass
        return path.name

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
