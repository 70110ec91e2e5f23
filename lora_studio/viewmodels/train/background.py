"""View-model helper for the Train wizard: keep references to background tasks and run blocking
work in the shared executor.

asyncio keeps only weak references to tasks, so a task nobody holds can vanish mid-flight; every
wizard view-model schedules its `_run_…` coroutines through one `BackgroundWork`, which holds them
until they end. A task that dies of a bug (not a `LoraStudioError` — those are handled inside the
coroutines) is handed to `sys.excepthook`, which the app points at the crash dialog, instead of
surfacing later as "Task exception was never retrieved".
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def has_running_loop() -> bool:
    """True inside the app (qasync) and tests with `qloop`; False in the self-test and scripts."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class BackgroundWork:
    """The tasks one view-model started, and its door to the executor."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Schedule `coroutine` on the running loop and keep it alive until it ends."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    async def blocking(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work(*args)` in the executor: disk and CPU work never runs on the GUI thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(work, *args))

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("train wizard task failed", exc_info=exc)
            sys.excepthook(type(exc), exc, exc.__traceback__)
