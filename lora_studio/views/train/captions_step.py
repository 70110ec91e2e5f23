"""View: the Train wizard's Captions-check step — the doctor's quick findings counted by kind,
the first few in words, missing captions called out, and "Continue anyway" for warnings."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.train.dataset_step_vm import DatasetStepViewModel
from lora_studio.views.train.common import ERROR_COLOR, heading, set_color, wrapped
from lora_studio.views.widgets.error_banner import ErrorBanner

_COLUMNS = ("Finding", "Severity", "Images")


class CaptionsStepWidget(QWidget):
    """Findings by kind, first messages, the captions callout; bound to a DatasetStepViewModel."""

    def __init__(self, view_model: DatasetStepViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Captions and pictures check", self))
        self.checked_with_label = wrapped(view_model.checked_with, self, selectable=False)
        self.checked_with_label.setEnabled(False)  # a footnote, drawn in the muted colour
        layout.addWidget(self.checked_with_label)
        self.error_banner = ErrorBanner(self)
        self.error_banner.bind(view_model)
        layout.addWidget(self.error_banner)

        self.callout_label = wrapped("", self)
        font = self.callout_label.font()
        font.setBold(True)
        self.callout_label.setFont(font)
        set_color(self.callout_label, ERROR_COLOR)
        layout.addWidget(self.callout_label)

        self.table = QTableWidget(0, len(_COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a read-only summary, not a control
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table)
        self.none_label = QLabel("No problems found: every picture is ready to train.", self)
        layout.addWidget(self.none_label)

        layout.addWidget(QLabel("<b>First findings</b>", self))
        self.examples_label = wrapped("", self)
        layout.addWidget(self.examples_label)

        row = QHBoxLayout()
        self.continue_box = QCheckBox("Continue anyway", self)
        self.continue_box.setToolTip("Train with these warnings; the review lists them again")
        self.continue_box.toggled.connect(view_model.set_acknowledged)
        row.addWidget(self.continue_box)
        row.addStretch(1)
        self.captions_button = QPushButton("Edit captions…", self)
        self.captions_button.setToolTip("Open this dataset on the Captions page")
        self.captions_button.clicked.connect(view_model.request_captions_page)
        row.addWidget(self.captions_button)
        self.recheck_button = QPushButton("Re-check", self)
        self.recheck_button.setToolTip(
            "Read the folder again, e.g. after writing captions on the Captions page"
        )
        self.recheck_button.clicked.connect(view_model.recheck)
        row.addWidget(self.recheck_button)
        layout.addLayout(row)
        layout.addStretch(1)

        view_model.findings_counts_changed.connect(self._on_vm_counts_changed)
        view_model.findings_examples_changed.connect(self._on_vm_examples_changed)
        view_model.caption_callout_changed.connect(self._on_vm_callout_changed)
        view_model.needs_acknowledgement_changed.connect(self.continue_box.setVisible)
        view_model.acknowledged_changed.connect(self._on_vm_acknowledged_changed)
        view_model.checked_with_changed.connect(self.checked_with_label.setText)
        view_model.busy_changed.connect(self.recheck_button.setDisabled)
        self._on_vm_counts_changed(view_model.findings_counts)
        self._on_vm_examples_changed(view_model.findings_examples)
        self._on_vm_callout_changed(view_model.caption_callout)
        self.continue_box.setVisible(view_model.needs_acknowledgement)
        self._on_vm_acknowledged_changed(view_model.acknowledged)

    def _on_vm_counts_changed(self, counts: list) -> None:  # type: ignore[type-arg]
        self.table.setRowCount(len(counts))
        for row, (label, severity, count) in enumerate(counts):
            for column, value in enumerate((label, severity.capitalize(), str(count))):
                item = QTableWidgetItem(value)
                if column == 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        # As tall as its rows: a few kinds of findings should not leave an empty box.
        height = self.table.horizontalHeader().height() + 2 * self.table.frameWidth()
        height += sum(self.table.rowHeight(row) for row in range(len(counts)))
        self.table.setFixedHeight(height)
        self.table.setVisible(bool(counts))
        self.none_label.setVisible(not counts)

    def _on_vm_examples_changed(self, examples: list) -> None:  # type: ignore[type-arg]
        self.examples_label.setText("\n".join(f"• {text}" for text in examples) or "—")

    def _on_vm_callout_changed(self, text: str) -> None:
        self.callout_label.setText(text)
        self.callout_label.setVisible(bool(text))

    def _on_vm_acknowledged_changed(self, acknowledged: bool) -> None:
        if self.continue_box.isChecked() != acknowledged:
            self.continue_box.setChecked(acknowledged)
