"""The Train page's Dataset step and review on a dataset with a truncated JPEG and a damaged PNG:
the count line shows the decode check's progress while it runs, then the image count without
them, and the warning names them with what to do (screenshots under LORA_STUDIO_TEST_SHOTS)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from lora_studio.views.pages.train_page import TrainPage
from tests.fakes.fake_comfyui import FakeComfyUI
from tests.screenshots import shots_dir
from tests.viewmodels.train.test_train_wizard_undecodable import NOTICE, damaged_dataset
from tests.viewmodels.train.train_helpers import advance, fill_parameters, wait_idle

SHOTS = shots_dir("train-undecodable")


def test_dataset_step_shows_progress_then_names_the_pictures_left_out(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(fake.url))
    page = TrainPage(wizard)
    qtbot.addWidget(page)
    page.resize(1100, 760)
    page.show()
    step = page.steps[0]
    seen: list[str] = []

    def look(_text: str) -> None:
        # Connected after the view's own slot: it sees the label as the artist does.
        seen.append(step.count_label.text())
        if len(seen) == 2:
            page.grab().save(str(SHOTS / "dataset-step-checking.png"))

    wizard.dataset.progress_text_changed.connect(look)
    wizard.set_dataset_folder(str(damaged_dataset(tmp_path / "hero set")))
    wait_idle(qtbot, wizard)
    assert any(text.startswith("Checking that the pictures decode… ") for text in seen)
    assert step.count_label.text() == "4"
    assert step.skipped_label.isVisible() and step.skipped_label.text().startswith(NOTICE)
    assert page.next_button.isEnabled()
    assert page.grab().save(str(SHOTS / "dataset-step.png"))

    advance(qtbot, wizard)
    wizard.dataset.set_acknowledged(True)
    advance(qtbot, wizard)
    fill_parameters(wizard)
    advance(qtbot, wizard)
    advance(qtbot, wizard)
    review = page.steps[-1]
    assert NOTICE in " ".join(label.text() for label in review.findChildren(QLabel))
    assert page.grab().save(str(SHOTS / "review-step.png"))
