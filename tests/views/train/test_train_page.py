"""The Train page driven through its widgets against the fake ComfyUI server: Next follows
`can_advance`, inline errors, Back keeps what was entered, Start on the last step — with a
screenshot of every step (saved under tmp_path, copied to /tmp/train-shots/, checked non-blank)."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QWidget

from lora_studio.core.jobs import JobStatus
from lora_studio.views.pages.train_page import TrainPage
from tests.fakes.fake_comfyui import CHECKPOINTS, FakeComfyUI
from tests.screenshots import shots_dir
from tests.viewmodels.train.train_helpers import DEAD_URL, wait_idle, write_dataset

SHOTS = shots_dir("train-shots")


def shoot(widget: QWidget, folder: Path, name: str) -> Path:
    """Save a PNG of `widget` and check that it shows more than a blank background."""
    target = folder / f"{name}.png"
    # Let posted layout requests run first, as the event loop would before the next paint.
    QApplication.processEvents()
    assert widget.grab().save(str(target))
    image = QImage(str(target))
    assert image.width() > 600 and image.height() > 400
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 12, f"{name} looks blank"
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(target, SHOTS / target.name)
    return target


def make_page(qtbot, wizard) -> TrainPage:  # type: ignore[no-untyped-def]
    page = TrainPage(wizard)
    qtbot.addWidget(page)
    page.resize(1100, 760)
    page.show()
    return page


def type_into(qtbot, editor: QWidget, text: str) -> None:  # type: ignore[no-untyped-def]
    line = editor.lineEdit() if isinstance(editor, QComboBox) else editor
    assert isinstance(line, QLineEdit)
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def click_next(qtbot, page: TrainPage) -> None:  # type: ignore[no-untyped-def]
    assert page.next_button.isEnabled(), page.hint_label.text()
    qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, page._vm)


def test_every_step_through_the_page_with_screenshots(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    service = service_for(fake.url)
    wizard, _ = wizard_for(service)
    page = make_page(qtbot, wizard)
    wait_idle(qtbot, wizard)
    assert not page.next_button.isEnabled() and not page.back_button.isEnabled()
    assert "dataset folder" in page.hint_label.text()
    shoot(page, tmp_path, "train-1-dataset-empty")

    # The folder button opens a non-blocking dialog; its answer goes to the wizard.
    dataset_step = page.steps[0]
    qtbot.mouseClick(dataset_step.choose_button, Qt.MouseButton.LeftButton)
    dialog = dataset_step._dialog
    assert dialog is not None and dialog.isVisible()
    dialog.fileSelected.emit(str(write_dataset(tmp_path / "hero set", count=4, broken=1)))
    dialog.reject()
    wait_idle(qtbot, wizard)
    assert dataset_step.count_label.text() == "4"
    assert dataset_step.skipped_label.isVisible()
    shoot(page, tmp_path, "train-1-dataset")
    click_next(qtbot, page)

    captions = page.steps[1]
    assert page.stack.currentWidget() is captions and page.back_button.isEnabled()
    assert captions.continue_box.isVisible() and not page.next_button.isEnabled()
    assert captions.table.rowCount() == 2  # not an image; too small for the SDXL default
    shoot(page, tmp_path, "train-2-captions")
    captions.continue_box.setChecked(True)
    click_next(qtbot, page)

    parameters = page.steps[2]
    combo = parameters.editors["base_model"]
    qtbot.waitUntil(lambda: combo.count() == len(CHECKPOINTS), timeout=10_000)
    parameters.preset_combo.setCurrentIndex(parameters.preset_combo.findData("sd15"))
    parameters.preset_combo.activated.emit(parameters.preset_combo.currentIndex())
    type_into(qtbot, parameters.editors["rank"], "500")
    assert parameters.error_labels["rank"].text() and not page.next_button.isEnabled()
    assert page.hint_label.text() == "Fix the settings marked in red."
    shoot(page, tmp_path, "train-3-parameters-error")
    assert parameters.error_labels["base_model"].text()  # "Choose the checkpoint…"
    below = parameters.editors["trigger_word"]
    y_with_error = below.mapTo(parameters, below.rect().topLeft()).y()
    combo.setCurrentIndex(0)
    combo.textActivated.emit(combo.currentText())
    QApplication.processEvents()
    assert not parameters.error_labels["base_model"].text()
    # The fields below keep their place: the error line's room is reserved.
    assert below.mapTo(parameters, below.rect().topLeft()).y() == y_with_error
    for name, text in (("rank", "16"), ("max_steps", "6"), ("trigger_word", "ohwx")):
        type_into(qtbot, parameters.editors[name], text)
    type_into(qtbot, parameters.editors["output_name"], "hero")
    assert not parameters.error_labels["rank"].text()
    assert parameters.estimate_label.text().startswith("6 steps")
    shoot(page, tmp_path, "train-3-parameters")
    click_next(qtbot, page)

    backend = page.steps[3]
    assert "Ready" in backend.diagnosis_label.text()
    assert "RTX 4090" in backend.gpu_label.text()
    assert backend.radios["comfyui"].isChecked()
    assert backend.radios["replicate"].isEnabled() and backend.radios["kohya"].isEnabled()
    shoot(page, tmp_path, "train-4-backend")

    # Back to the parameters and forward again: nothing entered is lost.
    qtbot.mouseClick(page.back_button, Qt.MouseButton.LeftButton)
    assert parameters.editors["max_steps"].text() == "6"
    assert parameters.editors["base_model"].currentText() == CHECKPOINTS[0]
    click_next(qtbot, page)
    click_next(qtbot, page)

    review = page.steps[4]
    assert page.start_button.isVisible() and not page.next_button.isVisible()
    assert review.steps_label.text().startswith("6 steps")
    assert review.command_box.isHidden()  # ComfyUI runs no command here
    assert "fits" in review.verdict_label.text().lower() or review.verdict_label.text()
    shoot(page, tmp_path, "train-5-review")
    with qtbot.waitSignal(wizard.job_started, timeout=15_000) as started:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert not page.start_button.isEnabled() and review.started_label.isVisible()
    shoot(page, tmp_path, "train-5-review-started")
    job_id = started.args[0]
    qtbot.waitUntil(lambda: service.store.get(job_id).status is JobStatus.COMPLETED, timeout=30_000)


def test_dead_server_and_missing_captions_on_the_page(
    service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(DEAD_URL))
    page = make_page(qtbot, wizard)
    wizard.set_dataset_folder(str(write_dataset(tmp_path / "ds", uncaptioned=(0, 1, 2, 3))))
    wait_idle(qtbot, wizard)
    click_next(qtbot, page)
    captions = page.steps[1]
    assert captions.callout_label.isVisible()
    assert captions.callout_label.text().startswith("None of the 4 images has a caption.")
    shoot(page, tmp_path, "train-2-captions-missing")
    captions.continue_box.setChecked(True)
    click_next(qtbot, page)
    type_into(qtbot, page.steps[2].editors["base_model"], "sd15.safetensors")
    click_next(qtbot, page)
    backend = page.steps[3]
    assert "not answering" in backend.diagnosis_label.text()
    assert not page.next_button.isEnabled() and "not available" in page.hint_label.text()
    shoot(page, tmp_path, "train-4-backend-dead")
