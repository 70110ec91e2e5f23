"""The Train wizard choosing kohya sd-scripts (it comes from the registry): the check probes the
trainer's Python, the review shows no cost, Start runs the fake `train_network.py` (replaying a
real sd-scripts run) and the LoRA lands — through the page's widgets, with screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from lora_studio.core.jobs import JobStatus
from lora_studio.core.training.service import TrainingService
from lora_studio.viewmodels.train.train_wizard_vm import STEP_BACKEND, STEP_REVIEW
from lora_studio.views.pages.train_page import TrainPage
from tests.fakes.tiny_checkpoint import write_checkpoint
from tests.screenshots import shots_dir
from tests.viewmodels.train.train_helpers import (
    FAKE_KOHYA,
    advance,
    fake_kohya_install,
    fill_parameters,
    wait_idle,
    walk_to_parameters,
    write_dataset,
)

SHOTS = shots_dir("seam-kohya")


@pytest.fixture
def service(service_for, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrainingService:  # type: ignore[no-untyped-def]
    return service_for([fake_kohya_install(tmp_path, monkeypatch)])


def shoot(page: TrainPage, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert page.grab().save(str(SHOTS / f"{name}.png"))


def test_the_wizard_trains_with_kohya(
    service: TrainingService, wizard_for, shown_train_page, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    model = write_checkpoint(tmp_path / "sd15.safetensors")
    wizard, _ = wizard_for(service)
    page = shown_train_page(wizard)
    wizard.backend.select("kohya")
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "hero set", count=3))
    fill_parameters(
        wizard,
        "sd15",
        {
            "base_model": str(model),
            "max_steps": "6",
            "trigger_word": "ohwx",
            "output_name": "hero",
        },
    )
    assert wizard.parameters.field_errors == {}
    advance(qtbot, wizard)
    assert wizard.step == STEP_BACKEND

    backend_step = page.steps[3]
    radio = backend_step.radios["kohya"]
    assert radio.isEnabled() and radio.isChecked() and "kohya" in radio.text()
    qtbot.mouseClick(backend_step.check_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, wizard)
    assert wizard.backend.available, wizard.backend.diagnosis
    assert "kohya sd-scripts is ready on the CPU" in backend_step.diagnosis_label.text()
    assert any("No CUDA GPU" in text for _, text in wizard.backend.messages)
    assert backend_step.gpu_label.text() == "None: it trains on the CPU."
    assert not wizard.backend.has_errors, wizard.backend.messages
    shoot(page, "wizard-4-backend-kohya")
    advance(qtbot, wizard)

    assert wizard.step == STEP_REVIEW
    review = page.steps[4]
    qtbot.waitUntil(lambda: review.command_box.isVisible(), timeout=10_000)
    # The check said "no GPU": the review says so, instead of "no verdict" on GPU memory.
    assert review.verdict_label.text().startswith("No GPU: it trains on the CPU")
    command = review.command_view.toPlainText()
    assert command.startswith(f"cd {FAKE_KOHYA}\n")
    assert f"--pretrained_model_name_or_path {model}" in command
    assert "--output_name hero" in command and "'<run folder>/dataset.toml'" in command
    # The SD 1.5 preset's fp16 cannot run on this CPU: the command shows what will run instead.
    assert "--mixed_precision no" in command
    assert any("This run uses full precision" in text for _, text in wizard.review.warnings)
    qtbot.mouseClick(review.copy_command_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == command
    shoot(page, "wizard-5-review-kohya")
    with qtbot.waitSignal(wizard.job_started, timeout=15_000) as started:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    job_id = started.args[0]
    qtbot.waitUntil(lambda: service.store.get(job_id).status.is_terminal, timeout=60_000)
    job = service.store.get(job_id)
    assert job.status is JobStatus.COMPLETED, job.error
    assert job.backend == "kohya" and job.cost is None
    assert Path(job.outputs[0]).is_file() and Path(job.outputs[0]).name == "hero.safetensors"
    assert service.store.loss_series(job_id)


def test_a_checkpoint_of_another_model_stops_the_wizard_at_the_backend_check(
    service: TrainingService, wizard_for, shown_train_page, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    model = write_checkpoint(tmp_path / "juggernaut_xl.safetensors", base="sdxl")
    wizard, _ = wizard_for(service)
    page = shown_train_page(wizard)
    wizard.backend.select("kohya")
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "hero set", count=3))
    fill_parameters(wizard, "sd15", {"base_model": str(model), "output_name": "hero"})
    advance(qtbot, wizard)
    assert wizard.step == STEP_BACKEND
    backend_step = page.steps[3]
    qtbot.mouseClick(backend_step.check_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, wizard)
    assert wizard.backend.has_errors
    errors = [text for severity, text in wizard.backend.messages if severity == "error"]
    assert any(
        "juggernaut_xl.safetensors is an SDXL checkpoint" in text
        and "Choose an SD 1.5 checkpoint, or a preset for SDXL." in text
        for text in errors
    ), wizard.backend.messages
    shoot(page, "wizard-4-backend-kohya-wrong-checkpoint")
    assert not wizard.can_advance
