"""View-model support: the one way view-models run background work, with one error path.

asyncio keeps only weak references to tasks, so a task nobody holds can vanish mid-flight; a
view-model schedules its `_run_…` coroutines through one `BackgroundWork`, which holds them until
they end. Errors have exactly two fates:
- an expected failure (`LoraStudioError`) becomes its sentence: handed to the `on_error` given to
  `spawn` (usually the view-model's `error` property), never a traceback;
- anything else is a bug and goes to `sys.excepthook`, which the app points at the crash dialog,
  instead of surfacing later as "Task exception was never retrieved".
Blocking work runs through `blocking()` in the shared executor (job-store I/O through the store's
own thread, `JobStore.worker`), never on the GUI thread.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, TypeVar

from lora_studio.core.errors import LoraStudioError

log = logging.getLogger(__name__)
T = TypeVar("T")

ErrorSink = Callable[[str], None]


def throttled_progress(
    show: Callable[[int, int], None], interval_s: float
) -> Callable[[int, int], None]:
    """A thread-safe `progress(done, total)` for a worker: at most one report per `interval_s`
    (the first and the last always) reaches `show`, which runs on the GUI thread's loop. Call it
    on that thread (it captures the running loop)."""
    loop = asyncio.get_running_loop()
    last = [0.0]
    lock = threading.Lock()

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        with lock:
            if 0 < done < total and now - last[0] < interval_s:
                return
            last[0] = now
        try:
            loop.call_soon_threadsafe(show, done, total)
        except RuntimeError:
            pass  # the loop closed under a worker that was still finishing (shutdown)

    return report


def has_running_loop() -> bool:
    """True inside the app (qasync) and tests with `qloop`; False in the self-test and scripts."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class BackgroundWork:
    """The tasks one view-model started, and its door to the executor."""

    def __init__(self, executor: Executor | None = None) -> None:
        self._executor = executor
        # Each task with the coroutine it runs: one not started yet is closed by `cancel`.
        self._tasks: dict[asyncio.Task[Any], Coroutine[Any, Any, None]] = {}
        self._shut = False

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    def spawn(
        self, coroutine: Coroutine[Any, Any, None], on_error: ErrorSink | None = None
    ) -> None:
        """Schedule `coroutine` on the running loop and keep it alive until it ends; an expected
        failure it raises goes to `on_error` as its sentence (logged when there is none)."""
        if self._shut:
            # Shutting down: a signal from another view-model's last act (a dataset open that
            # finished as the window closed) asks for work nobody will see; the loop may not
            # even be running any more. Closed unrun, it leaves no "never awaited" warning.
            coroutine.close()
            return
        task = asyncio.get_running_loop().create_task(self._guard(coroutine, on_error))
        self._tasks[task] = coroutine
        task.add_done_callback(self._finished)
        # A task cancelled before its first step (the window closing) never starts `coroutine`;
        # closing it then is what awaiting would have done, without "never awaited" warnings.
        task.add_done_callback(lambda _task: coroutine.close())

    @staticmethod
    async def _guard(coroutine: Coroutine[Any, Any, None], on_error: ErrorSink | None) -> None:
        try:
            await coroutine
        except LoraStudioError as exc:
            if on_error is None:
                log.warning("%s", exc.user_message)
            else:
                on_error(exc.user_message)

    async def blocking(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work(*args)` in the executor: disk and CPU work never runs on the GUI thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(work, *args))

    def cancel(self) -> None:
        """Shutdown: cancel every task, and close at once the coroutines that never started.
        The loop may stop before a cancelled task takes its last step or its done callbacks
        run; an unstarted coroutine left to the interpreter's exit would warn "never awaited".
        Work spawned afterwards is closed unrun."""
        self._shut = True
        for task, coroutine in list(self._tasks.items()):
            task.cancel()
            if inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
                coroutine.close()

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.pop(task, None)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("background task failed", exc_info=exc)
            sys.excepthook(type(exc), exc, exc.__traceback__)
