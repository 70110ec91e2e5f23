"""Ctrl+F puts the cursor in the page's filter (taggui's Alt+F, under the usual Find key): the
Dataset page's picture filter, the Captions page's tag-table filter — with what was typed there
selected, so typing replaces it."""

from __future__ import annotations

from PySide6.QtCore import Qt


def _focus(qtbot, widget) -> None:  # type: ignore[no-untyped-def]
    """Each page is a window of its own here: make the page's window the active one first."""
    window = widget.window()
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=3000)


def test_ctrl_f_focuses_each_pages_filter(qtbot, caption_dataset, pages) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset(count=4)
    built = pages(root)
    dataset_page, captions_page = built.dataset_page, built.captions_page

    search = dataset_page.filter_bar.search
    search.setText("red")
    _focus(qtbot, dataset_page.grid)
    qtbot.keyClick(dataset_page.grid, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert search.hasFocus() and search.selectedText() == "red"
    assert "Ctrl+F" in search.toolTip()

    field = captions_page.tag_table.filter_field
    _focus(qtbot, captions_page.filmstrip)
    qtbot.keyClick(captions_page.filmstrip, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert field.hasFocus()
