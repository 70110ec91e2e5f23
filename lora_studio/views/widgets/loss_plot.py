"""View: the live loss chart — raw loss (faint) and an exponential moving average (bold).

pyqtgraph with peak downsampling and clip-to-view; new data only marks the plot dirty and a 10 Hz
timer redraws, so 50 updates a second cost one paint per frame (docs/architecture.md §4).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget


def ema(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average that skips NaN (a diverged step does not poison the curve)."""
    out = np.empty_like(values)
    current = math.nan
    for i, value in enumerate(values):
        if math.isfinite(value):
            current = value if math.isnan(current) else alpha * value + (1 - alpha) * current
        out[i] = current
    return out


class LossPlot(QWidget):
    def __init__(self, parent: QWidget | None = None, smoothing: float = 0.05) -> None:
        super().__init__(parent)
        self._alpha = smoothing
        self._steps = np.empty(0)
        self._values = np.empty(0)
        self._dirty = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(self)
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self._apply_palette()
        self.plot.addLegend(offset=(-10, 10))
        self.raw_curve = self.plot.plot(name="raw", pen=pg.mkPen((120, 140, 200, 110), width=1))
        self.smooth_curve = self.plot.plot(name="smoothed", pen=pg.mkPen((59, 111, 216), width=2.5))
        for curve in (self.raw_curve, self.smooth_curve):
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        layout.addWidget(self.plot, 1)
        options = QHBoxLayout()
        self.log_scale = QCheckBox("Log scale", self)
        self.log_scale.setToolTip("Show the loss on a logarithmic axis")
        self.log_scale.toggled.connect(lambda on: self.plot.setLogMode(y=on))
        options.addWidget(self.log_scale)
        options.addStretch(1)
        layout.addLayout(options)
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    def _apply_palette(self) -> None:
        # Follow the light/dark theme instead of pyqtgraph's fixed black background.
        palette = self.palette()
        self.plot.setBackground(palette.color(QPalette.ColorRole.Base))
        foreground = palette.color(QPalette.ColorRole.Text)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(foreground))
            axis.setTextPen(pg.mkPen(foreground))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def set_data(self, steps: list[int], values: list[float]) -> None:
        self._steps = np.asarray(steps, dtype=float)
        self._values = np.asarray(values, dtype=float)
        self._dirty = True

    def point_count(self) -> int:
        return int(self._steps.size)

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        if self._steps.size == 0:
            self.raw_curve.setData([], [])
            self.smooth_curve.setData([], [])
            return
        # NaN/inf (diverged steps) become gaps rather than spikes to infinity.
        values = self._values.copy()
        values[~np.isfinite(values)] = np.nan
        self.raw_curve.setData(self._steps, values, connect="finite")
        self.smooth_curve.setData(self._steps, ema(values, self._alpha), connect="finite")

    def flush(self) -> None:
        """Redraw now (tests and screenshots)."""
        self._dirty = True
        self._redraw()
