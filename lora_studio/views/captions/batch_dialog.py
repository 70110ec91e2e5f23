"""View: the batch dialog — scope (selection or whole dataset), one operation with its fields, the
live preview (count and before/after examples) and Apply, bound to a BatchViewModel.

Shown with `open()` (never `exec()`); Apply writes one undo step and closes the dialog.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.captions.batch_vm import (
    OPERATION_FIELDS,
    OPERATION_TITLES,
    BatchOperation,
    BatchViewModel,
)
from lora_studio.views.style import make_primary

_LINE_FIELDS = {
    "word": "Trigger word",
    "prefix": "Prefix",
    "suffix": "Suffix",
    "find": "Find",
    "replace": "Replace with",
    "tag": "Tag",
    "new_tag": "New name",
}
_CHECK_FIELDS = {
    "regex": "Regular expression",
    "case_sensitive": "Match case",
    "keep_first": "Keep the first tag (the trigger word) in place",
}


class BatchDialog(QDialog):
    """One batch operation over the selection or the whole dataset, with its preview."""

    def __init__(
        self,
        view_model: BatchViewModel,
        tags: list[str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._vm = view_model
        self.setWindowTitle("Batch edit captions")
        self.setMinimumSize(660, 540)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Change many captions at once. Nothing is written until you press Apply, and "
            "Ctrl+Z undoes the whole batch in one step.",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        scope = QHBoxLayout()
        self.selection_radio = QRadioButton(self)
        self.all_radio = QRadioButton(self)
        scope.addWidget(self.selection_radio)
        scope.addWidget(self.all_radio)
        scope.addStretch(1)
        layout.addLayout(scope)

        form = QFormLayout()
        self.operation_combo = QComboBox(self)
        for operation in BatchOperation:
            self.operation_combo.addItem(OPERATION_TITLES[operation], operation.value)
        form.addRow("Operation:", self.operation_combo)
        self.line_fields: dict[str, QLineEdit] = {}
        self.check_fields: dict[str, QCheckBox] = {}
        self._form = form
        completer_tags = tags or []
        for name, label in _LINE_FIELDS.items():
            field = QLineEdit(self)
            field.setText(str(getattr(view_model.fields, name)))
            if name in ("tag", "word") and completer_tags:
                completer = QCompleter(completer_tags, field)
                completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
                completer.setFilterMode(Qt.MatchFlag.MatchContains)
                field.setCompleter(completer)
            field.textChanged.connect(lambda text, n=name: view_model.set_field(n, text))
            form.addRow(f"{label}:", field)
            self.line_fields[name] = field
        for name, label in _CHECK_FIELDS.items():
            box = QCheckBox(label, self)
            box.setChecked(bool(getattr(view_model.fields, name)))
            box.toggled.connect(lambda checked, n=name: view_model.set_field(n, checked))
            form.addRow("", box)
            self.check_fields[name] = box
        layout.addLayout(form)

        self.preview_label = QLabel(self)
        font = self.preview_label.font()
        font.setBold(True)
        self.preview_label.setFont(font)
        layout.addWidget(self.preview_label)
        self.examples = QTableWidget(0, 3, self)
        self.examples.setHorizontalHeaderLabels(["Picture", "Before", "After"])
        self.examples.verticalHeader().hide()
        self.examples.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.examples.setWordWrap(True)
        header = self.examples.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.examples.setMinimumHeight(150)
        layout.addWidget(self.examples, 1)
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        layout.addWidget(self.error_label)

        self.buttons = QDialogButtonBox(self)
        self.apply_button = make_primary(QPushButton("Apply", self))
        self.apply_button.setDefault(True)
        self.buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._bind()

    def _bind(self) -> None:
        vm = self._vm
        self.operation_combo.currentIndexChanged.connect(self._on_operation_combo_changed)
        self.selection_radio.toggled.connect(vm.set_use_selection)
        self.apply_button.clicked.connect(vm.apply)
        vm.preview_text_changed.connect(self.preview_label.setText)
        vm.examples_changed.connect(self._on_vm_examples_changed)
        vm.can_apply_changed.connect(self.apply_button.setEnabled)
        vm.error_changed.connect(self._on_vm_error_changed)
        vm.selection_count_changed.connect(self._update_scope)
        vm.use_selection_changed.connect(self._update_scope)
        vm.scope_text_changed.connect(self._update_scope)
        vm.applied.connect(self._on_vm_applied)
        self.finished.connect(lambda _result: vm.close())
        index = self.operation_combo.findData(vm.operation)
        self.operation_combo.setCurrentIndex(max(index, 0))
        self._show_fields(vm.operation)
        self.preview_label.setText(vm.preview_text)
        self._on_vm_examples_changed(vm.examples)
        self.apply_button.setEnabled(vm.can_apply)
        self._on_vm_error_changed(vm.error)
        self._update_scope()

    def _on_vm_applied(self, _count: int) -> None:
        self.accept()

    def _on_operation_combo_changed(self, _index: int) -> None:
        key = str(self.operation_combo.currentData())
        self._vm.set_operation(key)
        self._show_fields(key)

    def _show_fields(self, key: str) -> None:
        wanted = set(OPERATION_FIELDS[BatchOperation(key)])
        for name, widget in (*self.line_fields.items(), *self.check_fields.items()):
            self._form.setRowVisible(widget, name in wanted)

    def _update_scope(self, *_args: object) -> None:
        vm = self._vm
        count = vm.selection_count
        self.selection_radio.setText(f"Selected pictures ({count:,})")
        self.selection_radio.setEnabled(count > 0)
        total = len(vm.session.captions)
        self.all_radio.setText(f"Whole dataset ({total:,})")
        self.selection_radio.blockSignals(True)
        self.selection_radio.setChecked(vm.use_selection)
        self.all_radio.setChecked(not vm.use_selection)
        self.selection_radio.blockSignals(False)

    def _on_vm_examples_changed(self, examples: list) -> None:  # type: ignore[type-arg]
        self.examples.setRowCount(len(examples))
        for row, (name, before, after) in enumerate(examples):
            for column, text in enumerate((name, before or "(empty)", after or "(empty)")):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.examples.setItem(row, column, item)
        self.examples.resizeRowsToContents()

    def _on_vm_error_changed(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))
