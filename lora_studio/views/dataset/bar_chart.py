"""View: a small horizontal bar chart painted with QPainter — labels left, bars, counts right.

Used by the stats panel for the resolution histogram, the aspect-ratio buckets and tag frequency:
a picture rather than a list of numbers, yet cheap enough to repaint on every dataset change.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

ROW_HEIGHT = 18
LABEL_WIDTH = 92
COUNT_WIDTH = 44


class BarChartWidget(QWidget):
    """Horizontal bars for (label, count) pairs."""

    def __init__(self, colour: QColor | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data: list[tuple[str, int]] = []
        self._colour = colour
        self._empty_text = "Nothing yet"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_data(self, data: Sequence[tuple[str, int]]) -> None:
        self._data = list(data)
        self.updateGeometry()
        self.setToolTip("\n".join(f"{label}: {count:,}" for label, count in self._data))
        self.update()

    def set_empty_text(self, text: str) -> None:
        self._empty_text = text
        self.update()

    def data(self) -> list[tuple[str, int]]:
        return list(self._data)

    def sizeHint(self) -> QSize:
        return QSize(260, max(1, len(self._data)) * ROW_HEIGHT + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text_colour = palette.color(QPalette.ColorRole.WindowText)
        if not self._data:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                self._empty_text,
            )
            return
        peak = max(count for _, count in self._data) or 1
        bar_colour = self._colour or palette.color(QPalette.ColorRole.Highlight)
        track = palette.color(QPalette.ColorRole.Mid)
        track.setAlpha(40)
        bar_space = max(self.width() - LABEL_WIDTH - COUNT_WIDTH - 8, 10)
        metrics = painter.fontMetrics()
        for row, (label, count) in enumerate(self._data):
            top = 2 + row * ROW_HEIGHT
            label_rect = QRectF(0, top, LABEL_WIDTH - 6, ROW_HEIGHT)
            painter.setPen(text_colour)
            elided = metrics.elidedText(label, Qt.TextElideMode.ElideRight, int(label_rect.width()))
            painter.drawText(
                label_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, elided
            )
            track_rect = QRectF(LABEL_WIDTH, top + 3, bar_space, ROW_HEIGHT - 6)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(track)
            painter.drawRoundedRect(track_rect, 3, 3)
            if count > 0:
                width = max(bar_space * count / peak, 2.0)
                painter.setBrush(bar_colour)
                painter.drawRoundedRect(QRectF(LABEL_WIDTH, top + 3, width, ROW_HEIGHT - 6), 3, 3)
            painter.setPen(text_colour)
            count_rect = QRectF(LABEL_WIDTH + bar_space + 6, top, COUNT_WIDTH, ROW_HEIGHT)
            painter.drawText(
                count_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{count:,}"
            )
        painter.end()
