"""View: a progress line (text, bar, Cancel) bound to an `OperationViewModel`.

Visible only while the view-model is busy; the bar is indeterminate until a total is known. Cancel
asks the view-model to cancel and is disabled when the operation cannot be cancelled (or already
is being cancelled).
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from lora_studio.viewmodels.dataset.operation import OperationViewModel


class ProgressStrip(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(14)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop after the current picture; finished work is kept.")
        layout.addWidget(self.label)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel_button)
        self.hide()

    def bind(self, view_model: OperationViewModel) -> None:
        view_model.busy_changed.connect(self.setVisible)
        view_model.progress_text_changed.connect(self.label.setText)
        view_model.progress_maximum_changed.connect(self._set_maximum)
        view_model.progress_value_changed.connect(self.bar.setValue)
        view_model.cancellable_changed.connect(self.cancel_button.setEnabled)
        self.cancel_button.clicked.connect(view_model.cancel)
        self.setVisible(view_model.busy)
        self.label.setText(view_model.progress_text)
        self._set_maximum(view_model.progress_maximum)
        self.bar.setValue(view_model.progress_value)
        self.cancel_button.setEnabled(view_model.cancellable)

    def _set_maximum(self, maximum: int) -> None:
        # 0…0 makes QProgressBar show a busy animation: right while the total is unknown.
        self.bar.setRange(0, max(maximum, 0))
