"""View: the crash dialog shown for unexpected exceptions (bugs), installed as `sys.excepthook`.

Shows versions, the traceback (secrets redacted) and where the log is, with a copy button. Opened
with `open()` — never `exec()` — so it is safe while the asyncio loop runs.
"""

from __future__ import annotations

import logging
import platform
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lora_studio import __version__
from lora_studio.core.redact import redact

log = logging.getLogger(__name__)


def crash_report(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> str:
    versions = (
        f"LoRA Studio {__version__}\nPython {platform.python_version()} on {platform.platform()}\n"
        f"PySide6 {PySide6.__version__}, Qt {qVersion()}\n"
    )
    return redact(versions + "\n" + "".join(traceback.format_exception(exc_type, exc, tb)))


class CrashDialog(QDialog):
    def __init__(self, report: str, log_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("LoRA Studio hit a bug")
        self.resize(720, 460)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Something went wrong inside LoRA Studio. Your captions, datasets and job records are "
            "saved as you work, so nothing should be lost. Please copy this report into a bug "
            f"report.\nThe log file is at: {log_path}"
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.report_view = QPlainTextEdit(report, self)
        self.report_view.setReadOnly(True)
        self.report_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout.addWidget(self.report_view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("Copy report", self)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.report_view.toPlainText())
        self.copy_button.setText("Copied")


def make_excepthook(
    log_path: str, parent_getter: Callable[[], QWidget | None]
) -> Callable[..., None]:
    """Build a `sys.excepthook` that logs the exception and opens a CrashDialog."""
    open_dialogs: list[CrashDialog] = []

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        report = crash_report(exc_type, exc, tb)
        log.error("Unhandled exception\n%s", report)
        try:
            dialog = CrashDialog(report, log_path, parent_getter())
            open_dialogs.append(dialog)
            dialog.finished.connect(lambda _=0, d=dialog: open_dialogs.remove(d))
            dialog.open()
        except Exception:  # the hook itself must never raise
            sys.__excepthook__(exc_type, exc, tb)

    return hook
