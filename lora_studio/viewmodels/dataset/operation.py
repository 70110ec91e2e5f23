"""View-model base: one cancellable long operation at a time, with observable progress.

Every dataset view-model that runs disk or image work (open, import, delete, doctor, fixes) derives
from `OperationViewModel`. Its public methods stay synchronous: they validate, call `_start()`,
which flips `busy`, creates a `CancelToken` and schedules the private coroutine on the running
loop (keeping a reference to the task). The coroutine does its work in the shared executor and
reports `progress(done, total)` from the worker thread through `_progress_reporter`, which hops to
the GUI thread and throttles updates to ~20 per second so a 10,000-item job does not flood the
event loop. Expected failures (`LoraStudioError`) end up in `error`; a cancel is not an error.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from lora_studio.core.errors import CancelledByUserError, LoraStudioError
from lora_studio.viewmodels.background import throttled_progress
from lora_studio.viewmodels.dataset.core_adapter import CancelToken
from lora_studio.viewmodels.observable import Observable

log = logging.getLogger(__name__)

T = TypeVar("T")
_PROGRESS_INTERVAL_S = 0.05


class OperationViewModel(QObject):
    """Base for view-models that run one cancellable operation at a time."""

    busy_changed = Signal(bool)
    progress_text_changed = Signal(str)
    progress_value_changed = Signal(int)
    progress_maximum_changed = Signal(int)
    cancellable_changed = Signal(bool)
    error_changed = Signal(str)
    # Emitted after every operation, with its label and whether it ran to the end.
    operation_finished = Signal(str, bool)

    busy = Observable(False)
    progress_text = Observable("")
    progress_value = Observable(0)
    progress_maximum = Observable(0)  # 0: indeterminate (a busy bar)
    cancellable = Observable(False)
    error = Observable("")

    def __init__(self, executor: Executor | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = executor
        self._task: asyncio.Task[None] | None = None
        self._cancel_token: CancelToken | None = None
        self._label = ""

    @property
    def label(self) -> str:
        """What the running operation does ("Importing"); '' when idle."""
        return self._label if self.busy else ""

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The running operation (tests may await it)."""
        return self._task

    def cancel(self) -> None:
        """Ask the running operation to stop after the item it is working on."""
        if self._cancel_token is not None and not self._cancel_token.cancelled:
            self._cancel_token.cancel()
            self.progress_text = f"Cancelling {self._label.lower()}…"
            self.cancellable = False

    def clear_error(self) -> None:
        self.error = ""

    def _start(
        self,
        label: str,
        run: Callable[[CancelToken], Coroutine[Any, Any, None]],
        *,
        cancellable: bool = True,
    ) -> bool:
        """Schedule `run(token)`; False (with `error` set) when another operation is running."""
        loop = asyncio.get_running_loop()  # raises first: nothing may be left half-started
        if self.busy:
            self.error = f"{self._label} is still running. Wait for it to finish or cancel it."
            return False
        self.error = ""
        token = CancelToken()
        self._cancel_token = token
        self._label = label
        self.progress_value = 0
        self.progress_maximum = 0
        self.progress_text = f"{label}…"
        self.cancellable = cancellable
        self.busy = True
        self._task = loop.create_task(self._guard(label, token, run(token)))
        return True

    async def _guard(self, label: str, token: CancelToken, work: Coroutine[Any, Any, None]) -> None:
        completed = False
        try:
            await work
            # Operations that stop early on a cancel return normally with partial results.
            completed = not token.cancelled
        except CancelledByUserError:
            log.info("%s cancelled", label)
        except LoraStudioError as exc:
            self.error = exc.user_message
        finally:
            self._cancel_token = None
            self.cancellable = False
            self.progress_text = ""
            self.busy = False
            self.operation_finished.emit(label, completed)

    async def _in_executor(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args, **kwargs))

    def _progress_reporter(self, text: str) -> Callable[[int, int], None]:
        """A thread-safe `progress(done, total)` that updates the bar on the GUI thread."""
        return throttled_progress(functools.partial(self._set_progress, text), _PROGRESS_INTERVAL_S)

    def _set_progress(self, text: str, done: int, total: int) -> None:
        if not self.busy:
            return  # a late report from a finished operation
        self.progress_maximum = max(total, 0)
        self.progress_value = min(done, total) if total > 0 else 0
        if self._cancel_token is None or not self._cancel_token.cancelled:
            self.progress_text = f"{text} {done:,} of {total:,}" if total else f"{text}…"
