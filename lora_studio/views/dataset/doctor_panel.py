"""View: the dataset doctor — a summary, a table of findings, and buttons to run the full check and
apply fixes, bound to a DoctorViewModel.

Destructive fixes are confirmed with a message box opened non-modally (`open()`), answering the
view-model's `fix_confirmation_requested`. Double-clicking a finding shows its picture.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.dataset.doctor_vm import DoctorViewModel
from lora_studio.viewmodels.models.findings_model import FindingColumn, FindingRole
from lora_studio.views.dataset.progress_strip import ProgressStrip
from lora_studio.views.widgets.error_banner import ErrorBanner

PROBLEM_MIN_WIDTH = 160


class DoctorPanel(QWidget):
    """Findings table with run/fix actions."""

    finding_activated = Signal(str)  # path of the picture to show

    def __init__(self, view_model: DoctorViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        self.confirmation: QMessageBox | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.summary = QLabel(view_model.summary, self)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.error_banner = ErrorBanner(self)
        self.error_banner.bind(view_model)
        layout.addWidget(self.error_banner)

        buttons = QHBoxLayout()
        self.run_button = QPushButton("Check every picture", self)
        self.run_button.setToolTip(
            "Decode every picture to find truncated files and near-duplicates. Header, caption "
            "and bucket checks are already shown."
        )
        self.fix_button = QPushButton("Fix selected", self)
        self.fix_similar_button = QPushButton("Fix all like this", self)
        self.fix_similar_button.setToolTip("Apply this fix to every finding of the same kind.")
        for button in (self.run_button, self.fix_button, self.fix_similar_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.progress = ProgressStrip(self)
        self.progress.bind(view_model)
        layout.addWidget(self.progress)

        self.table = QTableView(self)
        self.table.setModel(view_model.findings_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        # One line per finding keeps thousands of rows cheap; the full sentence is shown below.
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        # Fixed widths, not ResizeToContents: that asks the model for every row of 10,000
        # findings on each reset.
        # The Problem column (last) takes what the others leave but never less than
        # PROBLEM_MIN_WIDTH (a Stretch section shrank to ~40 px in a narrow side pane and its
        # header read "robler"); below that the table scrolls sideways instead.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        metrics = self.table.fontMetrics()
        self.table.setColumnWidth(FindingColumn.SEVERITY, metrics.horizontalAdvance("Warning") + 18)
        self.table.setColumnWidth(
            FindingColumn.FILE, metrics.horizontalAdvance("IMG_0000.jpg") + 18
        )
        self.table.setColumnWidth(
            FindingColumn.FIX, metrics.horizontalAdvance("Flatten transparency") + 18
        )
        self.table.viewport().installEventFilter(self)
        layout.addWidget(self.table, 1)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMinimumHeight(self.message.fontMetrics().height() * 3)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.message)

        self.run_button.clicked.connect(view_model.run)
        self.fix_button.clicked.connect(self._on_fix_clicked)
        self.fix_similar_button.clicked.connect(self._on_fix_similar_clicked)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.selectionModel().currentChanged.connect(self._on_table_current_changed)
        view_model.findings_model.modelReset.connect(self._update_buttons)
        view_model.findings_model.modelReset.connect(lambda: self.message.setText(""))
        view_model.summary_changed.connect(self.summary.setText)
        view_model.busy_changed.connect(self._update_buttons)
        view_model.blocked_reason_changed.connect(self._update_buttons)
        view_model.fix_confirmation_requested.connect(self._on_vm_fix_confirmation_requested)
        self._update_buttons()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_problem_column()
        return super().eventFilter(watched, event)

    def _fit_problem_column(self) -> None:
        others = sum(
            self.table.columnWidth(column)
            for column in FindingColumn
            if column != FindingColumn.PROBLEM
        )
        room = self.table.viewport().width() - others
        self.table.setColumnWidth(FindingColumn.PROBLEM, max(PROBLEM_MIN_WIDTH, room))

    def selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.table.selectionModel().selectedRows()})

    def _update_buttons(self, *_args: object) -> None:
        # Also while the Dataset page imports, opens or deletes: the doctor waits for it.
        busy = self._vm.busy or bool(self._vm.blocked_reason)
        rows = self.selected_rows()
        fixable = [r for r in rows if self._vm.findings_model.index(r, 0).data(FindingRole.FIX)]
        self.run_button.setEnabled(not busy)
        self.fix_button.setEnabled(not busy and bool(fixable))
        self.fix_similar_button.setEnabled(not busy and len(fixable) == 1 and len(rows) == 1)

    def _on_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        finding = current.data(FindingRole.FINDING) if current.isValid() else None
        if finding is None:
            self.message.setText("")
            return
        fix = current.siblingAtColumn(FindingColumn.FIX).data()
        suffix = f"\nFix: {fix}." if fix else "\nNo automatic fix: the message says what to do."
        self.message.setText(f"{finding.message}{suffix}")

    def _on_fix_clicked(self) -> None:
        self._vm.fix_rows(self.selected_rows())

    def _on_fix_similar_clicked(self) -> None:
        rows = self.selected_rows()
        if rows:
            self._vm.fix_similar(rows[0])

    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        path = index.data(FindingRole.PATH)
        if path:
            self.finding_activated.emit(str(path))

    def _on_vm_fix_confirmation_requested(self, text: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Apply fixes",
            text,
            QMessageBox.StandardButton.Apply | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Apply)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._on_confirmation_finished)
        self.confirmation = box
        box.open()  # never exec(): a nested loop inside the qasync loop breaks running tasks

    def _on_confirmation_finished(self, result: int) -> None:
        box, self.confirmation = self.confirmation, None
        if (
            box is not None
            and box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Apply
        ):
            self._vm.confirm_fixes()
        else:
            self._vm.discard_fixes()
        del result  # the clicked button is what counts (Apply is an accept role)
