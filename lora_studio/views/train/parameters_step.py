"""View: the Train wizard's preset-and-parameters step — a preset, the key settings (each with
its one-line explanation and its own inline error), a live step/VRAM estimate and the checks.

The base model is an editable combo: filled with the backend's checkpoints once it has been asked,
free text otherwise. Text fields commit when editing finishes, like the Presets page.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.train.parameters_step_vm import (
    ParameterField,
    ParametersStepViewModel,
)
from lora_studio.views.train.common import ERROR_COLOR, heading, set_color, wrapped
from lora_studio.views.widgets.error_banner import ErrorBanner

_PLACEHOLDERS = {
    "base_model": "Choose or type the checkpoint",
    "max_steps": "empty: train for the epochs",
    "trigger_word": "e.g. ohwx",
}
_ERROR_BORDER = f"border: 1px solid {ERROR_COLOR}; border-radius: 3px;"


class ParametersStepWidget(QWidget):
    """Preset combo and key-settings form with inline errors, bound to a ParametersStepViewModel."""

    def __init__(self, view_model: ParametersStepViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        self._updating = False
        self.editors: dict[str, QWidget] = {}
        self.error_labels: dict[str, QLabel] = {}
        outer = QVBoxLayout(self)
        outer.addWidget(heading("Preset and parameters", self))
        self.error_banner = ErrorBanner(self)
        self.error_banner.bind(view_model)
        outer.addWidget(self.error_banner)
        columns = QHBoxLayout()
        outer.addLayout(columns, 1)

        left = QVBoxLayout()
        preset_row = QFormLayout()
        self.preset_combo = QComboBox(self)
        self.preset_combo.setToolTip("The starting point; the settings below change it")
        self.preset_combo.activated.connect(self._on_preset_activated)
        preset_row.addRow("Preset", self.preset_combo)
        left.addLayout(preset_row)
        self.description_label = wrapped(view_model.description, self, selectable=False)
        self.description_label.setEnabled(False)
        left.addWidget(self.description_label)
        box = QGroupBox("Key settings", self)
        self._form = QFormLayout(box)
        for spec in view_model.fields:
            self._form.addRow(self._label(spec, box), self._make_editor(spec, box))
        left.addWidget(box)
        left.addStretch(1)
        columns.addLayout(left, 3)

        right = QVBoxLayout()
        estimate_box = QGroupBox("Estimate", self)
        estimate_layout = QVBoxLayout(estimate_box)
        self.estimate_label = wrapped(view_model.estimate_text, estimate_box)
        estimate_layout.addWidget(self.estimate_label)
        right.addWidget(estimate_box)
        checks_box = QGroupBox("Checks", self)
        checks_layout = QVBoxLayout(checks_box)
        self.issues_label = wrapped("", checks_box)
        checks_layout.addWidget(self.issues_label)
        checks_layout.addStretch(1)
        right.addWidget(checks_box, 1)
        columns.addLayout(right, 2)

        view_model.preset_names_changed.connect(self._on_vm_preset_names_changed)
        view_model.selected_preset_changed.connect(self._select_preset)
        view_model.description_changed.connect(self.description_label.setText)
        view_model.values_changed.connect(self._on_vm_values_changed)
        view_model.field_errors_changed.connect(self._on_vm_field_errors_changed)
        view_model.checkpoints_changed.connect(self._on_vm_checkpoints_changed)
        view_model.estimate_text_changed.connect(self.estimate_label.setText)
        view_model.issues_text_changed.connect(self._on_vm_issues_changed)
        self._on_vm_preset_names_changed(view_model.preset_names)
        self._on_vm_checkpoints_changed(view_model.checkpoints)
        self._on_vm_values_changed(view_model.values)
        self._on_vm_field_errors_changed(view_model.field_errors)
        self._on_vm_issues_changed(view_model.issues_text)

    # -- building --------------------------------------------------------------------------------

    def _label(self, spec: ParameterField, parent: QWidget) -> QLabel:
        label = QLabel(spec.label, parent)
        label.setToolTip(spec.description)
        return label

    def _make_editor(self, spec: ParameterField, parent: QWidget) -> QWidget:
        host = QWidget(parent)
        column = QVBoxLayout(host)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        editor: QWidget
        if spec.name == "base_model":
            combo = QComboBox(host)
            combo.setEditable(True)
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            combo.lineEdit().setPlaceholderText(_PLACEHOLDERS["base_model"])
            combo.textActivated.connect(lambda text: self._edited("base_model", text))
            combo.lineEdit().editingFinished.connect(
                lambda: self._edited("base_model", combo.currentText())
            )
            editor = combo
        else:
            line = QLineEdit(host)
            line.setPlaceholderText(_PLACEHOLDERS.get(spec.name, ""))
            line.editingFinished.connect(lambda n=spec.name, w=line: self._edited(n, w.text()))
            editor = line
        editor.setToolTip(spec.description)
        # The red error border must not change the field's height (the rows below would jump).
        editor.setFixedHeight(editor.sizeHint().height())
        column.addWidget(editor)
        hint = wrapped(spec.description, host, selectable=False)
        hint.setEnabled(False)
        column.addWidget(hint)
        error = wrapped("", host)
        set_color(error, ERROR_COLOR)
        # The error line is always there (empty when the value is fine) and keeps one line of
        # room: the fields below do not jump when an error appears or is fixed, so the next
        # click lands where the artist aimed.
        error.setMinimumHeight(error.fontMetrics().lineSpacing())
        column.addWidget(error)
        self.editors[spec.name] = editor
        self.error_labels[spec.name] = error
        return host

    # -- intent ----------------------------------------------------------------------------------

    def _edited(self, name: str, text: str) -> None:
        if not self._updating:
            self._vm.set_field(name, text)

    def _on_preset_activated(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if name:
            self._vm.select_preset(name)

    # -- bindings --------------------------------------------------------------------------------

    def _on_vm_preset_names_changed(self, names: list) -> None:  # type: ignore[type-arg]
        self.preset_combo.clear()
        for name, title in names:
            self.preset_combo.addItem(title, name)
        self._select_preset(self._vm.selected_preset)

    def _select_preset(self, name: str) -> None:
        index = self.preset_combo.findData(name)
        if index >= 0:
            self.preset_combo.setCurrentIndex(index)

    def _on_vm_checkpoints_changed(self, checkpoints: list) -> None:  # type: ignore[type-arg]
        combo = self.editors["base_model"]
        assert isinstance(combo, QComboBox)
        self._updating = True
        try:
            text = combo.currentText()
            combo.clear()
            combo.addItems(list(checkpoints))
            combo.setEditText(text)
        finally:
            self._updating = False

    def _on_vm_values_changed(self, values: dict) -> None:  # type: ignore[type-arg]
        self._updating = True
        try:
            for name, text in values.items():
                editor = self.editors.get(name)
                if isinstance(editor, QComboBox) and editor.currentText() != text:
                    editor.setEditText(text)
                elif isinstance(editor, QLineEdit) and editor.text() != text:
                    editor.setText(text)
        finally:
            self._updating = False

    def _on_vm_field_errors_changed(self, errors: dict) -> None:  # type: ignore[type-arg]
        for name, editor in self.editors.items():
            message = errors.get(name, "")
            editor.setStyleSheet(_ERROR_BORDER if message else "")
            label = self.error_labels[name]
            label.setText(message)
            label.parentWidget().updateGeometry()
        # QFormLayout caches the height-for-width of rows with wrapped text; without this a row
        # keeps the height of an error that was fixed.
        self._form.invalidate()

    def _on_vm_issues_changed(self, text: str) -> None:
        self.issues_label.setText(text or "No problems found.")
