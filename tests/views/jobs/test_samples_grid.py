"""The Jobs page's sample grid (reference row first, prompts as columns, loss per checkpoint)
and "use this checkpoint" through the real TrainingService (verified, stamped, old file kept)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt

from lora_studio.core.jobs import (
    Checkpoint,
    Finished,
    Job,
    JobStatus,
    JobStore,
    Loss,
    Progress,
    Sample,
)
from lora_studio.core.jobs.events import StatusChanged
from lora_studio.core.training.service import TrainingService
from lora_studio.core.weights import read_metadata
from lora_studio.viewmodels.jobs_vm import JobsViewModel
from lora_studio.views.pages.jobs_page import JobsPage
from tests.views.jobs.test_jobs_live import _write_tiny_lora


def finished_job_with_samples(store: JobStore, tmp_path: Path) -> Job:
    out = tmp_path / "loras"
    samples = out / "ink_samples"
    samples.mkdir(parents=True)
    final = out / "ink.safetensors"
    _write_tiny_lora(final)
    checkpoint = out / "ink-step000010.safetensors"
    _write_tiny_lora(checkpoint)
    config = {"output_name": "ink", "base_model": "sd15.safetensors", "resolution": 512}
    job = store.add(Job(name="ink", backend="kohya", dataset_path=str(tmp_path), config=config))
    events: list = [StatusChanged(JobStatus.RUNNING)]
    events += [Loss(step, 1.0 / step) for step in range(1, 21)] + [Progress(20, 20)]
    events.append(Checkpoint(str(checkpoint), step=10))
    for step, with_lora in ((0, False), (10, True), (20, True)):
        for index, prompt in enumerate(("ink portrait", "ink city"), start=1):
            name = (
                f"step{step:06d}_p{index:02d}.png" if with_lora else f"reference_p{index:02d}.png"
            )
            Image.new("RGB", (64, 64), (step * 10, 40 * index, 90)).save(samples / name)
            events.append(Sample(step, prompt, str(samples / name), with_lora))
    events.append(Finished((str(final),)))
    store.record_events(job.id, events)
    return store.get(job.id)


def test_grid_rows_columns_and_promote(
    qtbot, qloop, qtmodeltester, store: JobStore, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    job = finished_job_with_samples(store, tmp_path)
    service = TrainingService(store, tmp_path / "loras", backend_factory=lambda _s: object())  # type: ignore[arg-type, return-value]
    vm = JobsViewModel(store, promote_handler=service.promote_checkpoint)
    page = JobsPage(vm)
    qtbot.addWidget(page)
    page.resize(1100, 800)
    with qtbot.waitSignal(vm.samples_changed, timeout=5000, check_params_cb=lambda n: n > 0):
        vm.select(job.id)
    model = vm.samples_model
    qtmodeltester.check(model)
    assert (model.rowCount(), model.columnCount()) == (3, 2)
    assert model.headerData(0, Qt.Orientation.Vertical) == "No LoRA (reference)"
    assert model.headerData(1, Qt.Orientation.Vertical) == "Step 10 · loss 0.1000"
    assert model.headerData(0, Qt.Orientation.Horizontal) == "ink portrait"
    assert not model.index(1, 0).data(Qt.ItemDataRole.DecorationRole).isNull()
    page.tabs.setCurrentWidget(page.samples_grid)
    page.show()
    assert page.samples_grid.table.isVisible()

    # "Use this checkpoint" on step 10: asked first, then done; the old final is kept.
    page.samples_grid.table.selectRow(1)
    assert page.samples_grid.use_button.isEnabled()
    with qtbot.waitSignal(vm.promote_requested, timeout=1000) as asked:
        page.samples_grid.use_button.click()
    assert "kept beside it" in asked.args[2]
    # Answer the confirmation the way the dialog's accept button does.
    with qtbot.waitSignal(vm.promote_finished, timeout=5000) as done:
        vm.confirm_promote(job.id, 10)
    assert "step 10" in done.args[0]
    final = tmp_path / "loras" / "ink.safetensors"
    kept = tmp_path / "loras" / "ink_step20.safetensors"
    assert kept.exists() and final.exists()
    assert read_metadata(final).get("ss_steps") == "10"
    page.hide()


def test_a_job_without_samples_says_how_to_get_them(qtbot, qloop, store: JobStore) -> None:  # type: ignore[no-untyped-def]
    job = store.add(Job(name="plain", backend="comfyui", dataset_path="/d"))
    vm = JobsViewModel(store)
    page = JobsPage(vm)
    qtbot.addWidget(page)
    with qtbot.waitSignal(vm.summary_changed, timeout=3000):
        vm.select(job.id)
    assert "sample prompts" in page.samples_grid.empty_label.text()
    assert not page.samples_grid.use_button.isVisible()
