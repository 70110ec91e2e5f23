"""View-model: what the dataset grid shows — its item models, the filters (text, tag, status), the
sort, and how many pictures pass the filters.

The grid model holds every row; the proxy filters and sorts it (see their modules). Filter values
are observable so the filter bar follows changes made elsewhere (e.g. `reveal` clearing filters
that hide a picture the doctor points at).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from lora_studio.viewmodels.dataset.rows import GridRow, SortKey
from lora_studio.viewmodels.models.dataset_filter_proxy import DatasetFilterProxyModel, StatusFilter
from lora_studio.viewmodels.models.thumbnail_grid_model import ThumbnailGridModel
from lora_studio.viewmodels.observable import Observable


class GridViewModel(QObject):
    """Filters and sort of the thumbnail grid (one per dataset page)."""

    visible_count_changed = Signal(int)
    text_filter_changed = Signal(str)
    tag_filter_changed = Signal(str)
    status_filter_changed = Signal(str)
    error_changed = Signal(str)

    visible_count = Observable(0)
    text_filter = Observable("")
    tag_filter = Observable("")
    status_filter = Observable(StatusFilter.ALL.value)
    error = Observable("")

    def __init__(
        self,
        request_thumbnail: Callable[[Path], None],
        *,
        pixmap_budget_bytes: int | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        extra = {} if pixmap_budget_bytes is None else {"pixmap_budget_bytes": pixmap_budget_bytes}
        self.model = ThumbnailGridModel(request_thumbnail, parent=self, **extra)
        self.proxy = DatasetFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        for signal in (
            self.proxy.rowsInserted,
            self.proxy.rowsRemoved,
            self.proxy.modelReset,
            self.proxy.layoutChanged,
        ):
            signal.connect(self._update_visible_count)

    def row(self, path: Path) -> GridRow | None:
        number = self.model.row_for_path(path)
        return self.model.row_at(number) if number is not None else None

    def is_visible(self, path: Path) -> bool:
        """Whether the filters let this picture through."""
        number = self.model.row_for_path(path)
        return (
            number is not None and self.proxy.mapFromSource(self.model.index(number, 0)).isValid()
        )

    def set_text_filter(self, text: str) -> None:
        self.proxy.set_text_filter(text)
        self.text_filter = text

    def set_tag_filter(self, tag: str) -> None:
        self.proxy.set_tag_filter(tag)
        self.tag_filter = tag.strip()

    def set_status_filter(self, status: str) -> None:
        try:
            self.proxy.set_status_filter(status)
        except ValueError:
            self.error = f"Unknown status filter '{status}'."
            return
        self.status_filter = status

    def clear_filters(self) -> None:
        self.proxy.clear_filters()
        self.text_filter, self.tag_filter = "", ""
        self.status_filter = StatusFilter.ALL.value

    def sort_by(self, key: str, descending: bool = False) -> None:
        self.proxy.sort_by(SortKey(key), descending)

    def _update_visible_count(self, *_args: object) -> None:
        self.visible_count = self.proxy.rowCount()
