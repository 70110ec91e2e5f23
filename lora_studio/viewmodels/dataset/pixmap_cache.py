"""View-model support: a byte-bounded LRU of thumbnail pixmaps for the dataset grid.

The grid may hold 10,000 rows but only a few hundred thumbnails are ever on screen; keeping every
decoded pixmap would cost ~200 KB each (2 GB for 10,000). The cache is bounded by pixel bytes, and
evicted keys are handed back to the caller so the model can request them again when they are
painted. Lives on the GUI thread only (QPixmap is not thread-safe).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from PySide6.QtGui import QPixmap

DEFAULT_BUDGET_BYTES = 96 * 1024 * 1024


def pixmap_bytes(pixmap: QPixmap) -> int:
    """Approximate memory of a pixmap: width × height × bytes per pixel (at least 4 for ARGB)."""
    depth = max(pixmap.depth(), 32)
    return pixmap.width() * pixmap.height() * depth // 8


class PixmapCache:
    """Least-recently-used pixmaps keyed by any hashable, bounded by total pixel bytes."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self._budget = max(0, budget_bytes)
        self._items: OrderedDict[Hashable, tuple[QPixmap, int]] = OrderedDict()
        self._bytes = 0

    @property
    def budget_bytes(self) -> int:
        return self._budget

    @property
    def used_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def get(self, key: Hashable) -> QPixmap | None:
        """The pixmap for `key` (marking it recently used), or None."""
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, pixmap: QPixmap) -> list[Hashable]:
        """Store `pixmap`; returns the keys evicted to stay within the budget."""
        self.discard(key)
        size = pixmap_bytes(pixmap)
        self._items[key] = (pixmap, size)
        self._bytes += size
        evicted: list[Hashable] = []
        # Never evict the entry just added: a visible cell must be able to show its thumbnail even
        # when the budget is smaller than one pixmap.
        while self._bytes > self._budget and len(self._items) > 1:
            old_key, (_, old_size) = self._items.popitem(last=False)
            self._bytes -= old_size
            evicted.append(old_key)
        return evicted

    def discard(self, key: Hashable) -> None:
        found = self._items.pop(key, None)
        if found is not None:
            self._bytes -= found[1]

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0
