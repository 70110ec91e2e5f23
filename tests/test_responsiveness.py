"""The GUI process's interpreter settings: what `run_gui` applies is what the benchmarks measure."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from lora_studio import responsiveness


@pytest.fixture
def restore_interpreter() -> Iterator[None]:
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    yield
    sys.setswitchinterval(interval)
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def test_tune_interpreter_sets_the_switch_interval(restore_interpreter: None) -> None:
    responsiveness.tune_interpreter()
    assert sys.getswitchinterval() == pytest.approx(responsiveness.GUI_SWITCH_INTERVAL)


def test_freeze_long_lived_moves_live_objects_out_of_full_collections(
    restore_interpreter: None,
) -> None:
    class Node:
        pass

    kept = [Node() for _ in range(100)]
    cycle = Node()
    cycle.me = cycle  # type: ignore[attr-defined]
    del cycle  # garbage now: collected before the freeze, not frozen in
    responsiveness.freeze_long_lived()
    frozen = set(map(id, gc.get_objects()))  # frozen objects are no longer tracked per generation
    assert gc.get_freeze_count() > 0
    assert not any(id(node) in frozen for node in kept)


def test_run_gui_applies_the_settings_the_benchmarks_import() -> None:
    import inspect

    from lora_studio import app

    source = inspect.getsource(app)
    assert "apply_gui_settings(app)" in inspect.getsource(app.run_gui)
    assert "freeze_long_lived()" in source
    assert app.lower_worker_priority is responsiveness.lower_worker_priority


def test_due_generation_follows_cpythons_schedule() -> None:
    thresholds = (10_000, 10, 10)
    assert responsiveness.due_generation((9_999, 9, 9), thresholds) is None
    assert responsiveness.due_generation((10_000, 0, 0), thresholds) == 0
    assert responsiveness.due_generation((10_000, 10, 3), thresholds) == 1
    assert responsiveness.due_generation((10_000, 10, 10), thresholds) == 2
    assert responsiveness.due_generation((10_000, 3, 10), thresholds) == 0  # gen 1 not due


def test_garbage_is_collected_on_the_gui_thread_never_in_a_worker(qtbot, qapp) -> None:  # type: ignore[no-untyped-def]
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from PySide6.QtWidgets import QWidget

    collected_in: list[str] = []

    def probe(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected_in.append(threading.current_thread().name)

    class Page(QWidget):
        pass

    def make_cycles() -> None:
        # Garbage a worker makes: containers in cycles, enough for many young collections.
        for _ in range(60_000):
            node: dict[str, object] = {}
            node["self"] = node

    gc.callbacks.append(probe)
    thresholds = gc.get_threshold()
    collector = responsiveness.collect_on_gui_thread(qapp)
    try:
        assert not gc.isenabled()
        assert gc.get_threshold() == responsiveness.GC_THRESHOLDS
        # Young collections must be rarer than CPython's default, or bulk work stalls the window.
        assert responsiveness.GC_THRESHOLDS[0] > 700
        page = Page()
        page.me = page  # type: ignore[attr-defined]  # a widget kept only by a cycle
        destroyed: list[bool] = []
        page.destroyed.connect(lambda: destroyed.append(True))
        del page
        with ThreadPoolExecutor(1, thread_name_prefix="worker") as pool:
            pool.submit(make_cycles).result()
        assert collected_in == []  # the worker allocated far past the threshold, no pass ran
        qtbot.waitUntil(lambda: collector.collections[0] > 0, timeout=5000)
        assert set(collected_in) == {threading.main_thread().name}
        qtbot.waitUntil(lambda: bool(destroyed), timeout=5000)  # the page went, on this thread
    finally:
        gc.callbacks.remove(probe)
        collector.stop()
        collector.deleteLater()
        gc.set_threshold(*thresholds)
    assert gc.isenabled()
