"""The Captions page's Ctrl+J and its "Next without caption" button go to the next picture without
a caption; when none is left, the remark beside the file name says so and goes on the next move."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_ctrl_j_and_the_button_find_pictures_without_caption(qtbot, caption_dataset, pages) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset(count=4)  # only img_003 has no caption
    built = pages(root)
    page = built.captions_page
    built.captions_vm.select(str(root / "img_000.jpg"))
    qtbot.waitUntil(lambda: built.captions_vm.editor.title == "img_000.jpg", timeout=5000)
    page.filmstrip.setFocus()
    qtbot.keyClick(page.filmstrip, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert built.captions_vm.editor.title == "img_003.jpg"
    assert page.filmstrip.currentIndex().row() == 3
    assert page.notice_label.isHidden()
    assert "Ctrl+J" in page.uncaptioned_button.toolTip()
    page.uncaptioned_button.click()  # img_003 is the only one
    assert page.notice_label.isVisible()
    assert page.notice_label.text() == "This is the only picture in the dataset without a caption."
    qtbot.keyClick(page.filmstrip, Qt.Key.Key_PageUp)
    assert built.captions_vm.editor.title == "img_002.jpg"
    assert page.notice_label.isHidden()
