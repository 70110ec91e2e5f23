"""View: the caption editor — plain text and tag chips bound to a CaptionEditorViewModel, with the
length against the 75-token budget (marked when over), the save state, and Ctrl+Z / Ctrl+Shift+Z
going to the caption history (which survives a restart), not to the text box's own undo.

`compact=True` is the Dataset detail pane's version: the text box and the length line only.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.captions.editor_vm import CaptionEditorViewModel, SaveState
from lora_studio.views.captions.tag_chips import TagChipsWidget

OVER_BUDGET_COLOR = "#e65100"
_SAVE_COLORS = {SaveState.FAILED: "#c62828"}


def _is_history_key(event: QKeyEvent) -> bool:
    return event.matches(QKeySequence.StandardKey.Undo) or event.matches(
        QKeySequence.StandardKey.Redo
    )


class CaptionTextEdit(QPlainTextEdit):
    """A plain text box whose undo/redo keys ask for the caption history instead."""

    undo_requested = Signal()
    redo_requested = Signal()
    focus_lost = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setUndoRedoEnabled(False)
        self.setTabChangesFocus(True)

    def event(self, event: QEvent) -> bool:
        # Claim the keys before any shortcut does: the page's own Ctrl+Z would do the same, but
        # the text box must not swallow them silently either.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and _is_history_key(event)
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo_requested.emit()
            return
        if event.matches(QKeySequence.StandardKey.Redo):
            self.redo_requested.emit()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.focus_lost.emit()


class CaptionEditorWidget(QWidget):
    """Text, chips, length marker and save state of the current caption."""

    def __init__(
        self,
        view_model: CaptionEditorViewModel,
        *,
        compact: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._vm = view_model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        header = QHBoxLayout()
        self.caption_label = QLabel("Caption", self)
        font = self.caption_label.font()
        font.setBold(True)
        self.caption_label.setFont(font)
        header.addWidget(self.caption_label)
        header.addStretch(1)
        self.save_label = QLabel(self)
        self.save_label.setEnabled(False)  # muted: a quiet status, not an alert
        header.addWidget(self.save_label)
        layout.addLayout(header)

        # Until a picture is chosen there is no text box to type into, only this line.
        self.hint_label = QLabel(self)
        self.hint_label.setObjectName("CaptionHint")
        self.hint_label.setWordWrap(True)
        self.hint_label.setEnabled(False)  # muted: it guides, it does not alarm
        layout.addWidget(self.hint_label)

        self.text_edit = CaptionTextEdit(self)
        self.text_edit.setPlaceholderText(
            "No caption yet — type one."
            if compact
            else "No caption yet — type one, or add tags below."
        )
        self.text_edit.setToolTip(
            "Saved automatically. Ctrl+Z / Ctrl+Shift+Z undo and redo, even after a restart."
        )
        self.text_edit.setObjectName("CaptionText")
        layout.addWidget(self.text_edit, 1 if compact else 0)

        self.length_label = QLabel(self)
        self.length_label.setWordWrap(True)
        self.length_label.setToolTip(
            "Stable Diffusion's text encoder reads 75 tokens; words past that are ignored. "
            "The count is an estimate of CLIP's tokenizer."
        )
        layout.addWidget(self.length_label)

        self.chips: TagChipsWidget | None = None
        if compact:
            self.text_edit.setMinimumHeight(64)
            self.text_edit.setMaximumHeight(120)
        else:
            self.text_edit.setMinimumHeight(90)
            self.text_edit.setMaximumHeight(200)  # the chips and the tag table need the room
            self.chips = TagChipsWidget(view_model.remove_tag, view_model.add_tag, self)
            layout.addWidget(self.chips)
        self._bind()

    # -- binding -----------------------------------------------------------------------------------
    def _bind(self) -> None:
        vm = self._vm
        self.text_edit.textChanged.connect(self._on_text_edit_text_changed)
        self.text_edit.undo_requested.connect(vm.undo)
        self.text_edit.redo_requested.connect(vm.redo)
        self.text_edit.focus_lost.connect(vm.save_now)
        vm.text_changed.connect(self._on_vm_text_changed)
        vm.length_text_changed.connect(self._on_vm_length_changed)
        vm.over_budget_changed.connect(self._on_vm_length_changed)
        vm.save_state_changed.connect(self._on_vm_save_state_changed)
        vm.editable_changed.connect(self._on_vm_editable_changed)
        vm.hint_changed.connect(self._on_vm_hint_changed)
        if self.chips is not None:
            vm.tags_changed.connect(self.chips.set_tags)
            vm.completions_changed.connect(self.chips.set_completions)
            self.chips.set_tags(vm.tags)
            self.chips.set_completions(vm.completions)
        self._on_vm_text_changed(vm.text)
        self._on_vm_length_changed()
        self._on_vm_save_state_changed(vm.save_state)
        self._on_vm_editable_changed(vm.editable)
        self._on_vm_hint_changed(vm.hint)

    def _on_text_edit_text_changed(self) -> None:
        self._vm.set_text(self.text_edit.toPlainText())

    def _on_vm_text_changed(self, text: str) -> None:
        # Only replace the text when it really differs: re-setting it would move the cursor.
        if self.text_edit.toPlainText() != text:
            self.text_edit.blockSignals(True)
            self.text_edit.setPlainText(text)
            self.text_edit.blockSignals(False)

    def _on_vm_length_changed(self, *_args: object) -> None:
        over = self._vm.over_budget
        text = self._vm.length_text
        if over and text:
            text = f"⚠ {text} — over the budget: the end of this caption is ignored"
        self.length_label.setText(text)
        self.length_label.setStyleSheet(
            f"color: {OVER_BUDGET_COLOR}; font-weight: bold;" if over else ""
        )
        self.text_edit.setStyleSheet(
            f"#CaptionText {{ border: 2px solid {OVER_BUDGET_COLOR}; }}" if over else ""
        )

    def _on_vm_save_state_changed(self, state: str) -> None:
        self.save_label.setText(state)
        color = _SAVE_COLORS.get(state)
        self.save_label.setEnabled(color is not None)
        self.save_label.setStyleSheet(f"color: {color};" if color else "")

    def _on_vm_editable_changed(self, editable: bool) -> None:
        self.text_edit.setReadOnly(not editable)
        self.text_edit.setEnabled(editable)
        # A disabled text box looks like an empty one waiting for text: hide it instead.
        self.text_edit.setVisible(editable)
        self.length_label.setVisible(editable)
        if self.chips is not None:
            self.chips.setEnabled(editable)
            self.chips.setVisible(editable)

    def _on_vm_hint_changed(self, hint: str) -> None:
        self.hint_label.setText(hint)
        self.hint_label.setVisible(bool(hint))
