"""View: the live loss chart — raw loss (faint), its exponential moving average (bold) and, to
compare, the smoothed loss of other jobs (thin, coloured).

Built for long runs (docs/architecture.md §4): one `PlotDataItem` per series with peak downsampling
and clip-to-view, points *appended* into growing arrays (never the whole series resent), the
smoothed series extended incrementally, and a ≤ 10 Hz timer that redraws only when something
changed — 50 updates a second cost one paint per frame, and a frame costs about the same at
100 000 points as at 100. Steps are whole numbers, so the x axis never shows half-step ticks;
a new job starts from a fresh view (no axes kept from the previous one); zoom and pan with the
mouse, "Fit" to see everything again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

OVERLAY_COLOURS = ("#e07b00", "#2e9d57", "#b03aa8", "#c4a000", "#008b9a", "#a0522d")
DEFAULT_SMOOTHING = 0.9  # TensorBoard-style weight: EMA alpha = 1 − smoothing


def _ema_finite(x: np.ndarray, alpha: float, start: float) -> np.ndarray:
    """EMA of finite values, vectorised per block: within a block of m values after `prev`,
    y_k = b^(k+1)·prev + a·b^k·Σ_{j≤k} x_j / b^j (a = alpha, b = 1 − alpha)."""
    out = np.empty_like(x)
    if x.size == 0:
        return out
    b = 1.0 - alpha
    prev = start
    first = 0
    if math.isnan(prev):
        out[0] = prev = float(x[0])
        first = 1
    if b <= 0.0:
        out[first:] = x[first:]
        return out
    # The longest block whose scale factors 1/b^j stay below 1e150 (far from overflow).
    size = int(max(8, min(8192, 150 / max(1e-12, -math.log10(b)))))
    powers = b ** np.arange(size, dtype=float)
    for begin in range(first, x.size, size):
        block = x[begin : begin + size]
        m = block.size
        scaled = np.cumsum(block / powers[:m])
        values = b * powers[:m] * prev + alpha * powers[:m] * scaled
        out[begin : begin + m] = values
        prev = float(values[-1])
    return out


def ema(values: np.ndarray, alpha: float, start: float = math.nan) -> np.ndarray:
    """Exponential moving average that skips NaN (a diverged step does not poison the curve:
    the average holds its value there); `start` continues an earlier run of the average.
    Vectorised — 100,000 points take a few milliseconds, not a Python loop's 25 ms."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    smooth = _ema_finite(values[finite], alpha, start)
    out = np.full(values.shape, start, dtype=float)
    if not finite.any():
        return out
    out[finite] = smooth
    # Non-finite positions repeat the last average before them (or `start` before the first).
    positions = np.where(finite, np.arange(values.size), -1)
    np.maximum.accumulate(positions, out=positions)
    held = positions >= 0
    out[held] = out[positions[held]]
    return out


class StepAxis(pg.AxisItem):
    """A step axis: tick spacing of at least one whole step (no 0.5 ticks on a short run)."""

    def tickSpacing(self, min_val: float, max_val: float, size: float) -> list[tuple[float, float]]:
        levels = super().tickSpacing(min_val, max_val, size)
        whole = [(spacing, offset) for spacing, offset in levels if spacing >= 1.0]
        return whole or [(1.0, 0.0)]


class _Series:
    """Growable x/y arrays (capacity doubling) so appending is amortised O(new points)."""

    def __init__(self) -> None:
        self.x = np.empty(1024)
        self.y = np.empty(1024)
        self.smooth = np.empty(1024)
        self.size = 0
        self.ema_last = math.nan

    def clear(self) -> None:
        self.size, self.ema_last = 0, math.nan

    def append(self, steps: Sequence[float], values: Sequence[float], alpha: float) -> None:
        new_x = np.asarray(steps, dtype=float)
        new_y = np.asarray(values, dtype=float)
        new_y[~np.isfinite(new_y)] = np.nan  # inf becomes a gap, not a spike to infinity
        n = new_x.size
        if self.size + n > self.x.size:
            capacity = max(self.size + n, 2 * self.x.size)
            for name in ("x", "y", "smooth"):
                grown = np.empty(capacity)
                grown[: self.size] = getattr(self, name)[: self.size]
                setattr(self, name, grown)
        smooth = ema(new_y, alpha, self.ema_last)
        end = self.size + n
        self.x[self.size : end] = new_x
        self.y[self.size : end] = new_y
        self.smooth[self.size : end] = smooth
        self.size = end
        if n:
            self.ema_last = float(smooth[-1])

    def resmooth(self, alpha: float) -> None:
        self.smooth[: self.size] = ema(self.y[: self.size], alpha)
        self.ema_last = float(self.smooth[self.size - 1]) if self.size else math.nan


