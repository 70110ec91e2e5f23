"""View: the Settings page — theme choice and where LoRA Studio keeps its files."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from lora_studio.viewmodels.settings_vm import SettingsViewModel
from lora_studio.views.widgets.error_banner import ErrorBanner

_THEMES = (("Follow the system", "system"), ("Light", "light"), ("Dark", "dark"))


class SettingsPage(QWidget):
    def __init__(self, view_model: SettingsViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 28)
        heading = QLabel("Settings", self)
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        heading.setFont(font)
        layout.addWidget(heading)

        self.error_banner = ErrorBanner(self)
        self.error_banner.bind(view_model)
        layout.addWidget(self.error_banner)

        appearance = QGroupBox("Appearance", self)
        form = QFormLayout(appearance)
        self.theme_combo = QComboBox(appearance)
        for label, value in _THEMES:
            self.theme_combo.addItem(label, value)
        self.theme_combo.setToolTip(
            "Light or dark colours; 'Follow the system' tracks your desktop."
        )
        form.addRow("Theme", self.theme_combo)
        layout.addWidget(appearance)

        storage = QGroupBox("Where your data lives", self)
        storage_form = QFormLayout(storage)
        for label, path in view_model.paths.items():
            value = QLabel(path, storage)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            storage_form.addRow(label, value)
        layout.addWidget(storage)
        layout.addStretch(1)

        self._select_theme(view_model.theme)
        view_model.theme_changed.connect(self._select_theme)
        self.theme_combo.currentIndexChanged.connect(self._on_theme_combo_changed)

    def _select_theme(self, value: str) -> None:
        index = self.theme_combo.findData(value)
        if index >= 0 and index != self.theme_combo.currentIndex():
            self.theme_combo.setCurrentIndex(index)

    def _on_theme_combo_changed(self, _index: int) -> None:
        self._vm.set_theme(self.theme_combo.currentData())
