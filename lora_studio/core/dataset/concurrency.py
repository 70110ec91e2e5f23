"""Core/dataset: cancellation, progress and a bounded worker pool shared by every long operation.

Contract used across `core.dataset` (and by the view-models that drive it from an executor):

- `CancelToken` is a thread-safe flag (a `threading.Event`). A view-model keeps one per running
  operation and calls `cancel()` from the GUI thread; workers poll it between items, and a
  coroutine awaits `wait_cancelled(token)` (woken by `on_cancel`, not by polling the loop).
- `ProgressCallback(done, total)` is called on the thread that called the long operation (never
  from a pool worker), so a view-model only has to forward it to the GUI thread.
- `run_parallel` keeps at most `2 × workers` items in flight: memory stays bounded on 10,000-image
  datasets and a cancel takes effect within one item per worker. Pillow releases the GIL while
  decoding/encoding, which is why threads (not processes) scale here (docs/architecture.md §4).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TextIO, TypeVar

from lora_studio.core.errors import CancelledByUserError

T = TypeVar("T")
R = TypeVar("R")

ProgressCallback = Callable[[int, int], None]
"""`progress(done, total)`: called after each finished item, on the calling thread."""

DEFAULT_WORKERS = 2


class CancelToken:
    """A cancel request that can be shared between threads. Cheap to poll."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        """Ask the operation to stop as soon as the current item is done."""
        with self._lock:
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` once, on the cancelling thread (at once if already cancelled), so an
        event loop can wait for the cancel instead of polling. Returns a function that forgets it."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._forget(callback)
        callback()
        return lambda: None

    def _forget(self, callback: Callable[[], None]) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._callbacks.remove(callback)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self, what: str = "The operation") -> None:
        if self._event.is_set():
            raise CancelledByUserError(f"{what} was cancelled.")


async def wait_cancelled(cancel: CancelToken) -> None:
    """Return once `cancel` is cancelled (from any thread), without polling the event loop."""
    loop = asyncio.get_running_loop()
    event = asyncio.Event()

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody is waiting
            loop.call_soon_threadsafe(event.set)

    forget = cancel.on_cancel(wake)
    try:
        await event.wait()
    finally:
        forget()


def is_cancelled(cancel: CancelToken | None) -> bool:
    return cancel is not None and cancel.cancelled


def report(progress: ProgressCallback | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


@dataclass(frozen=True)
class ParallelResult(Generic[R]):
    """Results in input order; `None` where an item was never processed because of a cancel."""

    results: list[R | None]
    cancelled: bool


def run_parallel(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int = DEFAULT_WORKERS,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
    on_result: Callable[[int, R], None] | None = None,
) -> ParallelResult[R]:
    """Apply `func` to every item with a bounded thread pool.

    `func` must turn expected failures into its result value; an unexpected exception is a bug and
    is re-raised here after the pool has been shut down. `on_result(index, result)` and `progress`
    run on the calling thread as items finish (completion order, not input order).
    """
    total = len(items)
    results: list[R | None] = [None] * total
    done = 0
    if workers <= 1:
        # Inline: no threads at all, which keeps tracebacks simple and tiny jobs cheap.
        for index, item in enumerate(items):
            if is_cancelled(cancel):
                return ParallelResult(results, True)
            result = func(item)
            results[index] = result
            done += 1
            if on_result is not None:
                on_result(index, result)
            report(progress, done, total)
        return ParallelResult(results, False)

    max_in_flight = workers * 2
    in_flight: dict[Future[R], int] = {}
    next_index = 0
    cancelled = False
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dataset") as pool:
        try:
            while next_index < total or in_flight:
                if is_cancelled(cancel):
                    cancelled = True
                    break
                while next_index < total and len(in_flight) < max_in_flight:
                    in_flight[pool.submit(func, items[next_index])] = next_index
                    next_index += 1
                finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in finished:
                    index = in_flight.pop(future)
                    result = future.result()
                    results[index] = result
                    done += 1
                    if on_result is not None:
                        on_result(index, result)
                    report(progress, done, total)
        finally:
            for future in in_flight:
                future.cancel()
    return ParallelResult(results, cancelled or (is_cancelled(cancel) and done < total))


class TextProgress:
    """A `ProgressCallback` that draws "label done/total" on a text stream (for the CLI).

    On a terminal the line is redrawn in place at most 10 times a second; otherwise (a log file,
    a pipe) nothing is written: progress is for people watching, and a script reading the
    output wants only the result.
    """

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self._tty = stream.isatty()
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if self._tty:
            now = time.monotonic()
            if done < total and now - self._last_draw < 0.1:
                return
            self._last_draw = now
            self._write(f"\r{self.label} {done}/{total}")
            self._drawn = True

    def finish(self) -> None:
        if self._tty and self._drawn:
            self._write("\n")
            self._drawn = False

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
