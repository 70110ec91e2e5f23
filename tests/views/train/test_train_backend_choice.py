"""The Train wizard with two configured backends of one kind: both are offered by name, the
check and the training go to the one chosen (here the first kohya install is broken, the second
runs the fake `train_network.py`), with a screenshot of the choice."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from lora_studio.core.jobs import JobStatus
from lora_studio.core.training.service import TrainingService
from lora_studio.viewmodels.train.train_wizard_vm import STEP_BACKEND, STEP_REVIEW
from tests.fakes.tiny_checkpoint import write_checkpoint
from tests.screenshots import shots_dir
from tests.viewmodels.train.train_helpers import (
    advance,
    fake_kohya_install,
    fill_parameters,
    wait_idle,
    walk_to_parameters,
    write_dataset,
)

SHOTS = shots_dir("seam-finish")


@pytest.fixture
def service(service_for, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrainingService:  # type: ignore[no-untyped-def]
    broken = {"kind": "kohya", "sd_scripts": str(tmp_path / "no such folder")}
    return service_for([broken, fake_kohya_install(tmp_path, monkeypatch, name="cpu-box")])


def test_the_wizard_trains_on_the_chosen_one_of_two_backends(
    service: TrainingService, wizard_for, shown_train_page, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    model = write_checkpoint(tmp_path / "sd15.safetensors")
    wizard, _ = wizard_for(service)
    page = shown_train_page(wizard)
    backend_step = page.steps[3]
    assert not backend_step.name_combo.isVisibleTo(page)  # one ComfyUI server: no choice
    wizard.backend.select("kohya")
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "hero set", count=3))
    fill_parameters(
        wizard,
        "sd15",
        {"base_model": str(model), "max_steps": "6", "trigger_word": "ohwx", "output_name": "hero"},
    )
    advance(qtbot, wizard)
    assert wizard.step == STEP_BACKEND

    combo = backend_step.name_combo
    assert combo.isVisibleTo(page)
    assert [combo.itemText(i) for i in range(combo.count())] == ["kohya", "cpu-box"]
    qtbot.mouseClick(backend_step.check_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, wizard)
    assert not wizard.backend.available  # the first install does not exist
    assert "no such folder" in wizard.backend.diagnosis

    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    assert wizard.backend.backend_name == "cpu-box"
    assert wizard.backend.diagnosis == "Not checked yet."
    qtbot.mouseClick(backend_step.check_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, wizard)
    assert wizard.backend.available, wizard.backend.diagnosis
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.grab().save(str(SHOTS / "wizard-backend-two-kohya.png"))
    advance(qtbot, wizard)
    assert wizard.step == STEP_REVIEW

    with qtbot.waitSignal(wizard.job_started, timeout=15_000) as started:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    job_id = started.args[0]
    qtbot.waitUntil(lambda: service.store.get(job_id).status.is_terminal, timeout=60_000)
    job = service.store.get(job_id)
    assert job.status is JobStatus.COMPLETED, job.error
    assert Path(job.backend_state["run_dir"]).parent == tmp_path / "runs"
