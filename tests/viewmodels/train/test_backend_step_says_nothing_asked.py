"""The Backend step does not say "Nothing to report" about the settings when the backend never
answered (issue 11 walk: beside "ComfyUI at 127.0.0.1:8188 is not answering" it read as if the
settings had been checked and were fine); it says they are asked once the backend answers."""

from __future__ import annotations

from pathlib import Path

from lora_studio.viewmodels.train.backend_step_vm import NOT_ASKED, NOTHING_TO_REPORT
from lora_studio.viewmodels.train.train_wizard_vm import STEP_BACKEND
from lora_studio.views.train.backend_step import BackendStepWidget
from tests.fakes.fake_comfyui import FakeComfyUI
from tests.viewmodels.train.train_helpers import (
    DEAD_URL,
    advance,
    fill_parameters,
    walk_to_parameters,
    write_dataset,
)


def test_dead_server_leaves_the_settings_unasked(
    service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(DEAD_URL))
    widget = BackendStepWidget(wizard.backend, wizard.check_backend)
    qtbot.addWidget(widget)
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "ds"))
    fill_parameters(wizard)
    advance(qtbot, wizard)
    assert wizard.step == STEP_BACKEND and not wizard.backend.available
    assert wizard.backend.messages_placeholder == NOT_ASKED
    assert widget.messages_label.text() == NOT_ASKED


def test_a_server_that_answers_reports_on_the_settings(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(fake.url))
    widget = BackendStepWidget(wizard.backend, wizard.check_backend)
    qtbot.addWidget(widget)
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "ds"))
    fill_parameters(wizard)
    advance(qtbot, wizard)
    assert wizard.backend.available
    if not wizard.backend.messages:
        assert widget.messages_label.text() == NOTHING_TO_REPORT
    else:
        assert widget.messages_label.text() not in (NOT_ASKED, NOTHING_TO_REPORT)
