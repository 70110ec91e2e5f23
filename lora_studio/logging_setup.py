"""Logging to a rotating file in the log dir, with secrets redacted from every record."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from lora_studio.core.redact import redact


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(log_path: Path, level: int = logging.INFO) -> None:
    """Send the root logger to `log_path` (1 MB × 5 files). Idempotent."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_lora_studio", False):
            return
    handler = logging.handlers.RotatingFileHandler(
        log_path, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    handler._lora_studio = True  # type: ignore[attr-defined]
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


def route_qt_messages() -> None:
    """Send Qt's own warnings to the log file instead of the terminal (critical ones to both)."""
    import sys

    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("qt")
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(mode: QtMsgType, _context: object, message: str) -> None:
        level = levels.get(mode, logging.WARNING)
        qt_log.log(level, "%s", message)
        if level >= logging.ERROR:
            print(f"Qt: {message}", file=sys.stderr)

    qInstallMessageHandler(handler)
