"""The Captions page with no dataset uses the same empty state as the Dataset page (picture, title,
one line, the next action as the highlighted button), and its wrapped line is shown whole."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication


def test_empty_captions_page_looks_like_the_dataset_page(qtbot, pages) -> None:  # type: ignore[no-untyped-def]
    built = pages(None)
    page = built.captions_page
    QApplication.processEvents()
    empty = page.empty_state
    assert empty.isVisible() and empty.title.text() == "No dataset open"
    assert not empty.picture.pixmap().isNull()
    assert [b.text() for b in empty.buttons] == ["Open folder…"]
    assert empty.buttons[0].property("primary") is True
    text = empty.text
    assert text.height() >= text.heightForWidth(text.width())  # no line cut off
    with qtbot.waitSignal(built.dataset_vm.folder_open_requested, timeout=1000):
        empty.buttons[0].click()
