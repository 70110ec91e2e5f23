"""View helpers shared by the Train wizard's step widgets: headings, wrapped labels, messages."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

WARNING_COLOR = "#b26a00"
ERROR_COLOR = "#c62828"
OK_COLOR = "#2e7d32"
_ICONS = {"error": "✖", "warning": "⚠", "info": "ℹ"}


def heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.3)
    font.setBold(True)
    label.setFont(font)
    return label


def wrapped(text: str, parent: QWidget, *, selectable: bool = True) -> QLabel:
    """A plain-text label that wraps and can be copied (messages are meant to be acted on)."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def message_lines(messages: list, empty: str = "") -> str:  # type: ignore[type-arg]
    """(level, text) pairs as one line each, with an icon for the level."""
    if not messages:
        return empty
    return "\n".join(f"{_ICONS.get(level, '•')} {text}" for level, text in messages)


def set_color(label: QLabel, color: str | None) -> None:
    label.setStyleSheet(f"color: {color};" if color else "")
