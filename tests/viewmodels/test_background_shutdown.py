"""`BackgroundWork.cancel` at shutdown: nothing it held, nor anything asked of it afterwards,
is left as a coroutine that never ran (Python warns "never awaited" at exit, in the artist's log)."""

from __future__ import annotations

import asyncio
import inspect
import warnings

from lora_studio.viewmodels.background import BackgroundWork


async def _work(ran: list[str]) -> None:
    ran.append("ran")


def test_cancel_closes_at_once_the_coroutines_that_never_started(qloop) -> None:  # type: ignore[no-untyped-def]
    ran: list[str] = []
    work = BackgroundWork()
    coroutine = _work(ran)
    work.spawn(coroutine)
    work.cancel()
    # Closed now, not in a done callback the loop may never get to run before it stops.
    assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED
    assert ran == []


def test_work_asked_for_after_shutdown_is_closed_unrun_even_without_a_running_loop() -> None:
    ran: list[str] = []
    work = BackgroundWork()
    work.cancel()
    coroutine = _work(ran)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        work.spawn(coroutine)  # no running loop here: the last act of a closing window
    assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED
    assert ran == [] and not work.running


def test_work_spawned_before_shutdown_runs(qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    ran: list[str] = []
    work = BackgroundWork()
    work.spawn(_work(ran))
    qtbot.waitUntil(lambda: ran == ["ran"], timeout=5000)
    qtbot.waitUntil(lambda: not work.running, timeout=5000)
    assert isinstance(qloop, asyncio.AbstractEventLoop)
