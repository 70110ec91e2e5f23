"""View: an inline error banner bound to a view-model's `error` string property.

Shown when the text is non-empty, hidden when it is cleared; a close button asks the view-model to
clear it (through the `dismissed` signal) rather than hiding it behind its back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget


class ErrorBanner(QFrame):
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ErrorBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#ErrorBanner { background: #fdecea; border: 1px solid #e57373; border-radius: 4px; }"
            "#ErrorBanner QLabel { color: #611a15; }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self._label = QLabel(self)
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self._label, 1)
        close = QToolButton(self)
        close.setText("✕")
        close.setToolTip("Dismiss this message")
        close.setAutoRaise(True)
        close.clicked.connect(self._on_close_clicked)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def text(self) -> str:
        return self._label.text()

    def set_error(self, text: str) -> None:
        self._label.setText(text)
        self.setVisible(bool(text))

    def bind(self, view_model: object) -> None:
        """Follow `view_model.error` / `error_changed`; dismiss clears it on the view-model."""
        self.set_error(getattr(view_model, "error", ""))
        view_model.error_changed.connect(self.set_error)  # type: ignore[attr-defined]
        self.dismissed.connect(lambda: setattr(view_model, "error", ""))

    def _on_close_clicked(self) -> None:
        self.hide()
        self.dismissed.emit()
