"""View: the Replicate box of the Settings page — API token (password field, stored in the
keychain and cleared at once), destination model, "create it if missing", Check."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from lora_studio.viewmodels.replicate_settings_vm import ReplicateSettingsViewModel


class ReplicateSettingsBox(QGroupBox):
    def __init__(
        self, view_model: ReplicateSettingsViewModel, parent: QWidget | None = None
    ) -> None:
        super().__init__("Replicate (cloud)", parent)
        self._vm = view_model
        form = QFormLayout(self)
        self.token_edit = QLineEdit(self)
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("r8_… (or set REPLICATE_API_TOKEN)")
        self.token_edit.setToolTip(
            "Your Replicate API token (replicate.com/account/api-tokens). Kept in the system "
            "keychain, never in a file."
        )
        self.token_edit.editingFinished.connect(self._on_token_edit_finished)
        form.addRow("API token", self.token_edit)
        self.destination_edit = QLineEdit(view_model.destination, self)
        self.destination_edit.setPlaceholderText("OWNER/NAME, e.g. alice/my-flux-lora")
        self.destination_edit.setToolTip(
            "The Replicate model that receives the trained weights (a new version per training)."
        )
        self.destination_edit.editingFinished.connect(
            lambda: view_model.set_destination(self.destination_edit.text())
        )
        form.addRow("Destination model", self.destination_edit)
        self.create_check = QCheckBox("Create it (private) if it does not exist", self)
        self.create_check.setChecked(view_model.create_destination)
        self.create_check.toggled.connect(view_model.set_create_destination)
        form.addRow("", self.create_check)
        row = QHBoxLayout()
        self.check_button = QPushButton("Check", self)
        self.check_button.setToolTip("Check the token, the trainer and the destination model")
        self.check_button.clicked.connect(view_model.check)
        row.addWidget(self.check_button)
        self.status_label = QLabel(view_model.status, self)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.status_label, 1)
        form.addRow(row)
        self.error_label = QLabel(view_model.error, self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.setVisible(bool(view_model.error))
        form.addRow(self.error_label)
        view_model.status_changed.connect(self.status_label.setText)
        view_model.destination_changed.connect(self.destination_edit.setText)
        view_model.create_destination_changed.connect(self.create_check.setChecked)
        view_model.busy_changed.connect(self.check_button.setDisabled)
        view_model.error_changed.connect(self._on_vm_error_changed)

    def _on_token_edit_finished(self) -> None:
        if self.token_edit.text():
            self._vm.set_token(self.token_edit.text())
            self.token_edit.clear()  # the widget never keeps the secret around

    def _on_vm_error_changed(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))
