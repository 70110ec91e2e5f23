"""A sample, large: double-click in the Jobs page's grid opens it; ←/→ walk the prompts, ↑/↓
the checkpoints (the reference at the top), it stops at the edges, says which cell it shows,
copies the prompt, and says so plainly when a picture is missing or cannot be read."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from lora_studio.core.jobs import JobStore
from lora_studio.viewmodels.jobs_vm import JobsViewModel
from lora_studio.views.jobs.sample_viewer import SampleViewer
from lora_studio.views.pages.jobs_page import JobsPage
from tests.screenshots import shots_dir
from tests.views.jobs.test_samples_grid import finished_job_with_samples


def _shown_image(viewer: SampleViewer) -> bool:
    pixmap = viewer.image_label.pixmap()
    return pixmap is not None and not pixmap.isNull()


def test_double_click_opens_the_sample_large_and_the_arrows_walk_the_grid(
    qtbot, qloop, store: JobStore, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    job = finished_job_with_samples(store, tmp_path)
    vm = JobsViewModel(store)
    page = JobsPage(vm)
    qtbot.addWidget(page)
    page.resize(1100, 800)
    with qtbot.waitSignal(vm.samples_changed, timeout=5000, check_params_cb=lambda n: n > 0):
        vm.select(job.id)
    page.tabs.setCurrentWidget(page.samples_grid)
    page.show()
    table = page.samples_grid.table
    index = vm.samples_model.index(1, 0)
    where = table.visualRect(index).center()
    # A double-click as the mouse makes it: a click, then the double-click.
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    viewer = page.samples_grid.viewer
    assert isinstance(viewer, SampleViewer)
    qtbot.waitUntil(lambda: _shown_image(viewer), timeout=5000)
    assert viewer.title_label.text() == "Step 10 · loss 0.1000"
    assert viewer.prompt_label.text() == "ink portrait"
    assert viewer.position_label.text() == "Prompt 1 of 2 · row 2 of 3"

    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.prompt_label.text() == "ink city"
    qtbot.keyClick(viewer, Qt.Key.Key_Right)  # the last prompt: it stays
    assert viewer.prompt_label.text() == "ink city"
    qtbot.keyClick(viewer, Qt.Key.Key_Up)
    assert viewer.title_label.text() == "No LoRA (reference)"
    qtbot.waitUntil(lambda: _shown_image(viewer), timeout=5000)
    assert viewer._vm.path.endswith("reference_p02.png")
    qtbot.keyClick(viewer, Qt.Key.Key_Down)
    qtbot.keyClick(viewer, Qt.Key.Key_Down)
    assert viewer.title_label.text().startswith("Step 20")
    qtbot.waitUntil(lambda: _shown_image(viewer), timeout=5000)

    viewer.copy_button.click()
    assert QGuiApplication.clipboard().text() == "ink city"
    folder = shots_dir("jobs")
    assert viewer.grab().save(str(folder / "sample-viewer.png"))

    # A picture deleted since: said in words, nothing shown, no crash.
    Path(viewer._vm.path).unlink()
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: "cannot be read" in viewer.image_label.text(), timeout=5000)
    assert not _shown_image(viewer)
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.isVisible()
    page.hide()
