"""`throttled_progress`: the one thread-safe, rate-limited progress reporter of the view-models."""

from __future__ import annotations

import threading

from lora_studio.viewmodels.background import throttled_progress


def test_reports_from_a_worker_arrive_on_the_loop_thread_throttled_but_first_and_last_kept(
    qtbot, qloop
) -> None:  # type: ignore[no-untyped-def]
    shown: list[tuple[int, int, str]] = []

    def show(done: int, total: int) -> None:
        shown.append((done, total, threading.current_thread().name))

    report = throttled_progress(show, interval_s=60.0)
    worker = threading.Thread(
        target=lambda: [report(done, 1000) for done in range(1001)], name="worker"
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(shown) >= 2, timeout=5000)
    qtbot.wait(50)  # anything else queued would have arrived by now
    main = threading.main_thread().name
    # The start and the end always pass; everything between falls in the 60 s interval.
    assert shown == [(0, 1000, main), (1000, 1000, main)]
