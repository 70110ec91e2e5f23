"""The lazy thumbnail grid model and its filter/sort proxy, tested without a window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QImage

from lora_studio.viewmodels.dataset.rows import Badge, SortKey, make_row
from lora_studio.viewmodels.models.dataset_filter_proxy import DatasetFilterProxyModel, StatusFilter
from lora_studio.viewmodels.models.thumbnail_grid_model import (
    GridRole,
    ThumbnailGridModel,
    ThumbnailStatus,
)


def _image(side: int = 64) -> QImage:
    image = QImage(side, side, QImage.Format.Format_RGB32)
    image.fill(QColor("teal"))
    return image


def _rows(make_entry):  # type: ignore[no-untyped-def]
    return [
        make_row(make_entry("b.jpg", size=300, mtime_ns=3, caption="ohwx, red dress")),
        make_row(make_entry("a.jpg", size=100, mtime_ns=2, caption=None), ["no_caption"]),
        make_row(
            make_entry("c.jpg", size=200, mtime_ns=1, caption="blue sky, ohwx"), ["too_small"]
        ),
        make_row(make_entry("d.jpg", error="d.jpg is damaged."), ["unreadable"]),
    ]


def test_grid_model_passes_qtmodeltester(qtmodeltester, make_entry) -> None:  # type: ignore[no-untyped-def]
    model = ThumbnailGridModel()
    model.set_rows(_rows(make_entry))
    qtmodeltester.check(model)
    assert model.rowCount() == 4
    # Rows are kept sorted by name; every custom role answers.
    assert [model.index(r, 0).data(GridRole.NAME) for r in range(4)] == [
        "a.jpg",
        "b.jpg",
        "c.jpg",
        "d.jpg",
    ]
    index = model.index(0, 0)
    assert index.data(GridRole.BADGES) == [Badge.NO_CAPTION.value]
    assert index.data(GridRole.PATH) == "/data/set/a.jpg"
    assert index.data(GridRole.FILE_SIZE) == 100
    assert index.data(GridRole.WIDTH) == 1024 and index.data(GridRole.HEIGHT) == 1024
    assert index.data(GridRole.STATUS) == ThumbnailStatus.PENDING
    assert model.index(1, 0).data(GridRole.TAGS) == ["ohwx", "red dress"]
    assert index.data(Qt.ItemDataRole.SizeHintRole) == model.cell_size
    assert "No caption" in index.data(Qt.ItemDataRole.ToolTipRole)


def test_decoration_miss_requests_once_and_emits_one_row_changed(qtbot, make_entry) -> None:  # type: ignore[no-untyped-def]
    requested: list[Path] = []
    model = ThumbnailGridModel(requested.append)
    model.set_rows(_rows(make_entry))
    index = model.index(2, 0)
    placeholder = index.data(Qt.ItemDataRole.DecorationRole)
    index.data(Qt.ItemDataRole.DecorationRole)  # painted again before it arrived
    assert requested == [Path("/data/set/c.jpg")]
    assert placeholder.cacheKey() == model.placeholder().cacheKey()

    with qtbot.waitSignal(model.dataChanged) as blocker:
        model.set_thumbnail(Path("/data/set/c.jpg"), _image())
    top, bottom, roles = blocker.args
    assert top.row() == bottom.row() == 2
    assert Qt.ItemDataRole.DecorationRole in roles
    pixmap = index.data(Qt.ItemDataRole.DecorationRole)
    assert pixmap.width() == 64 and pixmap.cacheKey() != model.placeholder().cacheKey()
    assert index.data(GridRole.STATUS) == ThumbnailStatus.READY
    assert requested == [Path("/data/set/c.jpg")]  # no second request once it is there


def test_pixmap_lru_is_bounded_and_evicted_rows_are_requested_again(make_entry) -> None:  # type: ignore[no-untyped-def]
    requested: list[Path] = []
    budget = 2 * 64 * 64 * 4  # room for two 64×64 thumbnails
    model = ThumbnailGridModel(requested.append, pixmap_budget_bytes=budget)
    model.set_rows(_rows(make_entry))
    for row in range(3):
        model.index(row, 0).data(Qt.ItemDataRole.DecorationRole)
        model.set_thumbnail(model.row_at(row).path, _image())
    assert len(model.pixmap_cache) == 2
    assert model.pixmap_cache.used_bytes <= budget
    requested.clear()
    model.index(0, 0).data(Qt.ItemDataRole.DecorationRole)  # the oldest was evicted
    assert requested == [model.row_at(0).path]


def test_failed_thumbnail_stops_requests(make_entry) -> None:  # type: ignore[no-untyped-def]
    requested: list[Path] = []
    model = ThumbnailGridModel(requested.append)
    model.set_rows(_rows(make_entry))
    model.index(3, 0).data(Qt.ItemDataRole.DecorationRole)
    model.set_thumbnail_failed(Path("/data/set/d.jpg"), "d.jpg is damaged.")
    model.index(3, 0).data(Qt.ItemDataRole.DecorationRole)
    assert requested == [Path("/data/set/d.jpg")]
    assert model.index(3, 0).data(GridRole.STATUS) == ThumbnailStatus.FAILED


def test_insert_remove_update_keep_the_index_consistent(qtmodeltester, make_entry) -> None:  # type: ignore[no-untyped-def]
    model = ThumbnailGridModel()
    qtmodeltester.check(model)
    model.set_rows(_rows(make_entry))
    model.remove_paths([Path("/data/set/b.jpg"), Path("/data/set/d.jpg")])
    assert [r.name for r in model.rows()] == ["a.jpg", "c.jpg"]
    model.insert_rows([make_row(make_entry("bb.jpg")), make_row(make_entry("0.jpg"))])
    assert [r.name for r in model.rows()] == ["0.jpg", "a.jpg", "bb.jpg", "c.jpg"]
    assert model.row_for_path(Path("/data/set/c.jpg")) == 3
    model.update_rows([make_row(make_entry("a.jpg", caption="new caption"))])
    assert model.index(1, 0).data(GridRole.CAPTION) == "new caption"


def test_sort_by_size_and_date_keeps_persistent_indexes(make_entry) -> None:  # type: ignore[no-untyped-def]
    model = ThumbnailGridModel()
    model.set_rows(_rows(make_entry))
    persistent = QPersistentModelIndex(model.index(1, 0))  # b.jpg
    model.sort_rows(SortKey.SIZE, descending=True)
    assert [r.name for r in model.rows()] == ["d.jpg", "b.jpg", "c.jpg", "a.jpg"]
    assert persistent.data(GridRole.NAME) == "b.jpg" and persistent.row() == 1
    model.sort_rows(SortKey.DATE)
    assert [r.name for r in model.rows()] == ["c.jpg", "a.jpg", "b.jpg", "d.jpg"]
    assert persistent.data(GridRole.NAME) == "b.jpg" and persistent.row() == 2


def test_proxy_filters_by_text_tag_and_status(qtmodeltester, make_entry) -> None:  # type: ignore[no-untyped-def]
    model = ThumbnailGridModel()
    model.set_rows(_rows(make_entry))
    proxy = DatasetFilterProxyModel()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)

    def names() -> list[str]:
        return [proxy.index(r, 0).data(GridRole.NAME) for r in range(proxy.rowCount())]

    proxy.set_text_filter("OHWX dress")  # every word, any case
    assert names() == ["b.jpg"]
    proxy.set_text_filter("c.jp")  # file names match too
    assert names() == ["c.jpg"]
    proxy.set_text_filter("")
    proxy.set_tag_filter("Blue Sky")
    assert names() == ["c.jpg"]
    proxy.set_tag_filter("")
    proxy.set_status_filter(Badge.NO_CAPTION.value)
    assert names() == ["a.jpg"]
    proxy.set_status_filter(StatusFilter.ANY_PROBLEM.value)
    assert names() == ["a.jpg", "c.jpg", "d.jpg"]
    proxy.set_status_filter(StatusFilter.NO_PROBLEM.value)
    assert names() == ["b.jpg"]
    qtmodeltester.check(proxy)
    proxy.clear_filters()
    assert proxy.rowCount() == 4


def test_proxy_sorts_by_name_size_and_date(qtmodeltester, make_entry) -> None:  # type: ignore[no-untyped-def]
    model = ThumbnailGridModel()
    model.set_rows(_rows(make_entry)[:3])
    proxy = DatasetFilterProxyModel()
    proxy.setSourceModel(model)

    def names() -> list[str]:
        return [proxy.index(r, 0).data(GridRole.NAME) for r in range(proxy.rowCount())]

    proxy.sort_by(SortKey.SIZE)
    assert names() == ["a.jpg", "c.jpg", "b.jpg"]
    proxy.sort_by(SortKey.DATE, descending=True)
    assert names() == ["b.jpg", "a.jpg", "c.jpg"]
    proxy.sort(0, Qt.SortOrder.AscendingOrder)  # Qt's entry point keeps the key
    assert names() == ["c.jpg", "a.jpg", "b.jpg"] and proxy.sort_key is SortKey.DATE
    proxy.set_text_filter("ohwx")
    proxy.sort_by(SortKey.NAME)
    assert names() == ["b.jpg", "c.jpg"]
    qtmodeltester.check(proxy)
    assert model.index(0, 0).data(Qt.ItemDataRole.SizeHintRole) == QSize(model.cell_size)
