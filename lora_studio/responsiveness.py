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
- the cyclic garbage collector. A collection holds the GIL for its whole length, in whichever
  thread happens to allocate — a worker building rows for 5,000 pictures included — so every
  other thread, the GUI thread first, waits for it. `benchmarks/bench_grid_open.py` caught full
  collections of 70–110 ms during a dataset open (stalls of 130–170 ms). Two measures:
  `freeze_long_lived` moves everything built at start-up (modules, Qt wrappers: ~110,000
  objects) out of the collector's sight once the window is up, and `GC_THRESHOLDS` lets ten
  thousand new containers (not 700) accumulate before a young collection — the older
  generations follow at the same ratios, so bulk work such as a scan makes ~14× fewer passes over
  the heap. Memory freed by reference counting (nearly all of it) is unaffected; only cyclic
  garbage waits a little longer. With both, the longest full collection during an open fell from
  70–110 ms to under 30 ms.
"""

from __future__ import annotations

import gc
import os
import sys

GUI_SWITCH_INTERVAL = 0.0002  # seconds: the GUI thread gets the GIL back sooner than 5 ms
WORKER_NICE = 10  # executor threads yield the CPU to the GUI thread
GC_THRESHOLDS = (10_000, 10, 10)  # CPython's default is (700, 10, 10)


def tune_interpreter() -> None:
    """Switch interval and collector thresholds for a GUI process (call once, at start)."""
    sys.setswitchinterval(GUI_SWITCH_INTERVAL)
    gc.set_threshold(*GC_THRESHOLDS)


def freeze_long_lived() -> None:
    """Everything alive now lives as long as the app: keep it out of later full collections,
    which would otherwise scan it all while holding the GIL (see the module docstring)."""
    gc.collect()  # what is garbage now is not frozen in
    gc.freeze()


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
