"""View: the dataset statistics — headline figures, a caption-coverage bar, and bar charts of the
resolution histogram, aspect-ratio buckets and tag frequency — bound to a StatsViewModel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QLabel,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.dataset.stats_vm import DatasetStats, StatsViewModel
from lora_studio.views.dataset.bar_chart import BarChartWidget

MAX_BUCKET_ROWS = 10


class StatsPanel(QScrollArea):
    """Scrollable column of figures and charts."""

    def __init__(self, view_model: StatsViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 8, 8, 8)

        figures = QGridLayout()
        self.count = self._figure(figures, 0, "Pictures")
        self.readable = self._figure(figures, 1, "Readable")
        self.repeats = self._figure(figures, 2, "Samples per epoch (with repeats)")
        self.tags = self._figure(figures, 3, "Distinct tags")
        layout.addLayout(figures)

        layout.addWidget(QLabel("Caption coverage", body))
        self.coverage = QProgressBar(body)
        self.coverage.setRange(0, 1000)
        self.coverage.setFormat("%p%")
        self.coverage.setToolTip("Share of pictures with a non-empty caption.")
        layout.addWidget(self.coverage)

        self.resolution_chart = self._chart(layout, "Shorter side (pixels)", QColor("#5b8def"))
        self.bucket_chart = self._chart(layout, "Aspect-ratio buckets", QColor("#00897b"))
        self.tag_chart = self._chart(layout, "Most used tags", QColor("#ef8c00"))
        self.tag_chart.set_empty_text("No captions with tags yet")
        layout.addStretch(1)
        self.setWidget(body)

        view_model.stats_changed.connect(self.show_stats)
        self.show_stats(view_model.stats)

    def _figure(self, grid: QGridLayout, row: int, label: str) -> QLabel:
        grid.addWidget(QLabel(label), row, 0)
        value = QLabel("0")
        font = value.font()
        font.setBold(True)
        value.setFont(font)
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(value, row, 1)
        return value

    def _chart(self, layout: QVBoxLayout, title: str, colour: QColor) -> BarChartWidget:
        box = QGroupBox(title)
        inner = QVBoxLayout(box)
        inner.setContentsMargins(6, 6, 6, 6)
        chart = BarChartWidget(colour, box)
        inner.addWidget(chart)
        layout.addWidget(box)
        return chart

    def show_stats(self, stats: DatasetStats) -> None:
        self.count.setText(f"{stats.count:,}")
        self.readable.setText(f"{stats.readable:,}")
        self.repeats.setText(f"{stats.total_repeats:,}")
        self.tags.setText(f"{stats.distinct_tags:,}")
        self.coverage.setValue(round(stats.coverage * 1000))
        self.coverage.setToolTip(f"{stats.captioned:,} of {stats.count:,} pictures have a caption.")
        self.resolution_chart.set_data(stats.resolution_histogram if stats.count else [])
        buckets = stats.aspect_buckets[:MAX_BUCKET_ROWS]
        hidden = len(stats.aspect_buckets) - len(buckets)
        if hidden > 0:
            buckets.append(
                (f"{hidden} more", sum(n for _, n in stats.aspect_buckets[MAX_BUCKET_ROWS:]))
            )
        self.bucket_chart.set_data(buckets)
        self.tag_chart.set_data(stats.top_tags)
