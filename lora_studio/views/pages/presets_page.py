"""View: the Presets page — preset list, a form of every training parameter (tooltips explain
each), live checks and a live estimate, and save / delete / import / export.

Dialogs are opened with `open()` and answered through signals, never `exec()`, so the asyncio loop
keeps running underneath.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.presets_vm import FieldSpec, PresetsViewModel
from lora_studio.views.style import PAGE_MARGINS, SPACE, page_header
from lora_studio.views.widgets.error_banner import ErrorBanner

_ERROR_STYLE = "border: 1px solid #e53935; border-radius: 3px;"


class PresetsPage(QWidget):
    def __init__(self, view_model: PresetsViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        self._editors: dict[str, QWidget] = {}
        self.help_labels: dict[str, QLabel] = {}
        self._updating = False
        self._dialog: QWidget | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(*PAGE_MARGINS)
        outer.setSpacing(2 * SPACE)
        header, _actions = page_header(
            "Presets",
            "Starting points for a training: pick one, change what you need, save it as your own.",
            self,
        )
        outer.addLayout(header)
        self.error_banner = ErrorBanner(self)
        self.error_banner.bind(view_model)
        outer.addWidget(self.error_banner)
        columns = QHBoxLayout()
        outer.addLayout(columns, 1)

        # Left: the presets and what to do with them.
        left = QVBoxLayout()
        left.addWidget(QLabel("<b>Presets</b>", self))
        self.preset_list = QListWidget(self)
        self.preset_list.setFixedWidth(210)
        self.preset_list.currentItemChanged.connect(self._on_preset_list_current_changed)
        left.addWidget(self.preset_list, 1)
        self.description_label = QLabel("", self)
        self.description_label.setWordWrap(True)
        self.description_label.setFixedWidth(210)
        left.addWidget(self.description_label)
        buttons = (
            (
                "save_button",
                "Save as…",
                "Save these settings as your own preset",
                self._on_save_clicked,
            ),
            (
                "delete_button",
                "Delete",
                "Delete this user preset (built-ins cannot be deleted)",
                view_model.delete_selected,
            ),
            ("import_button", "Import…", "Add a preset from a .json file", self._on_import_clicked),
            (
                "export_button",
                "Export…",
                "Save these settings to a .json file to share",
                self._on_export_clicked,
            ),
        )
        for attribute, text, tip, slot in buttons:
            button = QPushButton(text, self)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            setattr(self, attribute, button)
            left.addWidget(button)
        columns.addLayout(left)

        # Middle: the form.
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        form_host = QWidget(scroll)
        form_column = QVBoxLayout(form_host)
        for title, specs in view_model.specs:
            group = QGroupBox(title, form_host)
            form = QFormLayout(group)
            for spec in specs:
                editor = self._make_editor(spec, group)
                label = QLabel(spec.label, group)
                label.setToolTip(spec.description)
                form.addRow(label, self._with_help(editor, spec, group))
            form_column.addWidget(group)
        form_column.addStretch(1)
        scroll.setWidget(form_host)
        columns.addWidget(scroll, 1)

        # Right: estimate and checks.
        right = QVBoxLayout()
        estimate_box = QGroupBox("Estimate", self)
        estimate_form = QFormLayout(estimate_box)
        self.image_count_spin = QSpinBox(estimate_box)
        self.image_count_spin.setRange(1, 100_000)
        self.image_count_spin.setValue(view_model.image_count)
        self.image_count_spin.setToolTip("How many images your dataset has")
        self.image_count_spin.valueChanged.connect(view_model.set_image_count)
        estimate_form.addRow("Images", self.image_count_spin)
        self.vram_spin = QDoubleSpinBox(estimate_box)
        self.vram_spin.setRange(2, 192)
        self.vram_spin.setSuffix(" GB")
        self.vram_spin.setDecimals(0)
        self.vram_spin.setValue(view_model.gpu_vram_gb)
        self.vram_spin.setToolTip("Memory of the GPU that will train")
        self.vram_spin.valueChanged.connect(view_model.set_gpu_vram_gb)
        estimate_form.addRow("GPU memory", self.vram_spin)
        self.estimate_label = QLabel(view_model.estimate_text, estimate_box)
        self.estimate_label.setWordWrap(True)
        estimate_form.addRow(self.estimate_label)
        right.addWidget(estimate_box)
        checks_box = QGroupBox("Checks", self)
        checks_layout = QVBoxLayout(checks_box)
        self.issues_label = QLabel(view_model.issues_text, checks_box)
        self.issues_label.setWordWrap(True)
        self.issues_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        checks_layout.addWidget(self.issues_label)
        right.addWidget(checks_box, 1)
        right_host = QWidget(self)
        right_host.setLayout(right)
        right_host.setFixedWidth(300)
        columns.addWidget(right_host)

        view_model.preset_names_changed.connect(self._on_vm_preset_names_changed)
        view_model.selected_preset_changed.connect(self._select_in_list)
        view_model.values_changed.connect(self._on_vm_values_changed)
        view_model.field_errors_changed.connect(self._on_vm_field_errors_changed)
        view_model.estimate_text_changed.connect(self.estimate_label.setText)
        view_model.issues_text_changed.connect(self._on_vm_issues_changed)
        view_model.is_builtin_changed.connect(
            lambda builtin: self.delete_button.setDisabled(builtin)
        )
        view_model.description_changed.connect(self.description_label.setText)
        self._on_vm_preset_names_changed(view_model.preset_names)
        self._on_vm_values_changed(view_model.values)
        self._on_vm_issues_changed(view_model.issues_text)
        self.delete_button.setDisabled(view_model.is_builtin)

    # -- form ----------------------------------------------------------------------------------

    def editor(self, name: str) -> QWidget:
        return self._editors[name]

    def _make_editor(self, spec: FieldSpec, parent: QWidget) -> QWidget:
        editor: QWidget
        if spec.kind == "choice":
            combo = QComboBox(parent)
            combo.addItems(list(spec.choices))
            combo.currentTextChanged.connect(lambda text, n=spec.name: self._edited(n, text))
            editor = combo
        elif spec.kind == "bool":
            box = QCheckBox(parent)
            box.toggled.connect(lambda on, n=spec.name: self._edited(n, "true" if on else "false"))
            editor = box
        else:
            line = QLineEdit(parent)
            if spec.optional:
                line.setPlaceholderText("not set")
            line.editingFinished.connect(lambda n=spec.name, w=line: self._edited(n, w.text()))
            editor = line
        editor.setToolTip(spec.description)
        editor.setProperty("description", spec.description)
        self._editors[spec.name] = editor
        return editor

    def _with_help(self, editor: QWidget, spec: FieldSpec, parent: QWidget) -> QWidget:
        """The field with its one-line explanation under it, as in the wizard."""
        host = QWidget(parent)
        column = QVBoxLayout(host)
        column.setContentsMargins(0, 0, 0, SPACE)
        column.setSpacing(0)
        column.addWidget(editor)
        if spec.description:
            hint = QLabel(spec.description, host)
            hint.setWordWrap(True)
            hint.setEnabled(False)  # the palette's muted text colour, in both themes
            font = hint.font()
            font.setPointSizeF(font.pointSizeF() * 0.9)
            hint.setFont(font)
            self.help_labels[spec.name] = hint
            column.addWidget(hint)
        return host

    def _edited(self, name: str, text: str) -> None:
        if not self._updating:
            self._vm.set_field(name, text)

    def _on_vm_values_changed(self, values: dict) -> None:  # type: ignore[type-arg]
        self._updating = True
        try:
            for name, text in values.items():
                editor = self._editors.get(name)
                if isinstance(editor, QComboBox):
                    editor.setCurrentText(text)
                elif isinstance(editor, QCheckBox):
                    editor.setChecked(text == "true")
                elif isinstance(editor, QLineEdit) and editor.text() != text:
                    editor.setText(text)
        finally:
            self._updating = False

    def _on_vm_field_errors_changed(self, errors: dict) -> None:  # type: ignore[type-arg]
        for name, editor in self._editors.items():
            message = errors.get(name)
            editor.setStyleSheet(_ERROR_STYLE if message else "")
            description = editor.property("description") or ""
            editor.setToolTip(f"{message}\n\n{description}" if message else description)

    def _on_vm_issues_changed(self, text: str) -> None:
        self.issues_label.setText(text or "No problems found.")

    # -- preset list ---------------------------------------------------------------------------

    def _on_vm_preset_names_changed(self, names: list) -> None:  # type: ignore[type-arg]
        self._updating = True
        try:
            self.preset_list.clear()
            for name, title in names:
                item = QListWidgetItem(title, self.preset_list)
                item.setData(Qt.ItemDataRole.UserRole, name)
                item.setToolTip(name)
        finally:
            self._updating = False
        self._select_in_list(self._vm.selected_preset)

    def _select_in_list(self, name: str) -> None:
        for row in range(self.preset_list.count()):
            item = self.preset_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                self._updating = True
                self.preset_list.setCurrentRow(row)
                self._updating = False
                return

    def _on_preset_list_current_changed(self, current, _previous) -> None:  # type: ignore[no-untyped-def]
        if current is not None and not self._updating:
            self._vm.select(current.data(Qt.ItemDataRole.UserRole))

    # -- dialogs (non-blocking) ----------------------------------------------------------------

    def _on_save_clicked(self) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Save preset")
        dialog.setLabelText("Name of your new preset:")
        dialog.textValueSelected.connect(lambda name: self._vm.save_as(name))
        self._dialog = dialog
        dialog.open()

    def _on_import_clicked(self) -> None:
        dialog = QFileDialog(self, "Import a preset", "", "Preset files (*.json)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self._vm.import_file)
        self._dialog = dialog
        dialog.open()

    def _on_export_clicked(self) -> None:
        dialog = QFileDialog(
            self, "Export the preset", f"{self._vm.selected_preset}.json", "Preset files (*.json)"
        )
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("json")
        dialog.fileSelected.connect(self._vm.export_selected)
        self._dialog = dialog
        dialog.open()
