"""View: the dataset thumbnail grid — a virtualised QListView in icon mode that accepts dropped
files, folders and zip archives.

Uniform item sizes let Qt lay out 10,000 rows without asking the model for anything but the row
count; the ThumbnailDelegate paints only what is visible. Drops are turned into local paths and
emitted as `paths_dropped`; the page forwards them to the view-model (the view decides nothing
about what is importable — the core reports files it cannot use).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QWidget

from lora_studio.views.dataset.thumbnail_delegate import ThumbnailDelegate

EMPTY_TEXT = "Drop pictures, a folder or zip archives here"
CELL = QSize(176, 204)  # the delegate's card; columns are spread so the grid fills its width


def local_paths(mime: QMimeData | None) -> list[str]:
    """Local file paths in a drag's data (URLs that are not local files are ignored)."""
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


class DatasetGridView(QListView):
    """Icon-mode list of thumbnails with multi-select and drop-to-import."""

    paths_dropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DatasetGrid")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setUniformItemSizes(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWrapping(True)
        self.setSpacing(4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setMouseTracking(True)  # hover highlight in the delegate
        self.setItemDelegate(ThumbnailDelegate(self))
        # Internal drag and drop is off: dragging thumbnails around means nothing here.
        self.setDragEnabled(False)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self._drag_active = False
        self._empty_text = EMPTY_TEXT
        self.setToolTip("")
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover, True)

    def sizeHint(self) -> QSize:
        return QSize(760, 560)

    def set_empty_text(self, text: str) -> None:
        """What the empty grid says (no dataset, an empty dataset, nothing matches the filters)."""
        if text != self._empty_text:
            self._empty_text = text
            self.viewport().update()

    @property
    def empty_text(self) -> str:
        return self._empty_text

    # -- layout ------------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit_columns()
        super().resizeEvent(event)

    def _fit_columns(self) -> None:
        """As many card columns as fit, the spare width shared out between them: no empty strip
        on the right whatever the splitter leaves for the grid."""
        spacing = self.spacing()
        usable = self._layout_width()
        columns = max(1, usable // (CELL.width() + spacing))
        width = max(CELL.width() + spacing, usable // columns)
        grid = QSize(width, CELL.height() + spacing)
        if grid != self.gridSize():
            self.setGridSize(grid)

    def _layout_width(self) -> int:
        """The width Qt's list layout wraps rows at (QListViewPrivate::prepareItemsLayout): the
        largest viewport less a vertical scroll bar's extent under the as-needed policy — shown
        or not — less one pixel (a cell whose right edge touches the bound wraps). Dividing the
        viewport's own width instead put one column too many in the sum and the row wrapped a
        column early, leaving a strip a card wide on the right."""
        width = self.maximumViewportSize().width()
        if self.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAsNeeded:
            width -= self.style().pixelMetric(
                QStyle.PixelMetric.PM_ScrollBarExtent, None, self.verticalScrollBar()
            )
        return width - 1

    # -- drag and drop -----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
            self._set_drag_active(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QEvent) -> None:  # type: ignore[override]
        self._set_drag_active(False)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_drag_active(False)
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.paths_dropped.emit(paths)

    @property
    def drag_active(self) -> bool:
        return self._drag_active

    def _set_drag_active(self, active: bool) -> None:
        if active != self._drag_active:
            self._drag_active = active
            self.viewport().update()

    # -- painting ----------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        empty = model is None or model.rowCount() == 0
        if not empty and not self._drag_active:
            return
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRect(self.viewport().rect()).adjusted(16, 16, -16, -16)
        colour = self.palette().color(QPalette.ColorRole.Highlight)
        if self._drag_active:
            fill = QColor(colour)
            fill.setAlpha(40)
            painter.setBrush(fill)
        else:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            colour = self.palette().color(QPalette.ColorRole.Mid)
        painter.setPen(QPen(colour, 2, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(area, 12, 12)
        if empty:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.2)
            painter.setFont(font)
            text_area = QRect(area.left(), area.top() + 24, area.width(), area.height() // 3)
            painter.drawText(
                text_area,
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                self._empty_text,
            )
        painter.end()
