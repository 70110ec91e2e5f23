"""The wizard's Parameters step: the fields below the base model stay where they are when its red
"Choose the checkpoint" line appears or goes (issue 11: the next click landed on the wrong field),
and when a learning rate is refused and fixed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from tests.fakes.fake_comfyui import CHECKPOINTS, FakeComfyUI
from tests.viewmodels.train.train_helpers import walk_to_parameters, write_dataset
from tests.views.train.test_train_page import make_page, type_into


def test_fields_do_not_jump_when_errors_come_and_go(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(fake.url))
    page = make_page(qtbot, wizard)
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "ds"))
    wizard.parameters.select_preset("sd15")
    step = page.steps[2]
    QApplication.processEvents()

    def tops() -> list[int]:
        QApplication.processEvents()
        return [step.editors[name].mapTo(step, QPoint(0, 0)).y() for name in step.editors]

    assert step.error_labels["base_model"].text() == "Choose the checkpoint to train on."
    before = tops()
    type_into(qtbot, step.editors["base_model"], CHECKPOINTS[0])
    assert step.error_labels["base_model"].text() == ""
    assert tops() == before
    type_into(qtbot, step.editors["learning_rate"], "abc")
    assert "must be a number" in step.error_labels["learning_rate"].text()
    assert tops() == before
    type_into(qtbot, step.editors["learning_rate"], "1e-4")
    assert tops() == before
