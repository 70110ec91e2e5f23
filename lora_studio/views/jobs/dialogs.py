"""View: the Jobs page's dialogs and desktop notifications.

Confirmations open window-modal with `open()` and call back on accept — never `exec()`, which would
start a nested event loop under qasync's running tasks. The tray notifier shows a desktop message
when a job finishes, fails or is lost, where the desktop has a system tray; elsewhere it does
nothing (offscreen tests, some Wayland sessions).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QFontDatabase, QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QPlainTextEdit,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)


def confirm(
    parent: QWidget, title: str, text: str, action: str, on_accept: Callable[[], None]
) -> QMessageBox:
    """Ask `text` with an `action` button and Keep; `on_accept()` when the artist agrees."""
    box = QMessageBox(
        QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent
    )
    yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Keep it", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(box.buttons()[-1])  # the safe choice on Enter

    def finished(_result: int) -> None:
        if box.clickedButton() is yes:
            on_accept()
        box.deleteLater()

    box.finished.connect(finished)
    box.open()
    return box


class TextDialog(QDialog):
    """A read-only, copyable block of text (the LoRA file inspector)."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(640, 480)
        layout = QVBoxLayout(self)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText(text)
        layout.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


class TrayNotifier:
    """Desktop notifications through a system-tray icon, when the desktop has a tray."""

    def __init__(self, icon: QIcon, parent: QWidget) -> None:
        self._icon = icon
        self._parent = parent
        self._tray: QSystemTrayIcon | None = None
        self.shown: list[tuple[str, str]] = []  # what was announced (tests, diagnostics)

    @property
    def available(self) -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages()

    def notify(self, title: str, message: str, status: str) -> None:
        self.shown.append((title, message))
        if not self.available:
            return
        if self._tray is None:
            self._tray = QSystemTrayIcon(self._icon, self._parent)
            self._tray.setToolTip("LoRA Studio")
            self._tray.show()
        kind = (
            QSystemTrayIcon.MessageIcon.Information
            if status == "completed"
            else QSystemTrayIcon.MessageIcon.Warning
        )
        self._tray.showMessage(title, message or title, kind, 10_000)
