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


def test_tune_interpreter_sets_the_switch_interval_and_collector_thresholds(
    restore_interpreter: None,
) -> None:
    responsiveness.tune_interpreter()
    assert sys.getswitchinterval() == pytest.approx(responsiveness.GUI_SWITCH_INTERVAL)
    assert gc.get_threshold() == responsiveness.GC_THRESHOLDS
    # Young collections must be rarer than CPython's default, or bulk work stalls the window.
    assert responsiveness.GC_THRESHOLDS[0] > 700


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
    assert "tune_interpreter()" in inspect.getsource(app.run_gui)
    assert "freeze_long_lived()" in source
    assert app.lower_worker_priority is responsiveness.lower_worker_priority
