"""View: the Train wizard's Backend step — where to train (every registered backend kind, each
with a sentence), a Check button, the diagnosis, the GPU and its memory, and the backend's own
warnings and errors about these settings."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.train.backend_step_vm import BackendStepViewModel
from lora_studio.views.train.common import (
    ERROR_COLOR,
    OK_COLOR,
    heading,
    message_lines,
    set_color,
    wrapped,
)
from lora_studio.views.widgets.error_banner import ErrorBanner

_LEVEL_COLORS = {"ok": OK_COLOR, "error": ERROR_COLOR}


class BackendStepWidget(QWidget):
    """Backend choices, Check, diagnosis and messages, bound to a BackendStepViewModel."""

    def __init__(
        self,
        view_model: BackendStepViewModel,
        check: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._vm = view_model
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Where should it train?", self))
        self.error_banner = ErrorBanner(self)
        self.error_banner.bind(view_model)
        layout.addWidget(self.error_banner)

        choices_box = QGroupBox("Backend", self)
        choices_layout = QVBoxLayout(choices_box)
        self.group = QButtonGroup(self)
        self.radios: dict[str, QRadioButton] = {}
        for choice in view_model.choices:
            radio = QRadioButton(choice.title, choices_box)
            radio.setEnabled(choice.available)
            radio.setChecked(choice.kind == view_model.kind)
            radio.toggled.connect(
                lambda on, kind=choice.kind: view_model.select(kind) if on else None
            )
            self.group.addButton(radio)
            self.radios[choice.kind] = radio
            choices_layout.addWidget(radio)
            note = wrapped(choice.note, choices_box, selectable=False)
            note.setEnabled(choice.available)
            note.setContentsMargins(24, 0, 0, 6)
            choices_layout.addWidget(note)
        name_row = QHBoxLayout()
        self.name_label = QLabel("Which one", choices_box)
        self.name_combo = QComboBox(choices_box)
        self.name_combo.setToolTip("Several of this kind are set up in Settings: choose one")
        self.name_combo.activated.connect(
            lambda index: view_model.select_name(self.name_combo.itemText(index))
        )
        name_row.addWidget(self.name_label)
        name_row.addWidget(self.name_combo, 1)
        choices_layout.addLayout(name_row)
        layout.addWidget(choices_box)
        view_model.kind_changed.connect(lambda _kind: self._fill_names())
        self._fill_names()

        status_box = QGroupBox("Status", self)
        status = QFormLayout(status_box)
        row = QHBoxLayout()
        self.check_button = QPushButton("Check", status_box)
        self.check_button.setToolTip(
            "Ask the backend whether it can train now, and validate these settings on it"
        )
        self.check_button.clicked.connect(check)
        row.addWidget(self.check_button)
        self.diagnosis_label = wrapped(view_model.diagnosis, status_box)
        self.diagnosis_label.setAlignment(
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        )
        font = self.diagnosis_label.font()
        font.setBold(True)
        self.diagnosis_label.setFont(font)
        row.addWidget(self.diagnosis_label, 1)
        status.addRow(row)
        self.gpu_label = QLabel(view_model.gpu_text or "—", status_box)
        status.addRow("GPU", self.gpu_label)
        layout.addWidget(status_box)

        layout.addWidget(QLabel("<b>What the backend says about these settings</b>", self))
        self.messages_label = wrapped("", self)
        layout.addWidget(self.messages_label, 1)

        view_model.diagnosis_changed.connect(self.diagnosis_label.setText)
        view_model.status_level_changed.connect(self._on_vm_status_level_changed)
        view_model.gpu_text_changed.connect(lambda text: self.gpu_label.setText(text or "—"))
        view_model.messages_changed.connect(self._on_vm_messages_changed)
        view_model.messages_placeholder_changed.connect(self._on_vm_messages_changed)
        view_model.busy_changed.connect(self.check_button.setDisabled)
        view_model.kind_changed.connect(lambda kind: self.radios[kind].setChecked(True))
        self._on_vm_status_level_changed(view_model.status_level)
        self._on_vm_messages_changed(view_model.messages)

    def _on_vm_status_level_changed(self, level: str) -> None:
        set_color(self.diagnosis_label, _LEVEL_COLORS.get(level))

    def _on_vm_messages_changed(self, *_args: object) -> None:
        vm = self._vm
        self.messages_label.setText(message_lines(vm.messages, vm.messages_placeholder))

    def showEvent(self, event: QShowEvent) -> None:
        self._fill_names()  # Settings may have added or renamed one meanwhile
        super().showEvent(event)

    def _fill_names(self) -> None:
        """The configured backends of the chosen kind; shown only when there is a choice."""
        names = self._vm.names()
        self.name_combo.blockSignals(True)
        self.name_combo.clear()
        self.name_combo.addItems(names)
        current = self._vm.backend_name or (names[0] if names else "")
        self.name_combo.setCurrentIndex(max(0, self.name_combo.findText(current)))
        self.name_combo.blockSignals(False)
        for widget in (self.name_label, self.name_combo):
            widget.setVisible(len(names) > 1)
