"""Jobs page, live: events pushed by the training service reach the page without any store
polling; progress figures, the bar's busy state, Lost wording, the actions and the loss chart."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lora_studio.core.jobs import (
    Finished,
    Job,
    JobEvent,
    JobStatus,
    JobStore,
    Log,
    Loss,
    Progress,
    StatusChanged,
)
from lora_studio.viewmodels.jobs_vm import JobsViewModel
from lora_studio.views.pages.jobs_page import JobsPage
from lora_studio.views.widgets.loss_plot import LossPlot, StepAxis, ema


class FakeEvents:
    """What TrainingService offers the monitor: subscribe + is_following."""

    def __init__(self) -> None:
        self.listeners: list[Callable[[str, JobEvent], None]] = []
        self.following: set[str] = set()

    def subscribe(self, listener: Callable[[str, JobEvent], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def is_following(self, job_id: str) -> bool:
        return job_id in self.following

    def send(self, job_id: str, *events: JobEvent) -> None:
        for event in events:
            for listener in list(self.listeners):
                listener(job_id, event)


def running_job(store: JobStore, name: str = "ink", total: int | None = 200) -> Job:
    job = store.add(Job(name=name, backend="comfyui", dataset_path="/data/ink"))
    events: list[JobEvent] = [StatusChanged(JobStatus.RUNNING)]
    if total is not None:
        events.append(Progress(10, total))
        events += [Loss(step, 1.0 / step) for step in range(1, 11)]
    store.record_events(job.id, events)
    return store.get(job.id)


def make_page(
    qtbot, store: JobStore, events: FakeEvents, **kwargs
) -> tuple[JobsViewModel, JobsPage]:  # type: ignore[no-untyped-def]
    vm = JobsViewModel(
        store, refresh_interval_ms=60_000, frame_interval_ms=20, events=events, **kwargs
    )
    page = JobsPage(vm)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    return vm, page


def test_pushed_events_reach_the_page_without_polling(qtbot, qloop, store: JobStore) -> None:  # type: ignore[no-untyped-def]
    job = running_job(store)
    events = FakeEvents()
    events.following.add(job.id)
    vm, page = make_page(qtbot, store, events)
    page.show()
    qtbot.waitUntil(lambda: vm.model.rowCount() == 1, timeout=3000)
    with qtbot.waitSignal(vm.loss_changed, timeout=3000):
        vm.select(job.id)
    reads: list[str] = []
    original_list = store.list
    store.list = lambda *a, **k: reads.append("list") or original_list(*a, **k)  # type: ignore[method-assign]

    # ComfyUI's own figures: 22 s per step, 189 steps × 22 s = 69:18 left.
    with qtbot.waitSignal(vm.loss_appended, timeout=3000) as appended:
        events.send(job.id, Progress(11, 200, rate=1 / 22, eta=189 * 22), Loss(11, 0.25))
        events.send(job.id, Log("Training LoRA:   6%| 11/200 [04:02<69:18, 22.00s/it]"))
    assert appended.args == [[11], [0.25]]
    qtbot.waitUntil(lambda: "11/200" in page.logs_view.toPlainText(), timeout=3000)
    assert "step 11 of 200" in vm.progress_text
    assert "22.0 s/step" in vm.progress_text
    assert "1:09:1" in vm.progress_text  # 1:09:18, counting down
    assert vm.model.index(0, 3).data() == "11/200 (6%)"
    assert page.loss_plot.point_count() == 11
    assert reads == []  # nothing was read from the store for any of it

    # The job is cancelled: the bar stops, the record is re-read once, the desktop is told.
    store.record_events(job.id, [StatusChanged(JobStatus.CANCELLED, "Stopped between chunks")])
    events.following.discard(job.id)
    with qtbot.waitSignal(vm.job_ended, timeout=3000) as ended:
        events.send(job.id, StatusChanged(JobStatus.CANCELLED, "Stopped between chunks"))
    assert ended.args[0] == "ink was cancelled"
    qtbot.waitUntil(lambda: vm.model.index(0, 2).data() == "Cancelled", timeout=3000)
    assert page.progress_bar.maximum() == 100  # no busy animation after a cancel
    assert not page.cancel_button.isEnabled()
    assert page.notifier.shown and page.notifier.shown[-1][0] == "ink was cancelled"
    page.hide()


def test_busy_bar_only_for_a_running_job_of_unknown_length(qtbot, qloop, store: JobStore) -> None:  # type: ignore[no-untyped-def]
    job = running_job(store, total=None)
    vm, page = make_page(qtbot, store, FakeEvents())
    assert page.progress_bar.maximum() == 100  # nothing selected: no busy animation
    with qtbot.waitSignal(vm.percent_changed, timeout=3000):
        vm.select(job.id)
    assert page.progress_bar.maximum() == 0  # running, length unknown: busy
    with qtbot.waitSignal(vm.percent_changed, timeout=3000):
        vm.select("")
    assert page.progress_bar.maximum() == 100


def test_a_lost_job_says_what_happened_and_what_to_do(qtbot, qloop, store: JobStore) -> None:  # type: ignore[no-untyped-def]
    job = running_job(store)
    store.record_events(
        job.id,
        [StatusChanged(JobStatus.LOST, "ComfyUI at 127.0.0.1:8188 no longer knows this training")],
    )
    vm, page = make_page(qtbot, store, FakeEvents())
    with qtbot.waitSignal(vm.summary_changed, timeout=3000):
        vm.select(job.id)
    assert "server restarted" in vm.summary and "Use Retry" in vm.summary
    assert "no longer knows this training" in vm.summary
    assert not page.cancel_button.isEnabled()


def test_status_filter_duration_and_cost(qtbot, qloop, qtmodeltester, store: JobStore) -> None:  # type: ignore[no-untyped-def]
    running_job(store, "a")
    done = running_job(store, "b")
    store.record_events(done.id, [Finished(("/tmp/b.safetensors",))])
    vm, _page = make_page(qtbot, store, FakeEvents())
    with qtbot.waitSignal(vm.refreshed, timeout=3000):
        vm.refresh()
    assert vm.model.rowCount() == 2
    vm.set_status_filter("completed")
    assert vm.model.rowCount() == 1 and vm.model.index(0, 0).data() == "b"
    assert vm.model.headerData(5, Qt.Orientation.Horizontal) == "Duration"
    assert ":" in vm.model.index(0, 5).data()  # 0:00-style duration
    vm.set_status_filter("")
    qtmodeltester.check(vm.model)
    vm.model.update_progress(vm.model.index(0, 0).data(256 + 1), 5, 10)
    qtmodeltester.check(vm.model)


def test_retry_duplicate_delete_and_inspect(qtbot, qloop, store: JobStore, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lora = tmp_path / "ink.safetensors"
    _write_tiny_lora(lora)
    job = running_job(store)
    store.record_events(job.id, [Finished((str(lora),))])
    retried: list[str] = []

    async def retry(job_id: str) -> str:
        retried.append(job_id)
        return store.add(Job(name="ink", backend="comfyui", dataset_path="/data/ink")).id

    events = FakeEvents()
    vm, page = make_page(qtbot, store, events, retry_handler=retry)
    with qtbot.waitSignal(vm.loss_changed, timeout=3000):
        vm.select(job.id)
    assert page.retry_button.isEnabled() and page.inspect_button.isEnabled()

    with qtbot.waitSignal(vm.edit_requested, timeout=1000) as edit:
        page.duplicate_button.click()
    assert edit.args[0] == "/data/ink"

    with qtbot.waitSignal(vm.inspect_ready, timeout=3000) as inspected:
        page.inspect_button.click()
    assert inspected.args[0] == "ink.safetensors" and "rank" in inspected.args[1].lower()

    with qtbot.waitSignal(vm.delete_requested, timeout=1000) as asked:
        page.delete_button.click()
    assert "LoRA files stay" in asked.args[1]
    with qtbot.waitSignal(vm.refreshed, timeout=3000):
        vm.confirm_delete(job.id)
    assert job.id not in [j.id for j in store.list()]

    new = running_job(store, "again")
    with qtbot.waitSignal(vm.loss_changed, timeout=3000):
        vm.select(new.id)
    events.following.add(new.id)
    vm.delete_selected()
    assert "still running here" in vm.error


def test_loss_plot_whole_steps_fresh_axes_and_incremental_smoothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(600, 300)
    plot.show()
    plot.set_data([1, 2, 3, 4], [1.0, 0.8, 0.9, 0.5])
    plot.flush()
    axis = plot.plot.getAxis("bottom")
    assert isinstance(axis, StepAxis)
    assert all(spacing >= 1 for spacing, _ in axis.tickSpacing(1, 4, 600))
    assert plot.legend.zValue() > plot.smooth_curve.zValue()
    # Zoom in, then show another job: its view starts fresh (no axes kept from the last one).
    plot.plot.getViewBox().setRange(xRange=(1, 2), yRange=(0.8, 1.0))
    plot.set_data(list(range(1, 1001)), [1.0] * 1000)
    plot.flush()
    qtbot.waitUntil(lambda: plot.plot.getViewBox().viewRange()[0][1] >= 1000, timeout=2000)
    # Appending in pieces gives the same smoothed line as smoothing the whole series.
    values = [math.sin(i / 7) + (math.nan if i == 50 else 0) for i in range(300)]
    plot.set_data([], [])
    for start in range(0, 300, 37):
        plot.append(list(range(start, min(300, start + 37))), values[start : start + 37])
    plot.flush()
    _, smooth = plot.smooth_curve.getOriginalDataset()
    assert np.allclose(smooth, ema(np.asarray(values), plot.alpha), equal_nan=True)
    plot.smoothing_slider.setValue(0)  # no smoothing: the line is the raw loss
    plot.flush()
    _, smooth = plot.smooth_curve.getOriginalDataset()
    assert smooth[10] == pytest.approx(values[10])


def _write_tiny_lora(path: Path) -> None:
    """A minimal kohya-style SD1.5 LoRA: one module, rank 4, alpha 4."""
    base = "lora_unet_down_blocks_0_attentions_0_proj_in"
    tensors = {
        f"{base}.lora_down.weight": ([4, 8], 4 * 8 * 4),
        f"{base}.lora_up.weight": ([8, 4], 8 * 4 * 4),
        f"{base}.alpha": ([], 4),
    }
    header: dict[str, object] = {"__metadata__": {"ss_network_dim": "4", "ss_network_alpha": "4"}}
    offset = 0
    data = b""
    for name, (shape, size) in tensors.items():
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        data += struct.pack("<f", 4.0) if name.endswith("alpha") else bytes(size)
        offset += size
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def test_selecting_several_jobs_overlays_their_losses(qtbot, qloop, store: JobStore) -> None:  # type: ignore[no-untyped-def]
    first, second = running_job(store, "first"), running_job(store, "second")
    vm, page = make_page(qtbot, store, FakeEvents())
    page.show()
    qtbot.waitUntil(lambda: vm.model.rowCount() == 2, timeout=3000)
    with qtbot.waitSignal(vm.loss_changed, timeout=3000):
        page.table.selectRow(vm.model.row_of(first.id))
    with qtbot.waitSignal(vm.overlays_changed, timeout=3000) as overlays:
        page.table.selectionModel().select(
            vm.model.index(vm.model.row_of(second.id), 0),
            page.table.selectionModel().SelectionFlag.Select
            | page.table.selectionModel().SelectionFlag.Rows,
        )
    (label,) = overlays.args[0]
    assert label.startswith("second") and len(overlays.args[0][label][0]) == 10
    page.loss_plot.flush()
    assert page.loss_plot.overlay_labels() == [label]
    page.hide()


@pytest.mark.parametrize("alpha", [1.0, 0.99, 0.5, 0.1, 0.01])
def test_vectorised_smoothing_matches_the_plain_definition(alpha: float) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(1.0, 0.3, 5000)
    values[[0, 9, 10, 2500, 4999]] = math.nan  # diverged steps hold the average
    values[11] = math.inf
    for start in (math.nan, 0.25):
        expected, current = [], start
        for value in values.tolist():
            if math.isfinite(value):
                current = value if math.isnan(current) else alpha * value + (1 - alpha) * current
            expected.append(current)
        assert np.allclose(ema(values, alpha, start), expected, equal_nan=True, rtol=1e-9)