class LossPlot(QWidget):
    def __init__(self, parent: QWidget | None = None, smoothing: float = DEFAULT_SMOOTHING) -> None:
        super().__init__(parent)
        self._smoothing = smoothing
        self._main = _Series()
        self._overlays: dict[str, tuple[_Series, pg.PlotDataItem]] = {}
        self._dirty = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(self, axisItems={"bottom": StepAxis(orientation="bottom")})
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.enableAutoSIPrefix(False)
            # Major ticks (and grid lines) only: the minor grid cost ~4 ms of every frame.
            axis.setStyle(maxTickLevel=0)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.legend.setZValue(1_000)  # above the curves, which must not run through it
        self.raw_curve = self.plot.plot(name="raw", pen=pg.mkPen((120, 140, 200, 110), width=1))
        self.smooth_curve = self.plot.plot(name="smoothed", pen=pg.mkPen((59, 111, 216), width=2.5))
        for curve in (self.raw_curve, self.smooth_curve):
            self._tune(curve)
        self._apply_palette()
        layout.addWidget(self.plot, 1)
        options = QHBoxLayout()
        options.setContentsMargins(4, 0, 4, 0)
        options.addWidget(QLabel("Smoothing", self))
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(round(smoothing * 100))
        self.smoothing_slider.setMaximumWidth(160)
        self.smoothing_slider.setToolTip(
            "How strongly the bold line averages out step-to-step noise"
        )
        self.smoothing_slider.valueChanged.connect(self._on_smoothing_changed)
        options.addWidget(self.smoothing_slider)
        self.log_scale = QCheckBox("Log scale", self)
        self.log_scale.setToolTip("Show the loss on a logarithmic axis")
        self.log_scale.toggled.connect(lambda on: self.plot.setLogMode(y=on))
        options.addWidget(self.log_scale)
        options.addStretch(1)
        self.fit_button = QPushButton("Fit", self)
        self.fit_button.setToolTip("Zoom out to the whole run (drag to pan, wheel to zoom)")
        self.fit_button.clicked.connect(self.reset_view)
        options.addWidget(self.fit_button)
        layout.addLayout(options)
        self._timer = QTimer(self)
        self._timer.setInterval(100)  # ≤ 10 Hz redraws, however fast points arrive
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    @staticmethod
    def _tune(curve: pg.PlotDataItem) -> None:
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)
        curve.setSkipFiniteCheck(False)

    # -- theme ---------------------------------------------------------------------------------

    def _apply_palette(self) -> None:
        # Follow the light/dark theme instead of pyqtgraph's fixed black background.
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        foreground = palette.color(QPalette.ColorRole.Text)
        self.plot.setBackground(base)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(foreground))
            axis.setTextPen(pg.mkPen(foreground))
        legend_bg = QColor(base)
        legend_bg.setAlpha(230)
        self.legend.setBrush(pg.mkBrush(legend_bg))
        self.legend.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Mid)))
        self.legend.setLabelTextColor(foreground)
        for _sample, label in self.legend.items:  # existing labels keep their colour otherwise
            label.setText(label.text, color=foreground)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    # -- data ------------------------------------------------------------------------------------

    @property
    def alpha(self) -> float:
        return max(0.01, 1.0 - self._smoothing)

    def set_data(self, steps: Sequence[float], values: Sequence[float]) -> None:
        """Show a new series (another job, or a reload): a fresh view, no axes kept."""
        self._main.clear()
        self._main.append(steps, values, self.alpha)
        self.reset_view()
        self._dirty = True

    def append(self, steps: Sequence[float], values: Sequence[float]) -> None:
        """Add the newest points of the shown series (cheap: nothing already shown is resent)."""
        if len(steps):
            self._main.append(steps, values, self.alpha)
            self._dirty = True

    def set_overlays(self, series: dict[str, tuple[Sequence[float], Sequence[float]]]) -> None:
        """Other jobs' losses to compare (label → steps, values), drawn smoothed."""
        for label in list(self._overlays):
            if label not in series:
                _, curve = self._overlays.pop(label)
                self.plot.removeItem(curve)
                self.legend.removeItem(curve)
        for index, (label, (steps, values)) in enumerate(series.items()):
            if label not in self._overlays:
                colour = OVERLAY_COLOURS[index % len(OVERLAY_COLOURS)]
                curve = self.plot.plot(name=label, pen=pg.mkPen(colour, width=1.5))
                self._tune(curve)
                self._overlays[label] = (_Series(), curve)
            data, _ = self._overlays[label]
            data.clear()
            data.append(steps, values, self.alpha)
        self._dirty = True

    def overlay_labels(self) -> list[str]:
        return list(self._overlays)

    def point_count(self) -> int:
        return self._main.size

    def reset_view(self) -> None:
        self.plot.getViewBox().enableAutoRange(pg.ViewBox.XYAxes, True)

    def _on_smoothing_changed(self, value: int) -> None:
        self._smoothing = value / 100.0
        self._main.resmooth(self.alpha)
        for data, _ in self._overlays.values():
            data.resmooth(self.alpha)
        self._dirty = True

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        n = self._main.size
        self.raw_curve.setData(self._main.x[:n], self._main.y[:n], connect="finite")
        self.smooth_curve.setData(self._main.x[:n], self._main.smooth[:n], connect="finite")
        for data, curve in self._overlays.values():
            curve.setData(data.x[: data.size], data.smooth[: data.size], connect="finite")

    def flush(self) -> None:
        """Redraw now (tests, benchmarks and screenshots)."""
        self._dirty = True
        self._redraw()
