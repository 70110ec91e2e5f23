"""The Train wizard's view-models against a real TrainingService and the fake ComfyUI server:
every step in order, validation errors, a dead server, missing captions, a refused start, and a
started job that completes in the store."""

from __future__ import annotations

from pathlib import Path

from lora_studio.core.jobs import JobStatus
from lora_studio.viewmodels.train.train_wizard_vm import (
    STEP_BACKEND,
    STEP_CAPTIONS,
    STEP_DATASET,
    STEP_PARAMETERS,
    STEP_REVIEW,
)
from tests.fakes.fake_comfyui import CHECKPOINTS, FakeComfyUI
from tests.viewmodels.train.train_helpers import (
    DEAD_URL,
    QUICK_RUN,
    advance,
    fill_parameters,
    wait_idle,
    walk_to_parameters,
    write_dataset,
)


def test_every_step_in_order_then_a_job_that_completes(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    service = service_for(fake.url)
    wizard, bridge = wizard_for(service)
    folder = write_dataset(tmp_path / "hero set", count=4, broken=1)
    assert not wizard.can_advance and "dataset folder" in wizard.advance_hint

    # 1. Dataset: counts, folders and repeats, the picture the trainer leaves out.
    wizard.set_dataset_folder(str(folder))
    wait_idle(qtbot, wizard)
    assert wizard.dataset.image_count == 4
    assert "hero set: 4 images × " in wizard.dataset.folders_text
    assert wizard.dataset.skipped_text.startswith(
        "1 of 5 pictures cannot be decoded and is left out: broken 0.jpg."
    )
    advance(qtbot, wizard)

    # 2. Captions check: every picture has a caption; the unreadable file is a doctor error.
    assert wizard.step == STEP_CAPTIONS
    assert wizard.dataset.caption_callout == ""
    assert wizard.dataset.needs_acknowledgement and not wizard.can_advance
    wizard.dataset.set_acknowledged(True)
    advance(qtbot, wizard)

    # 3. Parameters: the quiet backend check filled the base-model list.
    assert wizard.step == STEP_PARAMETERS
    qtbot.waitUntil(lambda: wizard.parameters.checkpoints == CHECKPOINTS, timeout=10_000)
    # Named <dataset>_<preset>; the review adds the run number (one rule with the CLI).
    assert wizard.parameters.values["output_name"] == "hero_set_sdxl"
    assert not wizard.can_advance and "red" in wizard.advance_hint  # no base model yet
    fill_parameters(wizard)
    assert wizard.parameters.field_errors == {}
    assert wizard.parameters.estimate_text.startswith("6 steps (limited by max steps)")
    advance(qtbot, wizard)

    # 4. Backend: checked and validated on entering; the sd15 preset's cosine schedule is a
    #    warning on ComfyUI, not an error.
    assert wizard.step == STEP_BACKEND
    backend = wizard.backend
    assert backend.available and "Ready" in backend.diagnosis
    assert "RTX 4090" in backend.gpu_text and backend.vram_gb > 20
    assert not backend.has_errors
    assert any(
        text.startswith("LR scheduler: ") for level, text in backend.messages if level == "warning"
    )
    advance(qtbot, wizard)

    # 5. Review: steps, VRAM with a verdict against the 24 GB card, duration, warnings.
    assert wizard.step == STEP_REVIEW and not wizard.can_advance
    review = wizard.review
    assert review.steps_text.startswith("6 steps (stops at max steps) on 4 images")
    assert review.vram_text.startswith("about ") and review.verdict_level == "fits"
    assert "RTX 4090" in review.verdict_text
    assert review.duration_text.startswith("about ")
    assert "as the backend reported" in review.duration_text  # its GPU, not a guess
    assert review.cost_text == "Nothing to pay per run."
    assert any(w.startswith("Captions check: 1 problem ") for _, w in review.warnings)
    assert any("is left out: broken 0.jpg" in w for _, w in review.warnings)
    assert review.can_start

    with qtbot.waitSignal(wizard.job_started, timeout=15_000) as started:
        wizard.start()
    job_id = started.args[0]
    assert review.started_job_id == job_id and not review.can_start
    assert bridge.history[-1].text == "Job hero started — follow it on the Jobs page."
    wizard.start()  # a second click does not submit the same training again
    assert "already started" in review.error and len(service.store.list()) == 1
    qtbot.waitUntil(lambda: service.store.get(job_id).status is JobStatus.COMPLETED, timeout=30_000)
    job = service.store.get(job_id)
    assert job.preset == "sd15" and job.dataset_fingerprint and job.config["max_steps"] == 6
    assert Path(job.outputs[0]).name == "hero.safetensors"


def test_refused_values_mark_only_their_field(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(fake.url))
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "ds"))
    fill_parameters(wizard)
    parameters = wizard.parameters

    parameters.set_field("rank", "500")
    parameters.set_field("learning_rate", "fast")
    parameters.set_field("trigger_word", "zkw")  # valid: applies despite the others
    assert set(parameters.field_errors) == {"rank", "learning_rate"}
    assert (
        "at most 128" in parameters.field_errors["rank"] or "128" in parameters.field_errors["rank"]
    )
    assert parameters.values["rank"] == "500"  # kept as typed, to be corrected
    assert parameters.config.trigger_word == "zkw"
    assert not wizard.can_advance and wizard.advance_hint == "Fix the settings marked in red."

    parameters.set_field("rank", "16")
    parameters.set_field("learning_rate", "2e-4")
    assert parameters.field_errors == {} and wizard.can_advance
    assert parameters.config.rank == 16 and parameters.config.learning_rate == 2e-4

    # Another preset brings its own rank, but keeps this training's model, trigger and name.
    parameters.select_preset("fast")
    assert parameters.config.rank == 8
    assert parameters.config.trigger_word == "zkw" and parameters.config.output_name == "hero"
    assert parameters.config.base_model == CHECKPOINTS[0]


