"""The caption box exists only for a chosen picture: with no dataset open, or a dataset open but no
picture selected, the Dataset detail pane and the Captions page show a short hint instead of an
empty text box that takes no text (issue 11: in the real window it looked editable)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.fakes.caption_dataset import caption_of


def _caption_box_shown(editor) -> bool:  # type: ignore[no-untyped-def]
    return editor.text_edit.isVisible() and not editor.hint_label.isVisible()


def test_no_dataset_shows_a_hint_instead_of_a_caption_box(qtbot, pages) -> None:  # type: ignore[no-untyped-def]
    built = pages(None)
    built.dataset_page.show()
    qtbot.waitExposed(built.dataset_page)
    caption = built.dataset_page.detail.caption
    assert caption is not None
    assert not caption.text_edit.isVisible()
    assert caption.hint_label.isVisible()
    assert caption.hint_label.text() == "Select a picture to edit its caption."
    # Typing goes nowhere: the box takes no keys and the editor keeps no text.
    qtbot.keyClicks(caption.text_edit, "lost words")
    assert caption.text_edit.toPlainText() == ""
    assert built.captions_vm.editor.text == ""


def test_open_dataset_without_a_selection_still_shows_the_hint(
    qtbot, caption_dataset, pages
) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    built = pages(root)
    built.dataset_page.show()
    qtbot.waitExposed(built.dataset_page)
    detail_caption = built.dataset_page.detail.caption
    page_editor = built.captions_page.editor
    for editor in (detail_caption, page_editor):
        assert not _caption_box_shown(editor)
        assert editor.hint_label.text() == "Select a picture to edit its caption."
    assert page_editor.chips is not None and not page_editor.chips.isVisible()

    # A picture is chosen: both places show its caption, ready to type into.
    built.captions_vm.select(str(root / "img_000.jpg"))
    qtbot.waitUntil(lambda: built.captions_vm.editor.editable, timeout=5000)
    assert _caption_box_shown(detail_caption) and _caption_box_shown(page_editor)
    assert page_editor.chips.isVisible()
    edit = detail_caption.text_edit
    edit.setFocus()
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    qtbot.keyClicks(edit, ", hat")
    qtbot.keyClick(edit, Qt.Key.Key_Tab)  # leaving the box saves at once
    qtbot.waitUntil(
        lambda: caption_of(root, "img_000.jpg") == "ohwx, red hair, smiling, outdoors, hat",
        timeout=5000,
    )

    # The selection goes away: the hint comes back.
    built.dataset_vm.set_current("")
    assert not _caption_box_shown(detail_caption)
    assert not _caption_box_shown(page_editor)
