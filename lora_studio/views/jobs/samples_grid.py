"""View: the sample grid of a job — checkpoints as rows (the no-LoRA reference first), prompts
as columns, the loss at that step in the row header; double-click (or Enter) shows a sample
large, to walk with the arrow keys; "Use this checkpoint" makes the selected row's checkpoint the
final LoRA."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedLayout,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.jobs_vm import JobsViewModel
from lora_studio.viewmodels.models.samples_model import THUMBNAIL_SIZE
from lora_studio.views.icons import icon
from lora_studio.views.jobs.sample_viewer import SampleViewer

EMPTY_TEXT = (
    "No sample images for this job. Add sample prompts when you start a training (or "
    "`--sample-prompt` on the command line): each checkpoint is then rendered with them, next to "
    "the same prompts without the LoRA."
)


class SamplesGrid(QWidget):
    def __init__(self, view_model: JobsViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        self._stack = QStackedLayout()
        self.empty_label = QLabel(EMPTY_TEXT, self)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table = QTableView(self)
        self.table.setModel(view_model.samples_model)
        self.table.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(THUMBNAIL_SIZE + 8)
        self.table.horizontalHeader().setDefaultSectionSize(THUMBNAIL_SIZE + 8)
        self.table.setToolTip("Double-click a sample to see it large")
        # Activated: a double-click, or Enter on the selected sample (one signal for both).
        self.table.activated.connect(self._on_table_activated)
        self._stack.addWidget(self.empty_label)
        self._stack.addWidget(self.table)
        layout.addLayout(self._stack, 1)
        row = QHBoxLayout()
        self.hint = QLabel(
            "Double-click a sample to see it large; select a checkpoint row to use it as the "
            "final LoRA.",
            self,
        )
        row.addWidget(self.hint, 1)
        self.use_button = QPushButton(
            icon("mdi6.check-decagram-outline"), "Use this checkpoint", self
        )
        self.use_button.setToolTip(
            "Make the selected checkpoint the job's LoRA (metadata added, file verified; the "
            "current file is kept)"
        )
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self._on_use_clicked)
        row.addWidget(self.use_button)
        layout.addLayout(row)
        self.table.selectionModel().selectionChanged.connect(self._update_button)
        view_model.samples_model.modelReset.connect(self._update_button)
        view_model.samples_changed.connect(self._on_vm_samples_changed)
        self._on_vm_samples_changed(0)

    def _selected_step(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return self._vm.samples_model.step_of_row(rows[0].row()) if rows else -1

    def _update_button(self, *_args: object) -> None:
        self.use_button.setEnabled(self._selected_step() > 0 and self._vm.can_inspect)

    def _on_use_clicked(self) -> None:
        self._vm.promote_selected(self._selected_step())

    def _on_vm_samples_changed(self, count: int) -> None:
        self._stack.setCurrentWidget(self.table if count else self.empty_label)
        self.use_button.setVisible(bool(count))
        self.hint.setVisible(bool(count))

    def _on_table_activated(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        self.viewer = SampleViewer(self._vm.sample_viewer(index.row(), index.column()), self)
        self.viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.viewer.open()