def test_a_dead_server_is_diagnosed_and_blocks_the_backend_step(
    service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(DEAD_URL))
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "ds"))
    assert wizard.parameters.checkpoints == []  # nothing to offer: the field stays free text
    fill_parameters(wizard)
    advance(qtbot, wizard)
    assert wizard.step == STEP_BACKEND
    assert wizard.backend.diagnosis == "ComfyUI at 127.0.0.1:9 is not answering — is it running?"
    assert not wizard.backend.available and not wizard.can_advance
    assert "not available" in wizard.advance_hint

    # Every registered kind can be chosen; switching forgets the other backend's answer.
    wizard.backend.select("replicate")
    assert wizard.backend.kind == "replicate"
    assert wizard.backend.diagnosis == "Not checked yet." and not wizard.backend.available


def test_missing_captions_are_called_out_and_refused_until_written(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(fake.url))
    folder = write_dataset(tmp_path / "ds", count=4, uncaptioned=(1, 3))
    wizard.set_dataset_folder(str(folder))
    wait_idle(qtbot, wizard)
    advance(qtbot, wizard)
    dataset = wizard.dataset
    assert dataset.caption_callout.startswith("2 of the 4 images have no caption.")
    assert ["Missing caption", "warning", 2] in dataset.findings_counts
    assert any("img 1.png has no caption" in text for text in dataset.findings_examples)
    assert not wizard.can_advance and "Continue anyway" in wizard.advance_hint
    dataset.set_acknowledged(True)
    advance(qtbot, wizard)
    fill_parameters(wizard)
    advance(qtbot, wizard)
    assert wizard.backend.has_errors and not wizard.can_advance
    assert any(
        level == "error" and "2 images have no caption" in text
        for level, text in wizard.backend.messages
    )

    # Write the captions, go back and re-check: the new dataset is validated again on return.
    for i in (1, 3):
        (folder / f"img {i}.txt").write_text("ohwx, portrait", encoding="utf-8")
    wizard.back()
    wizard.back()
    assert wizard.step == STEP_CAPTIONS
    dataset.recheck()
    wait_idle(qtbot, wizard)
    assert dataset.caption_callout == "" and not dataset.needs_acknowledgement
    advance(qtbot, wizard)
    advance(qtbot, wizard)
    assert wizard.step == STEP_BACKEND and not wizard.backend.has_errors and wizard.can_advance


