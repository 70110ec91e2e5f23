"""The Dataset page on a running qasync loop: drops onto the grid, Delete/Ctrl+Z, doctor fixes with
confirmation, Cancel, the folder chooser, filters and a screenshot that is looked at (not blank)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QStyle

from lora_studio.viewmodels.models.findings_model import FindingRole
from lora_studio.viewmodels.models.thumbnail_grid_model import GridRole


def _open(qtbot, vm, root: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(vm.opened, timeout=10_000):
        vm.open_folder(str(root))


def _drop(widget, paths: list[Path]) -> tuple[bool, bool]:  # type: ignore[no-untyped-def]
    """Send DragEnter, DragMove and Drop (docs/architecture.md §4); returns (enter accepted, drop accepted)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    point = QPoint(widget.width() // 2, widget.height() // 2)
    actions = Qt.DropAction.CopyAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point, actions, mime, buttons, modifiers)
    QApplication.sendEvent(widget, enter)
    move = QDragMoveEvent(point, actions, mime, buttons, modifiers)
    QApplication.sendEvent(widget, move)
    drop = QDropEvent(QPointF(point), actions, mime, buttons, modifiers)
    QApplication.sendEvent(widget, drop)
    return enter.isAccepted(), drop.isAccepted()


def _grid_names(page) -> list[str]:  # type: ignore[no-untyped-def]
    model = page.grid.model()
    return [model.index(r, 0).data(GridRole.NAME) for r in range(model.rowCount())]


def test_dropping_files_folders_and_zips_on_the_grid_imports_them(
    qtbot, qloop, tmp_path, make_dataset, draw, page_factory
) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    page, vm = page_factory()
    root = make_dataset(3)
    # On an empty page, dropping one folder asks how to use it; copying is the default.
    assert page.empty_state.isVisible() and page.empty_state.buttons[0].text() == "New dataset…"
    assert _drop(page.grid.viewport(), [root]) == (True, True)
    box = page.drop_choice
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert box.defaultButton().text() == "Copy into a new dataset"
    with qtbot.waitSignal(vm.opened, timeout=10_000):
        box.defaultButton().click()
    assert len(_grid_names(page)) == 3 and not page.empty_state.isVisible()
    assert Path(vm.folder).parent == (tmp_path / "datasets").absolute()
    assert "originals stay" in page.folder_note.text()

    single = draw(tmp_path / "in" / "dropped.jpg", 40, caption="ohwx, dropped")
    folder_pic = draw(tmp_path / "in" / "folder" / "from folder.png", 41)
    draw(tmp_path / "zipme.jpg", 42)
    archive = tmp_path / "in" / "pack.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(tmp_path / "zipme.jpg", "zipme.jpg")
    with qtbot.waitSignal(vm.imported, timeout=10_000):
        _drop(page.grid.viewport(), [single, folder_pic.parent, archive])
    qtbot.waitUntil(lambda: not vm.busy, timeout=5000)
    names = _grid_names(page)
    assert {"dropped.jpg", "from folder.png", "zipme.jpg"} <= set(names) and len(names) == 6
    assert "6 pictures" in page.count_label.text()


def test_drag_without_files_is_refused(qtbot, page_factory) -> None:  # type: ignore[no-untyped-def]
    page, _vm = page_factory()
    mime = QMimeData()
    mime.setText("just text")
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(page.grid.viewport(), enter)
    assert not enter.isAccepted() and not page.grid.drag_active


def test_delete_key_trashes_the_selection_and_ctrl_z_restores(
    qtbot, qloop, make_dataset, page_factory
) -> None:  # type: ignore[no-untyped-def]
    page, vm = page_factory()
    root = make_dataset(5)
    _open(qtbot, vm, root)
    page.grid.setFocus()
    page.grid.selectionModel().select(
        page.grid.model().index(1, 0), page.grid.selectionModel().SelectionFlag.Select
    )
    page.grid.selectionModel().select(
        page.grid.model().index(3, 0), page.grid.selectionModel().SelectionFlag.Select
    )
    assert page.delete_action.isEnabled()
    with qtbot.waitSignal(vm.operation_finished, timeout=5000):
        qtbot.keyClick(page.grid, Qt.Key.Key_Delete)
    assert _grid_names(page) == ["img_000.jpg", "img_002.jpg", "img_004.jpg"]
    assert not (root / "img_001.jpg").exists() and page.undo_action.isEnabled()
    with qtbot.waitSignal(vm.operation_finished, timeout=5000):
        qtbot.keyClick(page.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(_grid_names(page)) == 5, timeout=5000)
    assert (root / "img_001.jpg").exists() and not page.undo_action.isEnabled()


