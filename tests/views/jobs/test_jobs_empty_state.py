"""The Jobs page with no job offers the next step (issue 11: "empty states on every page"): "No
trainings yet" with "Train a dataset…" over the table and no empty chart below; a status filter
that hides every job says so and offers to show all; the first job brings the table back."""

from __future__ import annotations

from pathlib import Path

from lora_studio.core.jobs import Job, JobStatus, JobStore, StatusChanged
from lora_studio.viewmodels.jobs_vm import JobsViewModel
from lora_studio.views.pages.jobs_page import JobsPage
from tests.screenshots import shots_dir


def test_no_job_offers_to_train_and_a_filter_offers_all(
    qtbot, qloop, store: JobStore, executor, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    vm = JobsViewModel(store, executor)
    page = JobsPage(vm)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    with qtbot.waitSignal(vm.refreshed, timeout=3000):
        vm.refresh()
    empty = page.empty_state
    assert empty.isVisible() and empty.title.text() == "No trainings yet"
    assert not page.detail.isVisible()  # no empty loss chart, no disabled Cancel/Retry row
    page.grab().save(str(shots_dir("jobs") / "jobs-empty.png"))
    with qtbot.waitSignal(page.train_requested, timeout=1000):
        empty.buttons[0].click()  # "Train a dataset…"

    job = store.add(Job(name="anna_sdxl_1", backend="comfyui", dataset_path="/data/anna"))
    store.record_events(job.id, [StatusChanged(JobStatus.RUNNING)])
    with qtbot.waitSignal(vm.refreshed, timeout=3000):
        vm.refresh()
    assert not empty.isVisible() and page.detail.isVisible()

    page.status_filter.setCurrentIndex(page.status_filter.findData("failed"))
    assert empty.isVisible() and empty.title.text() == "No failed jobs"
    assert empty.buttons[0].text() == "Show all jobs"
    empty.buttons[0].click()
    assert page.status_filter.currentIndex() == 0 and vm.status_filter == ""
    assert not empty.isVisible() and vm.model.rowCount() == 1
