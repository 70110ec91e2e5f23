"""The Captions page and the Dataset detail pane, driven by keys and clicks on a running qasync
loop: typing autosaves, Ctrl+Z/Ctrl+Shift+Z go to the caption history, Alt+→ / Page Down move on,
tag chips and the tag table act, the batch dialog previews and applies (then Ctrl+Z undoes it),
and the detail pane edits the same caption."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog

from lora_studio.viewmodels.captions.batch_vm import BatchOperation
from lora_studio.viewmodels.captions.editor_vm import SaveState
from lora_studio.views.captions.batch_dialog import BatchDialog
from tests.fakes.caption_dataset import caption_of


def _pick(qtbot, built, name: str) -> None:  # type: ignore[no-untyped-def]
    built.captions_vm.select(str(built.dataset_vm.root / name))
    qtbot.waitUntil(lambda: built.captions_vm.editor.title == name, timeout=5000)


def test_empty_page_offers_to_open_a_folder(qtbot, pages) -> None:  # type: ignore[no-untyped-def]
    built = pages(None)
    page = built.captions_page
    assert page.stack.currentIndex() == 0 and page.open_button.isVisible()
    assert not page.batch_button.isEnabled()
    with qtbot.waitSignal(built.dataset_vm.folder_open_requested, timeout=1000):
        page.open_button.click()


def test_typing_autosaves_and_ctrl_z_undoes_through_the_history(
    qtbot, caption_dataset, pages
) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    built = pages(root)
    page = built.captions_page
    assert page.stack.currentIndex() == 1
    _pick(qtbot, built, "img_000.jpg")
    assert page.filmstrip.currentIndex().row() == 0
    edit = page.editor.text_edit
    assert edit.toPlainText() == "ohwx, red hair, smiling, outdoors"
    assert [chip.text() for chip in page.editor.chips.chips] == [
        "ohwx",
        "red hair",
        "smiling",
        "outdoors",
    ]
    edit.setFocus()
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    qtbot.keyClicks(edit, ", freckles")
    qtbot.waitUntil(lambda: built.captions_vm.editor.save_state == SaveState.SAVED, timeout=5000)
    assert caption_of(root, "img_000.jpg") == "ohwx, red hair, smiling, outdoors, freckles"
    assert page.editor.chips.chips[-1].text() == "freckles"
    assert "Edit caption" in page.undo_action.toolTip()

    with qtbot.waitSignal(built.captions_vm.session.captions_changed, timeout=5000):
        qtbot.keyClick(edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert caption_of(root, "img_000.jpg") == "ohwx, red hair, smiling, outdoors"
    assert edit.toPlainText() == "ohwx, red hair, smiling, outdoors"
    with qtbot.waitSignal(built.captions_vm.session.captions_changed, timeout=5000):
        qtbot.keyClick(
            edit,
            Qt.Key.Key_Z,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    assert caption_of(root, "img_000.jpg") == "ohwx, red hair, smiling, outdoors, freckles"


def test_keys_move_between_pictures_and_chips_edit_the_caption(
    qtbot, caption_dataset, pages
) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    built = pages(root)
    page = built.captions_page
    _pick(qtbot, built, "img_000.jpg")
    page.editor.text_edit.setFocus()
    qtbot.keyClick(page.editor.text_edit, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert built.captions_vm.editor.title == "img_001.jpg"
    assert page.position_label.text() == "2 of 8"
    qtbot.keyClick(page.filmstrip, Qt.Key.Key_PageDown)
    assert built.captions_vm.editor.title == "img_002.jpg"
    qtbot.keyClick(
        page.editor.text_edit, Qt.Key.Key_BracketLeft, Qt.KeyboardModifier.ControlModifier
    )
    assert built.captions_vm.editor.title == "img_001.jpg"
    assert page.filmstrip.currentIndex().row() == 1

    chips = page.editor.chips
    chips.chips[1].remove_button.click()  # "blue dress"
    assert page.editor.text_edit.toPlainText() == "ohwx, standing, indoors"
    chips.add_field.setText("green coat")
    qtbot.keyClick(chips.add_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: built.captions_vm.editor.save_state == SaveState.SAVED, timeout=5000)
    assert caption_of(root, "img_001.jpg") == "ohwx, standing, indoors, green coat"
    # Autocomplete offers the dataset's own tags.
    qtbot.waitUntil(lambda: chips.completion_model.rowCount() > 0, timeout=5000)
    assert "red hair" in chips.completion_model.stringList()


def test_tag_table_buttons_remove_and_rename_everywhere(
    qtbot, caption_dataset, pages, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    built = pages(root)
    table = built.captions_page.tag_table
    qtbot.waitUntil(lambda: table.proxy.rowCount() > 0, timeout=5000)
    assert not table.remove_button.isEnabled()
    table.select_tag("red hair")
    assert table.remove_button.isEnabled()
    with qtbot.waitSignal(built.captions_vm.session.captions_changed, timeout=5000):
        table.remove_button.click()
    assert caption_of(root, "img_002.jpg") == "portrait, close-up"
    assert "Removed “red hair” from 4 captions." in table.notice_label.text()

    qtbot.waitUntil(lambda: not built.captions_vm.tags.busy, timeout=5000)
    table.filter_field.setText("portr")
    assert table.proxy.rowCount() == 1
    table.select_tag("portrait")
    table.rename_button.click()
    dialog = table.dialog
    assert isinstance(dialog, QInputDialog) and dialog.isVisible()
    dialog.setTextValue("headshot")
    with qtbot.waitSignal(built.captions_vm.session.captions_changed, timeout=5000):
        dialog.accept()
    assert caption_of(root, "img_002.jpg") == "headshot, close-up"


def test_batch_dialog_previews_applies_and_ctrl_z_undoes(qtbot, caption_dataset, pages) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    built = pages(root)
    page = built.captions_page
    page.batch_button.click()
    dialog = page.dialog
    assert isinstance(dialog, BatchDialog) and dialog.isVisible()
    dialog.operation_combo.setCurrentIndex(
        dialog.operation_combo.findData(BatchOperation.PREFIX_SUFFIX.value)
    )
    assert dialog.line_fields["prefix"].isVisible() and not dialog.line_fields["find"].isVisible()
    dialog.line_fields["prefix"].setText("photo of ")
    qtbot.waitUntil(
        lambda: dialog.preview_label.text() == "8 of 8 captions will change.", timeout=5000
    )
    assert dialog.examples.rowCount() == 4
    assert dialog.examples.item(0, 2).text() == "photo of ohwx, red hair, smiling, outdoors"
    assert dialog.apply_button.isEnabled()
    with qtbot.waitSignal(dialog.finished, timeout=5000):
        dialog.apply_button.click()
    assert caption_of(root, "img_000.jpg") == "photo of ohwx, red hair, smiling, outdoors"
    assert caption_of(root, "img_003.jpg") == "photo of "

    page.activateWindow()
    page.filmstrip.setFocus()
    qtbot.waitUntil(page.filmstrip.hasFocus, timeout=2000)
    with qtbot.waitSignal(built.captions_vm.session.captions_changed, timeout=5000):
        qtbot.keyClick(page.filmstrip, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert caption_of(root, "img_000.jpg") == "ohwx, red hair, smiling, outdoors"
    assert caption_of(root, "img_003.jpg") is None  # the batch created it; undo removes it


def test_dataset_detail_pane_edits_the_same_caption(qtbot, caption_dataset, pages) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    built = pages(root)
    dataset_page = built.dataset_page
    dataset_page.show()
    caption = dataset_page.detail.caption
    assert caption is not None and caption.chips is None  # the compact editor
    built.dataset_vm.set_current(str(root / "img_002.jpg"))
    assert caption.text_edit.toPlainText() == "red hair, portrait, close-up"
    caption.text_edit.selectAll()
    caption.text_edit.setFocus()
    qtbot.keyClicks(caption.text_edit, "ohwx, edited in the detail pane")
    qtbot.waitUntil(lambda: built.captions_vm.editor.save_state == SaveState.SAVED, timeout=5000)
    assert caption_of(root, "img_002.jpg") == "ohwx, edited in the detail pane"
    # One editor view-model: the Captions page shows the same picture and text.
    assert built.captions_page.editor.text_edit.toPlainText() == "ohwx, edited in the detail pane"
    assert built.captions_page.title_label.text() == "img_002.jpg"
    # Ctrl+Z inside the caption box undoes the caption edit, not a Dataset-page delete.
    with qtbot.waitSignal(built.captions_vm.session.captions_changed, timeout=5000):
        qtbot.keyClick(caption.text_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert caption_of(root, "img_002.jpg") == "red hair, portrait, close-up"
    QApplication.processEvents()
