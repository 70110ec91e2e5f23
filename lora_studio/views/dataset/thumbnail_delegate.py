"""View: paints one dataset grid cell — the thumbnail (or a placeholder shaped like the picture),
its file name, and a round badge per problem.

Everything comes from model roles (`DecorationRole`, `GridRole.STATUS`, `GridRole.BADGES`,
`GridRole.WIDTH/HEIGHT`); the delegate keeps no state and does no I/O, so painting 10,000 rows
costs only what is on screen.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from lora_studio.viewmodels.dataset.rows import BADGE_LABELS, Badge
from lora_studio.viewmodels.models.thumbnail_grid_model import GridRole, ThumbnailStatus

ModelIndex = QModelIndex | QPersistentModelIndex

# Glyph and colour per badge: distinct hues so a glance at a page of thumbnails shows which kind
# of problem dominates; the tooltip and the legend spell them out.
BADGE_STYLE: dict[Badge, tuple[str, QColor]] = {
    Badge.UNREADABLE: ("!", QColor("#d32f2f")),
    Badge.NO_CAPTION: ("T", QColor("#ef8c00")),
    Badge.TOO_SMALL: ("↓", QColor("#8e24aa")),
    Badge.EXTREME_ASPECT: ("↔", QColor("#00897b")),
    Badge.NEAR_DUPLICATE: ("≈", QColor("#3949ab")),
}
BADGE_DIAMETER = 20
PADDING = 6
TEXT_HEIGHT = 22


def badge_tooltip() -> str:
    """A legend of the badge glyphs, for tooltips on filters."""
    return "\n".join(f"{BADGE_STYLE[b][0]}  {BADGE_LABELS[b]}" for b in Badge)


class ThumbnailDelegate(QStyledItemDelegate):
    """Card-style painting for the dataset grid (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._badge_font = QFont()
        self._badge_font.setBold(True)
        self._badge_font.setPixelSize(12)
        # Antialiased rounded rectangles and circles cost ~0.2 ms each; a page of cells is
        # repainted for every arriving thumbnail, so the card and badge shapes are rendered once
        # into pixmaps and blitted.
        self._cards: dict[tuple[int, int, bool, bool, int, float], QPixmap] = {}
        self._badges: dict[tuple[Badge, float], QPixmap] = {}
        # The first screen of a freshly opened folder is all placeholders, painted while workers
        # check and decode: their shapes (a few sizes, one per aspect ratio) and the elided names
        # are kept too, so a cell costs a blit and a drawText instead of ~0.7 ms of Qt calls —
        # each of which also waits for the GIL behind the workers.
        self._placeholders: dict[tuple[int, int, bool, int, float], QPixmap] = {}
        self._elided: dict[tuple[str, int], str] = {}

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        hint = index.data(Qt.ItemDataRole.SizeHintRole)
        return hint if isinstance(hint, QSize) else QSize(176, 204)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = option.palette  # type: ignore[attr-defined]
        cell = QRect(option.rect).adjusted(2, 2, -2, -2)  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)  # type: ignore[attr-defined]
        self._paint_card(painter, cell, palette, selected, hovered)

        image_area = QRect(
            cell.left() + PADDING,
            cell.top() + PADDING,
            cell.width() - 2 * PADDING,
            cell.height() - 2 * PADDING - TEXT_HEIGHT,
        )
        # Asking for the decoration is what makes the lazy model request a missing thumbnail.
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        status = index.data(GridRole.STATUS)
        if status == ThumbnailStatus.READY:
            self._paint_pixmap(painter, image_area, pixmap)
        else:
            self._paint_placeholder(
                painter, image_area, index, palette, failed=status == ThumbnailStatus.FAILED
            )

        self._paint_name(painter, cell, index, palette)
        self._paint_badges(painter, image_area, index.data(GridRole.BADGES) or [])
        painter.restore()

    def _paint_card(
        self, painter: QPainter, cell: QRect, palette: QPalette, selected: bool, hovered: bool
    ) -> None:
        ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
        key = (cell.width(), cell.height(), selected, hovered, palette.cacheKey(), ratio)
        card = self._cards.get(key)
        if card is None:
            if len(self._cards) > 32:  # palette or size changes: keep the cache small
                self._cards.clear()
            card = QPixmap(QSize(cell.width(), cell.height()) * ratio)
            card.setDevicePixelRatio(ratio)
            card.fill(Qt.GlobalColor.transparent)
            card_painter = QPainter(card)
            card_painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._draw_card(
                card_painter, QRect(0, 0, cell.width(), cell.height()), palette, selected, hovered
            )
            card_painter.end()
            self._cards[key] = card
        painter.drawPixmap(cell.topLeft(), card)

    def _draw_card(
        self, painter: QPainter, cell: QRect, palette: QPalette, selected: bool, hovered: bool
    ) -> None:
        if selected:
            fill = palette.color(QPalette.ColorRole.Highlight)
            fill.setAlpha(90)
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2))
        else:
            fill = palette.color(QPalette.ColorRole.AlternateBase)
            border = palette.color(QPalette.ColorRole.Mid)
            border.setAlpha(140 if hovered else 60)
            painter.setPen(QPen(border, 1))
        painter.setBrush(fill)
        painter.drawRoundedRect(QRectF(cell).adjusted(1, 1, -1, -1), 6, 6)

    def _paint_pixmap(self, painter: QPainter, area: QRect, pixmap: object) -> None:
        if not isinstance(pixmap, QPixmap) or pixmap.isNull():
            return
        size = pixmap.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(area.center())
        painter.drawPixmap(target, pixmap)

    def _paint_placeholder(
        self, painter: QPainter, area: QRect, index: ModelIndex, palette: QPalette, *, failed: bool
    ) -> None:
        # Shaped like the picture (sizes come from headers), so the grid does not jump on arrival.
        width, height = index.data(GridRole.WIDTH) or 1, index.data(GridRole.HEIGHT) or 1
        size = QSize(width, height).scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        box = QRect(0, 0, max(size.width(), 24), max(size.height(), 24))
        box.moveCenter(area.center())
        ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
        key = (box.width(), box.height(), failed, palette.cacheKey(), ratio)
        shape = self._placeholders.get(key)
        if shape is None:
            if len(self._placeholders) > 64:  # sizes, palettes or screens change: stay small
                self._placeholders.clear()
            shape = self._placeholder_pixmap(box.size(), palette, failed, ratio)
            self._placeholders[key] = shape
        painter.drawPixmap(box.topLeft(), shape)

    @staticmethod
    def _placeholder_pixmap(size: QSize, palette: QPalette, failed: bool, ratio: float) -> QPixmap:
        pixmap = QPixmap(size * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(0, 0, size.width(), size.height())
        colour = palette.color(QPalette.ColorRole.Mid)
        colour.setAlpha(70)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(box, 4, 4)
        if failed:
            # BrightText is the theme's readable "alarm" colour on both light and dark bases.
            painter.setPen(palette.color(QPalette.ColorRole.BrightText))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "Unreadable")
        painter.end()
        return pixmap

    def _paint_name(
        self, painter: QPainter, cell: QRect, index: ModelIndex, palette: QPalette
    ) -> None:
        text_rect = QRect(
            cell.left() + PADDING,
            cell.bottom() - TEXT_HEIGHT - 2,
            cell.width() - 2 * PADDING,
            TEXT_HEIGHT,
        )
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        name = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        elided = self._elided.get((name, text_rect.width()))
        if elided is None:
            if len(self._elided) > 4096:
                self._elided.clear()
            elided = painter.fontMetrics().elidedText(
                name, Qt.TextElideMode.ElideMiddle, text_rect.width()
            )
            self._elided[(name, text_rect.width())] = elided
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, elided)

    def _paint_badges(self, painter: QPainter, area: QRect, badges: list[str]) -> None:
        ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
        x = area.left() + 2
        for name in badges:
            try:
                badge = Badge(name)
            except ValueError:
                continue
            pixmap = self._badges.get((badge, ratio))
            if pixmap is None:
                pixmap = self._badge_pixmap(badge, ratio)
                self._badges[(badge, ratio)] = pixmap
            painter.drawPixmap(x, area.top() + 2, pixmap)
            x += BADGE_DIAMETER + 3

    def _badge_pixmap(self, badge: Badge, ratio: float) -> QPixmap:
        glyph, colour = BADGE_STYLE[badge]
        pixmap = QPixmap(QSize(BADGE_DIAMETER, BADGE_DIAMETER) * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(self._badge_font)
        circle = QRectF(0.75, 0.75, BADGE_DIAMETER - 1.5, BADGE_DIAMETER - 1.5)
        painter.setPen(QPen(QColor(255, 255, 255, 230), 1.5))
        painter.setBrush(colour)
        painter.drawEllipse(circle)
        painter.setPen(QColor("white"))
        painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, glyph)
        painter.end()
        return pixmap