def test_a_refused_start_shows_the_reason_and_allows_another_try(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, bridge = wizard_for(service_for(fake.url))
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "ds"))
    fill_parameters(wizard)
    advance(qtbot, wizard)
    advance(qtbot, wizard)
    fake.faults.reject_inputs = {("TrainLoraNode", "learning_rate"): "too spicy"}
    started: list[str] = []
    wizard.job_started.connect(started.append)
    wizard.start()
    wait_idle(qtbot, wizard)
    assert wizard.review.error and "too spicy" in wizard.review.error
    assert started == [] and wizard.review.can_start
    assert not any("started" in notice.text for notice in bridge.history)


def test_another_folder_from_the_dataset_page_restarts_the_wizard(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(fake.url))
    first = write_dataset(tmp_path / "first")
    walk_to_parameters(qtbot, wizard, first)
    wizard.set_dataset_folder(str(first))  # the same folder again: nothing changes
    assert wizard.step == STEP_PARAMETERS
    wizard.set_dataset_folder(str(write_dataset(tmp_path / "second", count=2)))
    assert wizard.step == STEP_DATASET
    wait_idle(qtbot, wizard)
    assert wizard.dataset.image_count == 2 and wizard.can_advance


def test_a_folder_without_pictures_is_an_error_not_a_dataset(
    service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(DEAD_URL))
    empty = tmp_path / "empty"
    empty.mkdir()
    wizard.set_dataset_folder(str(empty))
    wait_idle(qtbot, wizard)
    assert "has no readable images" in wizard.dataset.error
    assert not wizard.can_advance
    wizard.set_dataset_folder(str(tmp_path / "missing"))
    wait_idle(qtbot, wizard)
    assert "does not exist" in wizard.dataset.error


def test_shared_dataset_trigger_word_run_names_and_the_servers_checkpoints(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The wizard follows the Dataset page (no stale scan), takes its trigger word, checks the
    base model against the server's list, and names an unnamed run <dataset>_<preset>_<n>."""
    from lora_studio.core.jobs import Job

    service = service_for(fake.url)
    wizard, _bridge = wizard_for(service)
    folder = tmp_path / "anna"
    folder.mkdir()
    wizard.set_dataset_folder(str(folder))  # empty, as before an import
    wait_idle(qtbot, wizard)
    assert "no readable images yet" in wizard.dataset.error
    assert "lora-studio" not in wizard.dataset.error  # no terminal command for a GUI user
    write_dataset(folder, count=3)  # the Dataset page imported pictures…
    wizard.follow_dataset_page(str(folder))  # …and said so
    wait_idle(qtbot, wizard)
    assert wizard.dataset.image_count == 3 and wizard.can_advance

    wizard.parameters.suggest_trigger_word("annaxyz")
    walk_to_parameters(qtbot, wizard, folder)
    qtbot.waitUntil(lambda: wizard.parameters.checkpoints == CHECKPOINTS, timeout=10_000)
    assert wizard.parameters.values["trigger_word"] == "annaxyz"
    wizard.parameters.select_preset("sd15")
    wizard.parameters.set_field("base_model", "256")
    assert "no checkpoint “256”" in wizard.parameters.issues_text
    values = {k: v for k, v in QUICK_RUN.items() if k not in ("output_name", "trigger_word")}
    fill_parameters(wizard, values=values)
    assert wizard.parameters.field_errors == {}
    assert wizard.parameters.values["output_name"] == "anna_sd15"
    service.store.add(Job(name="anna_sd15_1", backend="comfyui", dataset_path=str(folder)))
    advance(qtbot, wizard)
    advance(qtbot, wizard)
    wait_idle(qtbot, wizard)
    assert wizard.review.summary_text.startswith("anna_sd15_2 · ")
