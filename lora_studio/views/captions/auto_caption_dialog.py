"""View: the auto-caption dialog — provider, address, model, key, prompt or template, which
captions, concurrency, trigger word and length limit; then the run: a progress card (n of N, time
left, Cancel), the per-picture status list, the summary and Retry failed. Bound to an
AutoCaptionViewModel.

Non-modal (`show()`, never `exec()`): the artist can keep editing captions while it runs, and
closing the dialog does not stop the run (the Captions page shows its progress too).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lora_studio.core.captioning.prompts import PROMPT_PRESETS
from lora_studio.viewmodels.captions.auto_caption_vm import (
    MODE_TITLES,
    PROVIDER_TITLES,
    AutoCaptionViewModel,
)
from lora_studio.views.icons import set_icon
from lora_studio.views.style import make_primary

PROMPT_STYLE_HINT = (
    "Tags suit models trained on tags (many SD 1.5 anime models); sentences suit base SDXL and "
    "Flux. Keep one style within a dataset."
)


def _muted(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setEnabled(False)
    return label


class AutoCaptionDialog(QDialog):
    """Settings and progress of an auto-caption run (see the module docstring)."""

    def __init__(self, view_model: AutoCaptionViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        self.setWindowTitle("Auto-caption")
        self.setMinimumSize(720, 640)
        layout = QVBoxLayout(self)
        layout.addWidget(
            _muted(
                "Write captions with a template or a vision model. Finished captions are saved "
                "as they arrive; the whole run is one step of Undo.",
                self,
            )
        )
        self.settings_box = QWidget(self)
        form = QFormLayout(self.settings_box)
        form.setContentsMargins(0, 0, 0, 0)
        self._form = form
        self.provider_combo = QComboBox(self)
        for kind, title in PROVIDER_TITLES:
            self.provider_combo.addItem(title, kind)
        form.addRow("Provider:", self.provider_combo)
        self.provider_help = _muted("", self)
        form.addRow("", self.provider_help)
        self.url_field = QLineEdit(self)
        self.url_field.setPlaceholderText("http://127.0.0.1:11434")
        form.addRow("Server:", self.url_field)
        model_row = QHBoxLayout()
        self.model_combo = QComboBox(self)
        self.model_combo.setEditable(True)
        self.model_combo.setMinimumWidth(260)
        self.refresh_button = QPushButton("List models", self)
        self.refresh_button.setToolTip("Ask the server which models it has")
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.refresh_button)
        self.model_row = QWidget(self)
        self.model_row.setLayout(model_row)
        model_row.setContentsMargins(0, 0, 0, 0)
        form.addRow("Model:", self.model_row)
        self.models_status = _muted("", self)
        form.addRow("", self.models_status)
        key_row = QHBoxLayout()
        key_row.setContentsMargins(0, 0, 0, 0)
        self.key_field = QLineEdit(self)
        self.key_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_field.setPlaceholderText("Paste an API key to keep it in the system keychain")
        self.key_button = QPushButton("Save key", self)
        key_row.addWidget(self.key_field, 1)
        key_row.addWidget(self.key_button)
        self.key_row = QWidget(self)
        self.key_row.setLayout(key_row)
        form.addRow("API key:", self.key_row)
        self.key_status = _muted("", self)
        form.addRow("", self.key_status)
        self.preset_combo = QComboBox(self)
        self.preset_combo.addItems(list(PROMPT_PRESETS))
        form.addRow("Prompt style:", self.preset_combo)
        # Which style to pick, beside the choice (Civitai's trainer says it there too).
        self.preset_help = _muted(PROMPT_STYLE_HINT, self)
        form.addRow("", self.preset_help)
        self.prompt_edit = QPlainTextEdit(self)
        self.prompt_edit.setMaximumHeight(70)
        form.addRow("Prompt:", self.prompt_edit)
        self.template_field = QLineEdit(self)
        self.template_field.setToolTip(
            "Placeholders: {trigger}, {filename}, {name} (the file name in words; nothing for "
            "camera names like IMG_2003), {folder}, {existing}"
        )
        form.addRow("Template:", self.template_field)
        self.mode_combo = QComboBox(self)
        for key, title in MODE_TITLES.items():
            self.mode_combo.addItem(title, key)
        form.addRow("Captions:", self.mode_combo)
        scope_row = QHBoxLayout()
        scope_row.setContentsMargins(0, 0, 0, 0)
        self.selection_radio = QRadioButton(self)
        self.all_radio = QRadioButton("Whole dataset", self)
        scope_row.addWidget(self.selection_radio)
        scope_row.addWidget(self.all_radio)
        scope_row.addStretch(1)
        scope = QWidget(self)
        scope.setLayout(scope_row)
        form.addRow("Pictures:", scope)
        tuning = QHBoxLayout()
        tuning.setContentsMargins(0, 0, 0, 0)
        self.concurrency_spin = QSpinBox(self)
        self.concurrency_spin.setRange(1, 16)
        self.concurrency_spin.setToolTip("Pictures sent at the same time")
        self.trigger_field = QLineEdit(self)
        self.trigger_field.setPlaceholderText("none")
        self.trigger_field.setToolTip("Put first in every caption")
        self.max_tokens_spin = QSpinBox(self)
        self.max_tokens_spin.setRange(0, 500)
        self.max_tokens_spin.setSpecialValueText("no limit")
        self.max_tokens_spin.setSuffix(" tokens")
        self.max_tokens_spin.setToolTip("Cut captions to this many CLIP tokens (75 is the budget)")
        tuning.addWidget(QLabel("At once:", self))
        tuning.addWidget(self.concurrency_spin)
        tuning.addSpacing(12)
        tuning.addWidget(QLabel("Trigger word:", self))
        tuning.addWidget(self.trigger_field, 1)
        tuning.addSpacing(12)
        tuning.addWidget(QLabel("Cut at:", self))
        tuning.addWidget(self.max_tokens_spin)
        tuning_box = QWidget(self)
        tuning_box.setLayout(tuning)
        form.addRow("", tuning_box)
        layout.addWidget(self.settings_box)

        self.estimate_label = QLabel(self)
        self.estimate_label.setWordWrap(True)
        layout.addWidget(self.estimate_label)

        self.progress_card = QFrame(self)
        self.progress_card.setFrameShape(QFrame.Shape.StyledPanel)
        card = QVBoxLayout(self.progress_card)
        self.progress_label = QLabel(self.progress_card)
        self.progress_bar = QProgressBar(self.progress_card)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(14)
        card.addWidget(self.progress_label)
        card.addWidget(self.progress_bar)
        layout.addWidget(self.progress_card)
        self.status_list = QListView(self)
        self.status_list.setModel(view_model.status_model)
        self.status_list.setUniformItemSizes(True)
        self.status_list.setAlternatingRowColors(True)
        layout.addWidget(self.status_list, 1)
        self.summary_label = QLabel(self)
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.error_label)

        buttons = QHBoxLayout()
        self.retry_button = QPushButton("Retry failed", self)
        self.cancel_button = QPushButton("Cancel run", self)
        self.cancel_button.setToolTip("Stop after the pictures in flight; finished captions stay")
        self.close_button = QPushButton("Close", self)
        self.close_button.setToolTip("Close this window; a run keeps going")
        self.start_button = make_primary(QPushButton("Start", self))
        set_icon(self.start_button, "mdi6.play", primary=True)
        set_icon(self.cancel_button, "mdi6.stop")
        set_icon(self.retry_button, "mdi6.replay")
        set_icon(self.refresh_button, "mdi6.refresh")
        set_icon(self.key_button, "mdi6.key-outline")
        self.start_button.setDefault(True)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.start_button)
        layout.addLayout(buttons)
        self._bind()

    # -- binding -----------------------------------------------------------------------------------
    def _bind(self) -> None:
        vm = self._vm
        self.provider_combo.currentIndexChanged.connect(
            lambda _i: vm.set_provider(str(self.provider_combo.currentData()))
        )
        self.url_field.editingFinished.connect(lambda: vm.set_url(self.url_field.text()))
        self.model_combo.currentTextChanged.connect(vm.set_model)
        self.refresh_button.clicked.connect(vm.refresh_models)
        self.key_button.clicked.connect(self._on_key_button_clicked)
        self.preset_combo.currentTextChanged.connect(vm.set_preset)
        self.prompt_edit.textChanged.connect(lambda: vm.set_prompt(self.prompt_edit.toPlainText()))
        self.template_field.textChanged.connect(vm.set_template)
        self.mode_combo.currentIndexChanged.connect(
            lambda _i: vm.set_mode(str(self.mode_combo.currentData()))
        )
        self.selection_radio.toggled.connect(vm.set_use_selection)
        self.concurrency_spin.valueChanged.connect(vm.set_concurrency)
        self.trigger_field.textChanged.connect(vm.set_trigger)
        self.max_tokens_spin.valueChanged.connect(vm.set_max_tokens)
        self.start_button.clicked.connect(vm.start)
        self.cancel_button.clicked.connect(vm.cancel)
        self.retry_button.clicked.connect(vm.retry_failed)
        self.close_button.clicked.connect(self.close)

        for signal, slot in (
            (vm.provider_changed, self._show_provider),
            (vm.provider_help_changed, self.provider_help.setText),
            (vm.url_changed, self._show_url),
            (vm.model_changed, self._show_model),
            (vm.models_changed, self._show_models),
            (vm.models_status_changed, self.models_status.setText),
            (vm.needs_url_changed, self._show_rows),
            (vm.lists_models_changed, self._show_rows),
            (vm.uses_prompt_changed, self._show_rows),
            (vm.needs_key_changed, self._show_rows),
            (vm.uses_template_changed, self._show_rows),
            (vm.key_status_changed, self.key_status.setText),
            (vm.prompt_changed, self._show_prompt),
            (vm.preset_changed, self.preset_combo.setCurrentText),
            (vm.template_changed, self._show_template),
            (vm.mode_changed, self._show_mode),
            (vm.concurrency_changed, self.concurrency_spin.setValue),
            (vm.trigger_changed, self._show_trigger),
            (vm.max_tokens_changed, self.max_tokens_spin.setValue),
            (vm.estimate_text_changed, self.estimate_label.setText),
            (vm.running_changed, self._show_running),
            (vm.progress_value_changed, self.progress_bar.setValue),
            (vm.progress_maximum_changed, self._show_maximum),
            (vm.progress_text_changed, self.progress_label.setText),
            (vm.summary_changed, self._show_summary),
            (vm.can_retry_changed, self._show_running),
            (vm.error_changed, self._show_error),
            (vm.selection_count_changed, self._show_scope),
            (vm.use_selection_changed, self._show_scope),
        ):
            signal.connect(slot)
        self._show_all()

    def _show_all(self) -> None:
        vm = self._vm
        self._show_provider(vm.provider)
        self.provider_help.setText(vm.provider_help)
        self._show_url(vm.url)
        self._show_models(vm.models)
        self._show_model(vm.model)
        self.models_status.setText(vm.models_status)
        self.key_status.setText(vm.key_status)
        self.preset_combo.setCurrentText(vm.preset)
        self._show_prompt(vm.prompt)
        self._show_template(vm.template)
        self._show_mode(vm.mode)
        self.concurrency_spin.setValue(vm.concurrency)
        self._show_trigger(vm.trigger)
        self.max_tokens_spin.setValue(vm.max_tokens)
        self.estimate_label.setText(vm.estimate_text)
        self._show_maximum(vm.progress_maximum)
        self.progress_bar.setValue(vm.progress_value)
        self.progress_label.setText(vm.progress_text)
        self.summary_label.setText(vm.summary)
        self._show_error(vm.error)
        self._show_scope()
        self._show_rows()
        self._show_running()

    # -- view-model → widgets ----------------------------------------------------------------------
    def _show_provider(self, kind: str) -> None:
        index = self.provider_combo.findData(kind)
        if index >= 0 and index != self.provider_combo.currentIndex():
            self.provider_combo.setCurrentIndex(index)

    def _show_url(self, url: str) -> None:
        if self.url_field.text() != url:
            self.url_field.setText(url)

    def _show_model(self, model: str) -> None:
        if self.model_combo.currentText() != model:
            self.model_combo.setCurrentText(model)

    def _show_models(self, models: list) -> None:  # type: ignore[type-arg]
        current = self._vm.model
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItems([str(m) for m in models])
        self.model_combo.setCurrentText(current)
        self.model_combo.blockSignals(False)

    def _show_prompt(self, prompt: str) -> None:
        if self.prompt_edit.toPlainText() != prompt:
            self.prompt_edit.setPlainText(prompt)

    def _show_template(self, text: str) -> None:
        if self.template_field.text() != text:
            self.template_field.setText(text)

    def _show_trigger(self, text: str) -> None:
        # The view-model strips spaces: do not fight the artist typing "ohwx " → "ohwx".
        if self.trigger_field.text().strip() != text:
            self.trigger_field.setText(text)

    def _show_mode(self, mode: str) -> None:
        index = self.mode_combo.findData(mode)
        if index >= 0 and index != self.mode_combo.currentIndex():
            self.mode_combo.setCurrentIndex(index)

    def _show_rows(self, *_args: object) -> None:
        vm = self._vm
        self._form.setRowVisible(self.url_field, vm.needs_url)
        self._form.setRowVisible(self.model_row, vm.needs_url)
        self.refresh_button.setVisible(vm.lists_models)
        self._form.setRowVisible(self.models_status, vm.lists_models)
        self._form.setRowVisible(self.key_row, vm.needs_key)
        self._form.setRowVisible(self.key_status, vm.needs_key)
        self._form.setRowVisible(self.preset_combo, vm.uses_prompt)
        self._form.setRowVisible(self.preset_help, vm.uses_prompt)
        self._form.setRowVisible(self.prompt_edit, vm.uses_prompt)
        self._form.setRowVisible(self.template_field, vm.uses_template)

    def _show_scope(self, *_args: object) -> None:
        vm = self._vm
        self.selection_radio.setText(f"Selected ({vm.selection_count:,})")
        self.selection_radio.setEnabled(vm.selection_count > 0)
        self.selection_radio.blockSignals(True)
        self.selection_radio.setChecked(vm.use_selection)
        self.all_radio.setChecked(not vm.use_selection)
        self.selection_radio.blockSignals(False)

    def _show_running(self, *_args: object) -> None:
        vm = self._vm
        running = vm.running
        self.settings_box.setEnabled(not running)
        self.start_button.setEnabled(not running)
        self.cancel_button.setVisible(running)
        self.retry_button.setVisible(vm.can_retry and not running)
        self.progress_card.setVisible(running)
        started = running or vm.status_model.rowCount() > 0
        self.status_list.setVisible(started)
        self.summary_label.setVisible(bool(vm.summary) and not running)

    def _show_summary(self, text: str) -> None:
        self.summary_label.setText(text)
        self._show_running()

    def _show_maximum(self, maximum: int) -> None:
        self.progress_bar.setRange(0, max(maximum, 0))

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    # -- user intent -------------------------------------------------------------------------------
    def _on_key_button_clicked(self) -> None:
        self._vm.set_api_key(self.key_field.text())
        self.key_field.clear()  # the key is not kept in a widget longer than needed
