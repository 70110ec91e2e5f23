"""View-model base: a message bridge so any layer can tell the artist something.

Background work (a finished import, a lost job, a failed thumbnail batch) posts a notice here; the
main window shows it in its status area. Nothing below the views builds a dialog.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QObject, Signal

from lora_studio.core.errors import LoraStudioError

log = logging.getLogger(__name__)


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Notice:
    level: Level
    text: str


class MessageBridge(QObject):
    """Collects notices from anywhere and re-emits them as `notice_posted(level, text)`."""

    notice_posted = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.history: list[Notice] = []

    def info(self, text: str) -> None:
        self._post(Level.INFO, text)

    def warning(self, text: str) -> None:
        self._post(Level.WARNING, text)

    def error(self, text: str) -> None:
        self._post(Level.ERROR, text)

    def report(self, exc: LoraStudioError) -> None:
        """Show an expected failure by its user message."""
        self._post(Level.ERROR, exc.user_message)

    def _post(self, level: Level, text: str) -> None:
        log.log(logging.WARNING if level != Level.INFO else logging.INFO, "notice: %s", text)
        self.history.append(Notice(level, text))
        del self.history[:-200]
        self.notice_posted.emit(level.value, text)
