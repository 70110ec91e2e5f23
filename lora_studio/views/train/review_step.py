"""View: the Train wizard's Review step — the plan in one line, steps, VRAM with its verdict
against the backend's GPU, duration, cost, every warning gathered on the way, and for a trainer
that runs here (kohya) the command it will run, to read and copy. The Start button lives in the
page's footer, where Next was."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.train.review_step_vm import ReviewStepViewModel
from lora_studio.views.train.common import (
    ERROR_COLOR,
    OK_COLOR,
    WARNING_COLOR,
    heading,
    message_lines,
    set_color,
    wrapped,
)
from lora_studio.views.widgets.error_banner import ErrorBanner

_VERDICT_COLORS = {"fits": OK_COLOR, "tight": WARNING_COLOR, "does_not_fit": ERROR_COLOR}


class ReviewStepWidget(QWidget):
    """The estimate and warnings of the review, bound to a ReviewStepViewModel."""

    def __init__(self, view_model: ReviewStepViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Review and start", self))
        self.error_banner = ErrorBanner(self)
        self.error_banner.bind(view_model)
        layout.addWidget(self.error_banner)
        self.summary_label = wrapped(view_model.summary_text, self)
        font = self.summary_label.font()
        font.setBold(True)
        self.summary_label.setFont(font)
        layout.addWidget(self.summary_label)

        box = QGroupBox("Estimate", self)
        column = QVBoxLayout(box)
        form = QFormLayout()
        # One-line values in the form; the verdict, a sentence, wraps below it (word-wrapped
        # labels inside a QFormLayout get unstable heights when the page relayouts).
        self.steps_label = QLabel(view_model.steps_text, box)
        form.addRow("Steps", self.steps_label)
        self.vram_label = QLabel(view_model.vram_text, box)
        form.addRow("VRAM", self.vram_label)
        self.duration_label = QLabel(view_model.duration_text, box)
        form.addRow("Duration", self.duration_label)
        self.cost_label = QLabel(view_model.cost_text, box)
        form.addRow("Cost", self.cost_label)
        column.addLayout(form)
        self.verdict_label = wrapped(view_model.verdict_text, box)
        column.addWidget(self.verdict_label)
        layout.addWidget(box)

        warnings_box = QGroupBox("Warnings", self)
        warnings_layout = QVBoxLayout(warnings_box)
        self.warnings_label = wrapped("", warnings_box)
        warnings_layout.addWidget(self.warnings_label)
        warnings_layout.addStretch(1)
        layout.addWidget(warnings_box, 1)
        layout.addWidget(self._command_box(), 2)
        self.started_label = QLabel("", self)
        set_color(self.started_label, OK_COLOR)
        layout.addWidget(self.started_label)

        view_model.summary_text_changed.connect(self.summary_label.setText)
        view_model.steps_text_changed.connect(self.steps_label.setText)
        view_model.vram_text_changed.connect(self.vram_label.setText)
        view_model.verdict_text_changed.connect(self.verdict_label.setText)
        view_model.verdict_level_changed.connect(
            lambda level: set_color(self.verdict_label, _VERDICT_COLORS.get(level))
        )
        view_model.duration_text_changed.connect(self.duration_label.setText)
        view_model.cost_text_changed.connect(self.cost_label.setText)
        view_model.warnings_changed.connect(self._on_vm_warnings_changed)
        view_model.command_text_changed.connect(self._on_vm_command_text_changed)
        self._on_vm_command_text_changed(view_model.command_text)
        view_model.started_job_id_changed.connect(self._on_vm_started_job_id_changed)
        self._on_vm_warnings_changed(view_model.warnings)
        self._on_vm_started_job_id_changed(view_model.started_job_id)
        set_color(self.verdict_label, _VERDICT_COLORS.get(view_model.verdict_level))

    def _command_box(self) -> QGroupBox:
        self.command_box = QGroupBox("The command it will run", self)
        column = QVBoxLayout(self.command_box)
        self.command_view = QPlainTextEdit(self.command_box)
        self.command_view.setReadOnly(True)
        self.command_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.command_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        column.addWidget(self.command_view)
        row = QHBoxLayout()
        note = QLabel(
            "The run folder is made at the start; the run keeps this command in its "
            "command.sh, to run again by hand.",
            self.command_box,
        )
        note.setWordWrap(True)
        row.addWidget(note, 1)
        self.copy_command_button = QPushButton("Copy", self.command_box)
        self.copy_command_button.setToolTip("Copy the command to the clipboard")
        self.copy_command_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.command_view.toPlainText())
        )
        row.addWidget(self.copy_command_button)
        column.addLayout(row)
        return self.command_box

    def _on_vm_command_text_changed(self, text: str) -> None:
        self.command_view.setPlainText(text)
        self.command_box.setVisible(bool(text))

    def _on_vm_warnings_changed(self, warnings: list) -> None:  # type: ignore[type-arg]
        self.warnings_label.setText(message_lines(warnings, "None."))

    def _on_vm_started_job_id_changed(self, job_id: str) -> None:
        self.started_label.setText(
            f"Started job {job_id}. Follow it on the Jobs page." if job_id else ""
        )
        self.started_label.setVisible(bool(job_id))
