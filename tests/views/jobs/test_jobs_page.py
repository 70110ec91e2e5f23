"""Jobs page: the table model (qtmodeltester), live refresh from the store, detail, cancel, screenshot."""

from __future__ import annotations

import math
from pathlib import Path

from lora_studio.core.jobs import (
    Failed,
    Job,
    JobStatus,
    JobStore,
    Log,
    Loss,
    Progress,
    StatusChanged,
)
from lora_studio.viewmodels.jobs_vm import JobsViewModel, format_duration
from lora_studio.viewmodels.models.jobs_table_model import JOB_ID_ROLE
from lora_studio.views.pages.jobs_page import JobsPage


def add_running_job(store: JobStore, name: str = "hero-style", steps: int = 120) -> Job:
    job = store.add(Job(name=name, backend="comfyui", dataset_path="/data/hero"))
    events = [StatusChanged(JobStatus.RUNNING), Progress(0, steps)]
    for step in range(1, steps + 1):
        events.append(Progress(step, steps))
        events.append(Loss(step, 0.5 * math.exp(-step / 60) + 0.05 * ((step * 7919) % 13) / 13))
    events.append(Log("Training LoRA:  50%|█████     | 60/120 [00:30<00:30,  2.00it/s, loss=0.21]"))
    events.append(Log("saving checkpoint"))
    store.record_events(job.id, events)
    return store.get(job.id)


def test_table_model_passes_qtmodeltester(
    qtmodeltester, store: JobStore, executor, qtbot, qloop
) -> None:  # type: ignore[no-untyped-def]
    add_running_job(store)
    failed = store.add(Job(name="broken", backend="kohya", dataset_path="/d"))
    store.record_events(failed.id, [StatusChanged(JobStatus.RUNNING), Failed("CUDA out of memory")])
    vm = JobsViewModel(store, executor)
    with qtbot.waitSignal(vm.refreshed, timeout=3000):
        vm.refresh()  # read on the store's thread, never on the GUI thread
    assert vm.model.rowCount() == 2
    qtmodeltester.check(vm.model)
    statuses = {vm.model.index(r, 2).data() for r in range(2)}
    assert statuses == {"Running", "Failed"}


def test_live_refresh_selection_loss_and_logs(qtbot, qloop, store: JobStore, executor) -> None:  # type: ignore[no-untyped-def]
    job = add_running_job(store)
    vm = JobsViewModel(store, executor, refresh_interval_ms=50)
    page = JobsPage(vm)
    qtbot.addWidget(page)
    with qtbot.waitSignal(vm.refreshed, timeout=3000):
        vm.refresh()
    assert vm.model.rowCount() == 1
    with qtbot.waitSignal(vm.loss_changed, timeout=3000) as blocker:
        page.table.selectRow(0)
    steps, values = blocker.args
    assert steps[0] == 1 and steps[-1] == 120 and len(values) == 120
    assert "step 120 of 120" in vm.progress_text and "loss" in vm.progress_text
    assert vm.percent == 100
    assert "saving checkpoint" in page.logs_view.toPlainText()
    assert page.cancel_button.isEnabled()

    # The search box filters the logs.
    with qtbot.waitSignal(vm.logs_text_changed, timeout=3000):
        page.log_search.setText("Training LoRA")
    assert "saving checkpoint" not in page.logs_view.toPlainText()

    # A job finished elsewhere (e.g. by the CLI) shows up at the next automatic refresh.
    page.show()
    store.record_events(job.id, [Failed("ComfyUI at 127.0.0.1:8188 stopped answering")])
    qtbot.waitUntil(lambda: vm.model.index(0, 2).data() == "Failed", timeout=3000)
    qtbot.waitUntil(lambda: "stopped answering" in page.summary_label.text(), timeout=3000)
    assert not page.cancel_button.isEnabled()
    assert not page.open_folder_button.isEnabled()  # failed: nothing to open
    page.hide()


def test_finished_job_offers_its_folder_and_checkpoints(
    qtbot, qloop, store: JobStore, executor, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from lora_studio.core.jobs import Checkpoint, Finished

    job = add_running_job(store, steps=10)
    lora = tmp_path / "loras" / "hero.safetensors"
    store.record_events(
        job.id,
        [Checkpoint("http://127.0.0.1:8188/view?filename=a", step=5), Finished((str(lora),))],
    )
    vm = JobsViewModel(store, executor)
    page = JobsPage(vm)
    qtbot.addWidget(page)
    with qtbot.waitSignal(vm.output_folder_changed, timeout=3000):
        vm.select(job.id)
    assert vm.output_folder == str(lora.parent)
    assert page.open_folder_button.isEnabled()
    assert "1 checkpoint at steps 5" in page.summary_label.text()


def test_cancel_goes_through_the_handler(qtbot, qloop, store: JobStore, executor) -> None:  # type: ignore[no-untyped-def]
    job = add_running_job(store)
    asked: list[str] = []

    async def cancel(job_id: str) -> str:
        asked.append(job_id)
        return "The queued chunks were removed; the chunk already running finishes first."

    vm = JobsViewModel(store, executor, cancel_handler=cancel)
    with qtbot.waitSignal(vm.loss_changed, timeout=3000):
        vm.select(job.id)
    questions: list[str] = []
    vm.cancel_requested.connect(lambda job_id, text: questions.append(text))
    vm.cancel_selected()
    assert asked == []  # nothing happens before the artist confirms
    assert "ComfyUI cannot stop a training node that is already running" in questions[0]
    with qtbot.waitSignal(vm.cancel_finished, timeout=3000) as blocker:
        vm.confirm_cancel(job.id)
    assert asked == [job.id]
    assert "chunk" in blocker.args[0]
    assert vm.busy is False


def test_cancel_without_backend_explains(qtbot, qloop, store: JobStore, executor) -> None:  # type: ignore[no-untyped-def]
    job = add_running_job(store)
    vm = JobsViewModel(store, executor)
    with qtbot.waitSignal(vm.loss_changed, timeout=3000):
        vm.select(job.id)
    vm.cancel_selected()
    assert "not available" in vm.error


def test_jobs_page_screenshot(qtbot, qloop, store: JobStore, executor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_running_job(store, "ink-style", steps=400)
    add_running_job(store, "portrait", steps=50)
    vm = JobsViewModel(store, executor)
    page = JobsPage(vm)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    qtbot.waitUntil(lambda: vm.model.rowCount() == 2, timeout=3000)
    index = vm.model.index(1, 0)
    with qtbot.waitSignal(vm.loss_changed, timeout=3000):
        page.table.selectRow(1)
    assert vm.selected_job_id == index.data(JOB_ID_ROLE)
    page.loss_plot.flush()
    assert page.loss_plot.point_count() == 400
    target = tmp_path / "jobs.png"
    assert page.grab().save(str(target))
    from PIL import Image

    with Image.open(target) as image:
        assert (image.getcolors(maxcolors=100_000) or []).__len__() > 20
    page.hide()


def test_format_duration() -> None:
    assert format_duration(None) == "—"
    assert format_duration(65) == "1:05"
    assert format_duration(3725) == "1:02:05"
