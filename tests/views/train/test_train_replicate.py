"""The Train wizard choosing Replicate (it comes from the registry): check against the fake
Replicate API, Flux validation on that backend, a review with money, a started job that
completes with the LoRA downloaded — through the page's widgets, with screenshots."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from lora_studio.core.jobs import JobStatus
from lora_studio.core.training.service import TrainingService
from lora_studio.viewmodels.train.train_wizard_vm import STEP_BACKEND, STEP_REVIEW
from lora_studio.views.pages.train_page import TrainPage
from tests.fakes.fake_replicate import FakeReplicate
from tests.screenshots import shots_dir
from tests.viewmodels.train.train_helpers import (
    advance,
    fill_parameters,
    wait_idle,
    walk_to_parameters,
    write_dataset,
)

SHOTS = shots_dir("replicate")


@pytest.fixture
def replicate(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeReplicate]:
    with FakeReplicate(starting_s=0.3, steps_per_second=300.0) as server:
        server.add_model("alice/hero-lora")
        monkeypatch.setenv("REPLICATE_API_TOKEN", server.token)
        yield server


@pytest.fixture
def service(replicate: FakeReplicate, service_for) -> TrainingService:  # type: ignore[no-untyped-def]
    settings = {
        "kind": "replicate",
        "url": replicate.url,
        "destination": "alice/hero-lora",
        "poll_seconds": 0.05,
    }
    return service_for([settings])


def shoot(page: TrainPage, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert page.grab().save(str(SHOTS / f"{name}.png"))


def test_the_wizard_trains_on_replicate(
    replicate: FakeReplicate,
    service: TrainingService,
    wizard_for,
    shown_train_page,
    qtbot,
    tmp_path: Path,
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service)
    page = shown_train_page(wizard)
    # Chosen up front (as a returning Replicate user's draft would): the parameters step's quiet
    # check then asks Replicate, which has no checkpoint list to choose from.
    wizard.backend.select("replicate")
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "hero set", count=3))
    fill_parameters(
        wizard,
        "flux_dev",
        {"max_steps": "30", "trigger_word": "ohwx", "output_name": "hero"},
    )
    assert wizard.parameters.field_errors == {}
    advance(qtbot, wizard)
    assert wizard.step == STEP_BACKEND

    backend_step = page.steps[3]
    radio = backend_step.radios["replicate"]
    assert radio.isEnabled() and radio.text() == "Replicate (cloud)" and radio.isChecked()
    backend_step.radios["comfyui"].click()
    assert wizard.backend.kind == "comfyui"
    radio.click()
    assert wizard.backend.kind == "replicate"
    qtbot.mouseClick(backend_step.check_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, wizard)
    assert wizard.backend.available, wizard.backend.diagnosis
    assert "Replicate account alice" in backend_step.diagnosis_label.text()
    assert "alice/hero-lora" in backend_step.diagnosis_label.text()
    assert not wizard.backend.has_errors, wizard.backend.messages
    # The trainer fixes alpha = rank, and the flux preset already says so: no alpha warning.
    assert not any("alpha" in text for _, text in wizard.backend.messages)
    shoot(page, "wizard-4-backend-replicate")
    advance(qtbot, wizard)

    assert wizard.step == STEP_REVIEW
    review = page.steps[4]
    assert "$" in review.cost_label.text() or "USD" in review.cost_label.text()
    # "ohwx, portrait, colour 0" captions for a Flux LoRA: a warning, and Start stays possible.
    assert "3 of 3 captions are tag lists (“ohwx, portrait, colour 0”)" in (
        review.warnings_label.text()
    )
    assert page.start_button.isEnabled()
    assert review.command_box.isHidden()  # Replicate runs no command here
    shoot(page, "wizard-5-review-replicate")
    with qtbot.waitSignal(wizard.job_started, timeout=15_000) as started:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    job_id = started.args[0]
    qtbot.waitUntil(lambda: service.store.get(job_id).status is JobStatus.COMPLETED, timeout=30_000)
    job = service.store.get(job_id)
    assert job.backend == "replicate" and len(replicate.trainings) == 1
    assert Path(job.outputs[0]).is_file() and Path(job.outputs[0]).name.startswith("hero")
    assert job.cost == pytest.approx(30 * 1.5 * 0.001525, abs=1e-3)
    assert not replicate.host_auth_seen
    shutil.copy(SHOTS / "wizard-5-review-replicate.png", tmp_path / "review.png")


def test_wrong_family_is_an_error_on_replicate(
    replicate: FakeReplicate, service: TrainingService, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service)
    wizard.backend.select("replicate")
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "ds", count=2))
    fill_parameters(wizard, "sd15", {"base_model": "x.safetensors", "max_steps": "10"})
    advance(qtbot, wizard)
    wizard.backend.select("replicate")
    wizard.check_backend()
    wait_idle(qtbot, wizard)
    assert wizard.backend.available and wizard.backend.has_errors
    assert any(
        level == "error" and "flux_dev preset" in text for level, text in wizard.backend.messages
    )
    assert not wizard.can_advance and not replicate.trainings