def test_doctor_fix_button_confirms_then_fixes(qtbot, qloop, make_dataset, page_factory) -> None:  # type: ignore[no-untyped-def]
    page, vm = page_factory()
    root = make_dataset(4)
    (root / "junk.png").write_bytes(b"")  # empty files: errors whose fix is "Move to trash"
    (root / "keep.png").write_bytes(b"")
    _open(qtbot, vm, root)
    panel = page.doctor
    page.side.setCurrentWidget(panel)
    model = vm.doctor.findings_model

    def select(name: str) -> None:
        rows = [
            r
            for r in range(model.rowCount())
            if model.index(r, 0).data(FindingRole.PATH).endswith(name)
        ]
        # Not selectRow(): it honours the application's keyboard modifiers, and an earlier test's
        # Ctrl+Z click can leave Ctrl "held" as far as QGuiApplication knows.
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        panel.table.selectionModel().setCurrentIndex(model.index(rows[0], 0), flags)

    # Declining the confirmation changes nothing.
    select("keep.png")
    panel.fix_button.click()
    assert panel.confirmation is not None and panel.confirmation.isVisible()
    panel.confirmation.button(QMessageBox.StandardButton.Cancel).click()
    assert vm.doctor.pending_fixes == [] and (root / "keep.png").exists()

    select("junk.png")
    assert panel.fix_button.isEnabled() and "junk.png" in panel.message.text()
    panel.fix_button.click()
    box = panel.confirmation
    assert isinstance(box, QMessageBox) and box.isVisible() and "Move to trash" in box.text()
    with qtbot.waitSignal(vm.doctor.fixes_applied, timeout=10_000):
        box.button(QMessageBox.StandardButton.Apply).click()
    qtbot.waitUntil(lambda: "junk.png" not in _grid_names(page), timeout=5000)
    assert not (root / "junk.png").exists() and (root / "keep.png").exists()
    assert page.undo_action.isEnabled()


def test_cancel_button_stops_a_long_check(qtbot, qloop, make_dataset, page_factory) -> None:  # type: ignore[no-untyped-def]
    page, vm = page_factory()
    _open(qtbot, vm, make_dataset(40))
    page.side.setCurrentWidget(page.doctor)
    strip = page.doctor.progress
    with qtbot.waitSignal(vm.doctor.operation_finished, timeout=10_000) as blocker:
        page.doctor.run_button.click()
        assert strip.isVisible() and strip.cancel_button.isEnabled()
        assert not page.doctor.run_button.isEnabled()
        strip.cancel_button.click()
    assert blocker.args[1] is False and not strip.isVisible()
    assert page.doctor.run_button.isEnabled()


def test_open_button_shows_a_non_blocking_folder_chooser(
    qtbot, qloop, make_dataset, page_factory
) -> None:  # type: ignore[no-untyped-def]
    page, vm = page_factory()
    root = make_dataset(2)
    page.open_button.click()  # returns at once: the dialog is open(), not exec()
    dialog = page.dialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    assert dialog.fileMode() == QFileDialog.FileMode.Directory
    with qtbot.waitSignal(vm.opened, timeout=10_000):
        dialog.fileSelected.emit(str(root))
        dialog.reject()
    assert vm.image_count == 2 and str(root) in page.folder_label.text()
    # Import offers pictures and zips, or a whole folder.
    page.import_files_action.trigger()
    assert isinstance(page.dialog, QFileDialog)
    assert page.dialog.fileMode() == QFileDialog.FileMode.ExistingFiles
    page.dialog.reject()
    page.import_folder_action.trigger()
    assert page.dialog.fileMode() == QFileDialog.FileMode.Directory
    page.dialog.reject()


