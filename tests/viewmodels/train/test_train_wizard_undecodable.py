"""The Train wizard and a dataset holding a truncated JPEG and a PNG with a damaged IDAT (headers
fine, pixels not): image count, captions check, steps, review warnings and the upload all leave
them out, and the wizard says which ones and what to do — while the decode check shows progress."""

from __future__ import annotations

from pathlib import Path

from lora_studio.core.jobs import JobStatus
from lora_studio.viewmodels.train.train_wizard_vm import STEP_REVIEW
from tests.dataset_fixtures import damage_png_idat, truncate_to_half, write_picture
from tests.fakes.fake_comfyui import FakeComfyUI
from tests.viewmodels.train.train_helpers import (
    advance,
    fill_parameters,
    wait_idle,
    write_dataset,
)

NOTICE = "2 of 6 pictures cannot be decoded and are left out: bad.png, cut.jpg."


def damaged_dataset(folder: Path) -> Path:
    write_dataset(folder, count=4)
    truncate_to_half(write_picture(folder / "cut.jpg", 7, (640, 480), caption="ohwx, cut"))
    damage_png_idat(write_picture(folder / "bad.png", 8, (640, 480), caption="ohwx, bad"))
    return folder


def test_the_wizard_leaves_undecodable_pictures_out_everywhere(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    service = service_for(fake.url)
    wizard, _ = wizard_for(service)
    folder = damaged_dataset(tmp_path / "hero set")
    shown: list[str] = []
    wizard.dataset.progress_text_changed.connect(shown.append)

    wizard.set_dataset_folder(str(folder))
    wait_idle(qtbot, wizard)
    dataset = wizard.dataset
    assert dataset.image_count == 4
    assert "hero set: 4 images × " in dataset.folders_text
    assert dataset.skipped_text.startswith(NOTICE)
    assert "Dataset page" in dataset.skipped_text and "lora-studio" not in dataset.skipped_text
    assert "cut.jpg is truncated" in dataset.skipped_text
    # Progress while the pictures were decoded (never seen before), cleared when done.
    assert any(text.startswith("Checking that the pictures decode… ") for text in shown)
    assert "of 6" in " ".join(shown) and dataset.progress_text == ""

    # Captions check: the doctor's words for them, as errors to acknowledge.
    advance(qtbot, wizard)
    labels = {label: count for label, _severity, count in dataset.findings_counts}
    assert labels.get("Truncated") == 1 and labels.get("Damaged") == 1
    assert dataset.needs_acknowledgement
    dataset.set_acknowledged(True)
    advance(qtbot, wizard)
    fill_parameters(wizard)
    advance(qtbot, wizard)
    advance(qtbot, wizard)

    assert wizard.step == STEP_REVIEW
    review = wizard.review
    assert review.steps_text.startswith("6 steps (stops at max steps) on 4 images")
    assert any(text.startswith(NOTICE) for _, text in review.warnings)
    with qtbot.waitSignal(wizard.job_started, timeout=15_000) as started:
        wizard.start()
    job_id = started.args[0]
    qtbot.waitUntil(lambda: service.store.get(job_id).status is JobStatus.COMPLETED, timeout=30_000)
    uploaded = [p for p in fake.input_dir.rglob("*") if p.suffix.lower() in (".png", ".jpg")]
    assert len(uploaded) == 4  # the engine never received them


def test_a_second_read_decodes_nothing_again(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The verdicts are kept in the dataset's sidecar: Re-check (and the review's re-read) does
    not decode the pictures again, so it shows no decode progress."""
    wizard, _ = wizard_for(service_for(fake.url))
    folder = damaged_dataset(tmp_path / "set")
    wizard.set_dataset_folder(str(folder))
    wait_idle(qtbot, wizard)
    shown: list[str] = []
    wizard.dataset.progress_text_changed.connect(shown.append)
    wizard.dataset.recheck()
    wait_idle(qtbot, wizard)
    assert wizard.dataset.image_count == 4 and wizard.dataset.skipped_text.startswith(NOTICE)
    assert not any(text.startswith("Checking that the pictures decode") for text in shown)


def test_choosing_another_folder_stops_the_decode_check_of_the_first(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(fake.url))
    first = damaged_dataset(tmp_path / "first")
    second = write_dataset(tmp_path / "second", count=3)
    wizard.set_dataset_folder(str(first))
    token = wizard.dataset._cancel
    wizard.set_dataset_folder(str(second))
    assert token is not None and token.cancelled  # no decoding for a folder nobody looks at
    wait_idle(qtbot, wizard)
    assert wizard.dataset.image_count == 3 and wizard.dataset.skipped_text == ""
    assert wizard.dataset.error == ""
