"""The GUI process's interpreter settings that keep the window responsive while workers run.

One place for what the app does and what the GUI benchmarks measure with (they import these, so
their figures are the artist's):

- the switch interval: a waiting GUI thread asks for the GIL back after 0.2 ms, not CPython's
  5 ms. Qt releases the GIL inside most of its calls (every `drawText` of a grid cell), and while
  a worker runs Python (the quick checks of a 5,000-picture open, ~150 ms) the GUI thread then
  waits up to one interval to get it back after each call — a "convoy" that made a screenful of
  cells cost 60–80 ms at 1 ms and 16–28 ms at 0.2 ms (benchmarks/bench_grid_open.py, the
  thumbnail fill's throughput unchanged);
- executor threads run at nice +10 (Linux), so the GUI thread gets a core first;
- the cyclic garbage collector runs on the GUI thread only (`GuiThreadCollector`). CPython starts
  a collection in whichever thread happens to allocate, and it holds the GIL throughout: a worker
  building rows for 5,000 pictures ran full collections of 70–110 ms mid-open, stalling the
  window 130–170 ms. Worse, a collection in a worker destroys any Qt object its garbage holds —
  a page or dialog kept in a reference cycle by a lambda — on that worker thread, racing the GUI
  thread's own widget list (a test run crashed in `QApplication.allWidgets()` that way). So
  automatic collection is off; a timer on the GUI thread runs the same generational schedule
  (`GC_THRESHOLDS`: a young pass per 10,000 new containers, the older generations at CPython's
  ratios) between events. `freeze_long_lived` moves everything built at start-up (modules, Qt
  wrappers: ~110,000 objects) out of the collector's sight once the window is up, so a full pass
  only walks what came after. Memory freed by reference counting (nearly all of it) is
  unaffected; only cyclic garbage waits for the next tick.
"""

from __future__ import annotations

import gc
import os
import sys

from PySide6.QtCore import QObject, QTimer

GUI_SWITCH_INTERVAL = 0.0002  # seconds: the GUI thread gets the GIL back sooner than 5 ms
WORKER_NICE = 10  # executor threads yield the CPU to the GUI thread
GC_THRESHOLDS = (10_000, 10, 10)  # CPython's default is (700, 10, 10)
GC_CHECK_MS = 50  # how often the GUI thread looks at the collector's counts (a cheap call)


def tune_interpreter() -> None:
    """The switch interval of a GUI process (call once, at start)."""
    sys.setswitchinterval(GUI_SWITCH_INTERVAL)


def freeze_long_lived() -> None:
    """Everything alive now lives as long as the app: keep it out of later full collections,
    which would otherwise scan it all while holding the GIL (see the module docstring)."""
    gc.collect()  # what is garbage now is not frozen in
    gc.freeze()


def due_generation(counts: tuple[int, int, int], thresholds: tuple[int, int, int]) -> int | None:
    """The oldest generation CPython's own schedule would collect now, or None: a young pass once
    `thresholds[0]` containers were allocated, each older one after `thresholds[n]` passes of the
    generation below it."""
    if counts[0] < thresholds[0]:
        return None
    generation = 0
    while generation < 2 and counts[generation + 1] >= thresholds[generation + 1]:
        generation += 1
    return generation


class GuiThreadCollector(QObject):
    """Runs the garbage collector on the thread that owns it (the GUI thread), never in workers
    (see the module docstring). `stop()` gives automatic collection back."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = GC_CHECK_MS) -> None:
        super().__init__(parent)
        self.collections = [0, 0, 0]  # passes run, per generation
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_if_due)
        gc.set_threshold(*GC_THRESHOLDS)  # read back by `collect_if_due` (and by benchmarks)
        gc.disable()
        self._timer.start()

    def collect_if_due(self) -> int | None:
        """One pass of the generation due now (if any); returns its number."""
        generation = due_generation(gc.get_count(), gc.get_threshold())
        if generation is not None:
            gc.collect(generation)
            self.collections[generation] += 1
        return generation

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()


def collect_on_gui_thread(parent: QObject) -> GuiThreadCollector:
    """Switch automatic collection off and run it from a timer on the GUI thread; call from the
    GUI thread once the QApplication exists (`parent`, which keeps the collector alive)."""
    return GuiThreadCollector(parent)


def apply_gui_settings(app: QObject) -> GuiThreadCollector:
    """What `run_gui` applies and every GUI benchmark measures with: the switch interval and the
    collector on the GUI thread (call from it, once the QApplication `app` exists)."""
    tune_interpreter()
    return collect_on_gui_thread(app)


def lower_worker_priority() -> None:
    """Executor-thread initializer: yield the CPU to the GUI thread (Linux: per-thread nice).

    Thumbnail decoding fills both cores; at equal priority the window can wait 100+ ms for a
    core, at nice +10 the GUI thread gets it first (measured with benchmarks/bench_grid_open.py).
    """
    if sys.platform.startswith("linux"):
        import threading

        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
        except OSError:
            pass