def test_empty_grid_offers_the_next_step_and_fills_its_width(
    qtbot, qloop, tmp_path, make_dataset, page_factory
) -> None:  # type: ignore[no-untyped-def]
    from lora_studio.views.dataset.grid_view import CELL

    page, vm = page_factory()
    assert page.empty_state.title.text() == "Start a dataset"
    page.empty_state.buttons[0].click()  # New dataset…
    dialog = page.name_dialog
    assert dialog is not None and dialog.isVisible()
    with qtbot.waitSignal(vm.opened, timeout=10_000):
        dialog.textValueSelected.emit("anna")
        dialog.reject()
    qtbot.waitUntil(lambda: isinstance(page.dialog, QFileDialog), timeout=5000)
    page.dialog.reject()  # the import chooser that follows
    assert page.empty_state.isVisible()
    assert page.empty_state.title.text() == "This dataset has no pictures yet"
    assert "open a dataset" not in page.grid.empty_text.lower()

    root = make_dataset(9)
    with qtbot.waitSignal(vm.opened, timeout=10_000):
        vm.open_folder(str(root))
    assert not page.empty_state.isVisible()
    # Where the cards really land (not the grid-size arithmetic): the first row's cells reach the
    # right edge, short of at most a scroll bar's width (Qt reserves it whether or not it shows).
    bar = page.grid.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    for width in (1280, 1000, 1500, 900, 1137, 1333, 1611):
        page.resize(width, 800)
        QApplication.processEvents()
        page.grid.doItemsLayout()
        rects = [page.grid.visualRect(page.grid.model().index(r, 0)) for r in range(9)]
        first_row = [rect for rect in rects if rect.top() == rects[0].top()]
        cell = page.grid.gridSize().width()
        strip = page.grid.viewport().width() - len(first_row) * cell
        assert cell >= CELL.width()
        assert len(first_row) < 9, "the test needs a second row to see where the row wraps"
        assert strip <= bar + len(first_row) + page.grid.spacing(), (width, strip, cell, bar)


def test_filters_selection_detail_and_screenshot(
    qtbot, qloop, tmp_path, make_dataset, page_factory
) -> None:  # type: ignore[no-untyped-def]
    page, vm = page_factory()
    root = make_dataset(12)
    with qtbot.waitSignal(vm.loader.fill_finished, timeout=10_000):
        _open(qtbot, vm, root)
    qtbot.waitUntil(
        lambda: all(
            page.grid.model().index(r, 0).data(GridRole.STATUS) == "ready" for r in range(8)
        ),
        timeout=5000,
    )
    page.grid.setCurrentIndex(page.grid.model().index(2, 0))
    qtbot.waitUntil(lambda: page.detail.preview.has_image(), timeout=5000)
    assert page.detail.title.text() == "img_002.jpg" and "bucket" in page.detail.bucket.text()

    shot = tmp_path / "dataset-page.png"
    assert page.grab().save(str(shot))
    image = QImage(str(shot))
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 17) for y in range(0, image.height(), 17)
    }
    assert image.width() == 1280 and len(colours) > 50  # thumbnails and text, not a blank page

    page.filter_bar.status.setCurrentIndex(page.filter_bar.status.findData("no_caption"))
    assert vm.grid.visible_count == 3 and "3 shown" in page.count_label.text()
    page.filter_bar.search.setText("img_004")
    page.filter_bar.flush_text_filter()
    assert vm.grid.visible_count == 1
    vm.grid.clear_filters()
    assert page.filter_bar.search.text() == "" and vm.grid.visible_count == 12
    page.filter_bar.sort.setCurrentIndex(page.filter_bar.sort.findData("size"))
    page.filter_bar.order.setChecked(True)
    sizes = [page.grid.model().index(r, 0).data(GridRole.FILE_SIZE) for r in range(12)]
    assert sizes == sorted(sizes, reverse=True)


def test_doctor_problem_column_is_readable_at_the_default_size(
    qtbot, qloop, make_dataset, page_factory
) -> None:  # type: ignore[no-untyped-def]
    """At the page's default size the Problem column shows its header and a sentence, and it
    keeps at least PROBLEM_MIN_WIDTH when the side pane is narrow (the table scrolls)."""
    from lora_studio.viewmodels.models.findings_model import FindingColumn
    from lora_studio.views.dataset.doctor_panel import PROBLEM_MIN_WIDTH

    page, vm = page_factory()
    _open(qtbot, vm, make_dataset(4))
    page.side.setCurrentWidget(page.doctor)
    qtbot.waitUntil(lambda: page.doctor.table.model().rowCount() > 0, timeout=5000)
    table = page.doctor.table
    width = table.columnWidth(FindingColumn.PROBLEM)
    assert width >= PROBLEM_MIN_WIDTH
    assert table.horizontalHeader().fontMetrics().horizontalAdvance("Problem") < width
    page.resize(900, 800)  # a narrow window: the problem column keeps its room
    qtbot.waitUntil(lambda: table.columnWidth(FindingColumn.PROBLEM) >= PROBLEM_MIN_WIDTH)
    page.resize(1800, 800)  # a wide one: it takes the room the others leave
    qtbot.waitUntil(lambda: table.columnWidth(FindingColumn.PROBLEM) > width)
