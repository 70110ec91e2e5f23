"""View: the Settings page — theme, the ComfyUI servers (with a connection test), the kohya
sd-scripts installs (with a check) and where LoRA Studio keeps its files.

Each backend box starts with a chooser: which configured backend of that kind the fields edit,
with Add…, Rename… and Remove (several ComfyUI servers, several kohya installs)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.replicate_settings_vm import ReplicateSettingsViewModel
from lora_studio.viewmodels.settings_vm import SettingsViewModel
from lora_studio.views.pages.replicate_settings_box import ReplicateSettingsBox
from lora_studio.views.style import PAGE_MARGINS, page_header
from lora_studio.views.widgets.error_banner import ErrorBanner

_THEMES = (("Follow the system", "system"), ("Light", "light"), ("Dark", "dark"))
_KIND_WORDS = {
    "comfyui": "ComfyUI server",
    "kohya": "kohya install",
    "replicate": "Replicate account",
}


class SettingsPage(QWidget):
    def __init__(self, view_model: SettingsViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*PAGE_MARGINS)
        header, _actions = page_header(
            "Settings",
            "Where your trainings run, how LoRA Studio looks, and where it keeps your files.",
            self,
        )
        layout.addLayout(header)

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

        # Messages elsewhere send the artist to "Settings → Backends": this heading is where.
        section = QLabel("Backends", self)
        section.setObjectName("SettingsSection")
        font = section.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        section.setFont(font)
        layout.addWidget(section)
        section_line = QLabel(
            "Where trainings run: a ComfyUI server, kohya sd-scripts on this computer, or "
            "Replicate in the cloud. The Train wizard offers the ones set up here.",
            self,
        )
        section_line.setWordWrap(True)
        layout.addWidget(section_line)
        backends = QGroupBox("ComfyUI servers", self)
        backends_form = QFormLayout(backends)
        self.choosers: dict[str, QComboBox] = {}
        self._add_chooser("comfyui", "Server", backends, backends_form)
        self.comfyui_url_edit = QLineEdit(view_model.comfyui_url, backends)
        self.comfyui_url_edit.setPlaceholderText("http://127.0.0.1:8188")
        self.comfyui_url_edit.setToolTip(
            "Address of your ComfyUI server. Use https:// for a server on another computer."
        )
        self.comfyui_url_edit.editingFinished.connect(self._on_url_edit_finished)
        backends_form.addRow("Address", self.comfyui_url_edit)
        self.insecure_check = QCheckBox("Allow plain http:// to other computers", backends)
        self.insecure_check.setToolTip(
            "Your pictures would travel unencrypted over the network. Only for a trusted home network."
        )
        self.insecure_check.setChecked(view_model.allow_insecure_http)
        self.insecure_check.toggled.connect(view_model.set_allow_insecure_http)
        view_model.allow_insecure_http_changed.connect(self._show_insecure)
        backends_form.addRow("", self.insecure_check)
        self.token_edit = QLineEdit(backends)
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("only for a proxy that asks for one")
        self.token_edit.setToolTip(
            "Access token of a proxy in front of ComfyUI, sent as 'Authorization: Bearer …'. "
            "Kept in the system keychain, never in a file."
        )
        self.token_edit.editingFinished.connect(self._on_token_edit_finished)
        backends_form.addRow("Proxy token", self.token_edit)
        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test connection", backends)
        self.test_button.setToolTip("Ask the server whether it can train LoRAs")
        self.test_button.clicked.connect(view_model.test_connection)
        test_row.addWidget(self.test_button)
        self.connection_label = QLabel(view_model.connection_status, backends)
        self.connection_label.setWordWrap(True)
        self.connection_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        test_row.addWidget(self.connection_label, 1)
        backends_form.addRow(test_row)
        layout.addWidget(backends)
        view_model.comfyui_url_changed.connect(self.comfyui_url_edit.setText)
        view_model.connection_status_changed.connect(self.connection_label.setText)
        view_model.busy_changed.connect(lambda busy: self.test_button.setDisabled(busy))

        self._build_kohya(view_model, layout)
        self.replicate_box = ReplicateSettingsBox(
            ReplicateSettingsViewModel(view_model, self), self
        )
        replicate_form = self.replicate_box.layout()
        assert isinstance(replicate_form, QFormLayout)
        self._add_chooser("replicate", "Account", self.replicate_box, replicate_form)
        layout.addWidget(self.replicate_box)

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

    def _build_kohya(self, view_model: SettingsViewModel, layout: QVBoxLayout) -> None:
        kohya = QGroupBox("kohya sd-scripts (on this computer)", self)
        form = QFormLayout(kohya)
        self._add_chooser("kohya", "Install", kohya, form)
        self.kohya_folder_edit = QLineEdit(view_model.kohya_sd_scripts, kohya)
        self.kohya_folder_edit.setPlaceholderText("/path/to/sd-scripts")
        self.kohya_folder_edit.setToolTip("The sd-scripts folder: the one with train_network.py.")
        form.addRow("sd-scripts folder", self.kohya_folder_edit)
        self.kohya_python_edit = QLineEdit(view_model.kohya_python, kohya)
        self.kohya_python_edit.setPlaceholderText("its venv's Python (automatic)")
        self.kohya_python_edit.setToolTip(
            "The Python that has sd-scripts' requirements installed. Empty: the venv inside the "
            "sd-scripts folder, else python3."
        )
        form.addRow("Python", self.kohya_python_edit)
        self.kohya_args_edit = QLineEdit(view_model.kohya_trainer_args, kohya)
        self.kohya_args_edit.setPlaceholderText("e.g. --tokenizer_cache_dir=/models/tokenizers")
        self.kohya_args_edit.setToolTip(
            "Extra arguments passed to the trainer as they are (shell-style quoting)."
        )
        form.addRow("Extra arguments", self.kohya_args_edit)
        for edit in (self.kohya_folder_edit, self.kohya_python_edit, self.kohya_args_edit):
            edit.editingFinished.connect(self._on_kohya_edit_finished)
        row = QHBoxLayout()
        self.kohya_check_button = QPushButton("Check", kohya)
        self.kohya_check_button.setToolTip("Look for torch, CUDA and the GPU in that Python")
        self.kohya_check_button.clicked.connect(view_model.test_kohya)
        row.addWidget(self.kohya_check_button)
        self.kohya_status_label = QLabel(view_model.kohya_status, kohya)
        self.kohya_status_label.setWordWrap(True)
        self.kohya_status_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        row.addWidget(self.kohya_status_label, 1)
        form.addRow(row)
        layout.addWidget(kohya)
        view_model.kohya_status_changed.connect(self.kohya_status_label.setText)
        view_model.kohya_sd_scripts_changed.connect(self.kohya_folder_edit.setText)
        view_model.kohya_python_changed.connect(self.kohya_python_edit.setText)
        view_model.kohya_trainer_args_changed.connect(self.kohya_args_edit.setText)
        view_model.busy_changed.connect(lambda busy: self.kohya_check_button.setDisabled(busy))

    def _add_chooser(self, kind: str, label: str, box: QGroupBox, form: QFormLayout) -> None:
        row = QHBoxLayout()
        combo = QComboBox(box)
        combo.setToolTip("Which configured backend the fields below change")
        combo.setObjectName(f"{kind}_chooser")
        self.choosers[kind] = combo
        row.addWidget(combo, 1)
        for text, slot, tip in (
            ("Add…", self._add, "Configure another one (e.g. a second server)"),
            ("Rename…", self._rename, "Give the chosen one another name"),
            ("Remove", self._remove, "Forget the chosen one; started jobs keep their record"),
        ):
            button = QPushButton(text, box)
            button.setObjectName(f"{kind}_{text.rstrip('…').lower()}")
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, k=kind, do=slot: do(k))
            row.addWidget(button)
        form.insertRow(0, label, row)
        combo.activated.connect(
            lambda index, k=kind, c=combo: self._vm.select_backend(k, c.itemText(index))
        )
        self._fill_chooser(kind)
        self._vm.backends_changed.connect(lambda k=kind: self._fill_chooser(k))

    def _fill_chooser(self, kind: str) -> None:
        combo = self.choosers[kind]
        names = self._vm.backend_names(kind) or [kind]
        combo.blockSignals(True)
        if [combo.itemText(i) for i in range(combo.count())] != names:
            combo.clear()
            combo.addItems(names)
        combo.setCurrentIndex(max(0, combo.findText(self._vm.current_name(kind))))
        combo.blockSignals(False)

    def ask_name(self, title: str, text: str = "") -> str | None:
        """A name typed by the artist, or None when cancelled (tests replace this)."""
        value, ok = QInputDialog.getText(self, title, "Name", text=text)
        return value if ok else None

    def _add(self, kind: str) -> None:
        name = self.ask_name(f"Add another {_KIND_WORDS.get(kind, kind)}")
        if name is not None:
            self._vm.add_backend(kind, name)

    def _rename(self, kind: str) -> None:
        old = self._vm.current_name(kind)
        name = self.ask_name(f"Rename “{old}”", old)
        if name is not None:
            self._vm.rename_backend(kind, old, name)

    def _remove(self, kind: str) -> None:
        self._vm.remove_backend(kind, self._vm.current_name(kind))

    def _on_kohya_edit_finished(self) -> None:
        values = (
            self.kohya_folder_edit.text(),
            self.kohya_python_edit.text(),
            self.kohya_args_edit.text(),
        )
        current = (self._vm.kohya_sd_scripts, self._vm.kohya_python, self._vm.kohya_trainer_args)
        if tuple(v.strip() for v in values) != current:
            self._vm.set_kohya(*values)

    def _show_insecure(self, allowed: bool) -> None:
        # Another server chosen: show its choice without writing it back.
        self.insecure_check.blockSignals(True)
        self.insecure_check.setChecked(allowed)
        self.insecure_check.blockSignals(False)

    def _select_theme(self, value: str) -> None:
        index = self.theme_combo.findData(value)
        if index >= 0 and index != self.theme_combo.currentIndex():
            self.theme_combo.setCurrentIndex(index)

    def _on_token_edit_finished(self) -> None:
        if self.token_edit.text():
            self._vm.set_comfyui_token(self.token_edit.text())
            self.token_edit.clear()  # the widget never keeps the secret around

    def _on_url_edit_finished(self) -> None:
        if self.comfyui_url_edit.text().strip().rstrip("/") != self._vm.comfyui_url:
            self._vm.set_comfyui_url(self.comfyui_url_edit.text())

    def _on_theme_combo_changed(self, _index: int) -> None:
        self._vm.set_theme(self.theme_combo.currentData())
