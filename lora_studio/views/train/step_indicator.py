"""View: the Train wizard's step indicator — numbered step names, the current one highlighted,
the ones behind it ticked."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

_PADDING_X = 10


class StepIndicator(QWidget):
    """A row of step names; `set_current(index)` highlights one and ticks those before it."""

    def __init__(self, titles: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._titles = list(titles)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.labels: list[QLabel] = []
        bold_font = self.font()
        bold_font.setBold(True)
        bold = QFontMetrics(bold_font)
        for index, _title in enumerate(self._titles):
            if index:
                arrow = QLabel("›", self)
                arrow.setEnabled(False)
                layout.addWidget(arrow)
            label = QLabel(self)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            # Wide enough for the bold, highlighted form: the current step must never be clipped.
            label.setMinimumWidth(bold.horizontalAdvance(f"✓  {_title}") + 2 * _PADDING_X + 4)
            self.labels.append(label)
            layout.addWidget(label)
        layout.addStretch(1)
        self.set_current(0)

    def set_current(self, current: int) -> None:
        highlight = self.palette().color(QPalette.ColorRole.Highlight).name()
        text_on = self.palette().color(QPalette.ColorRole.HighlightedText).name()
        for index, (label, title) in enumerate(zip(self.labels, self._titles, strict=True)):
            mark = "✓" if index < current else str(index + 1)
            label.setText(f"{mark}  {title}")
            colours = f"background: {highlight}; color: {text_on};" if index == current else ""
            label.setStyleSheet(f"{colours} padding: 4px {_PADDING_X}px; border-radius: 10px;")
            font = label.font()
            font.setBold(index == current)
            label.setFont(font)
            label.setEnabled(index <= current)
            label.setAccessibleName(
                f"Step {index + 1} of {len(self._titles)}: {title}"
                + (", current" if index == current else "")
            )
