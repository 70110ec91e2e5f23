"""Core: the one thread that does a process's job-store I/O, so an event loop never waits on disk.

`JobStore` is synchronous; SQLite may wait up to its busy timeout when another process (a
`lora-studio train` in a terminal) holds the write lock. Called on the GUI's event loop that wait
froze the window. Everything that runs on an event loop — the job runner, the training service,
the Jobs view-model — goes through `store.worker` instead:

- `await worker.call(fn, *args)` runs `fn` on the worker thread (FIFO, so the order in which a
  coroutine asks for writes is the order they happen);
- `worker.record_later(job_id, events)` queues backend events without waiting: batches of one job
  that pile up while the thread is busy coalesce into one transaction, so a slow disk or a
  concurrent writer makes fewer, larger writes instead of a growing queue. `backlog` (events not
  yet written) lets the caller apply back-pressure — `JobRunner` waits for the write when it
  passes `max_backlog`, which bounds memory without ever blocking the GUI thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from lora_studio.core.jobs.events import JobEvent

if TYPE_CHECKING:
    from lora_studio.core.jobs.job import Job
    from lora_studio.core.jobs.store import JobStore

T = TypeVar("T")

MAX_BACKLOG = 20_000  # events; far above 50 events/s × a few seconds of a stuck disk


class StoreWorker:
    """Runs job-store calls on one dedicated thread. Create through `JobStore.worker`."""

    def __init__(self, store: JobStore, max_backlog: int = MAX_BACKLOG) -> None:
        self.store = store
        self.max_backlog = max_backlog
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-store")
        self._lock = threading.Lock()
        self._pending: dict[str, list[JobEvent]] = {}
        self._futures: dict[str, Future[Job]] = {}
        self._backlog = 0
        self.max_backlog_seen = 0  # for benchmarks: how far writing fell behind
        self.writes = 0

    @property
    def backlog(self) -> int:
        """Events queued by `record_later` and not yet written."""
        return self._backlog

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self._executor.submit(fn, *args, **kwargs)

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `fn(*args, **kwargs)` on the worker thread and return its result."""
        return await asyncio.wrap_future(self._executor.submit(fn, *args, **kwargs))

    def record_later(self, job_id: str, events: Iterable[JobEvent]) -> Future[Job]:
        """Queue events of `job_id` for writing; the future gives the job as stored after them.
        Batches queued before the thread gets to them share one transaction (and one future)."""
        batch = list(events)
        with self._lock:
            self._pending.setdefault(job_id, []).extend(batch)
            self._backlog += len(batch)
            self.max_backlog_seen = max(self.max_backlog_seen, self._backlog)
            future = self._futures.get(job_id)
            if future is None:
                future = self._futures[job_id] = Future()
                self._executor.submit(self._drain, job_id)
        return future

    def _drain(self, job_id: str) -> None:
        with self._lock:
            events = self._pending.pop(job_id, [])
            future = self._futures.pop(job_id)
        try:
            result = self.store.record_events(job_id, events)
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)
        else:
            future.set_result(result)
        finally:
            with self._lock:
                self._backlog -= len(events)
                self.writes += 1

    def close(self) -> None:
        """Write what is queued, then stop the thread (idempotent)."""
        self._executor.shutdown(wait=True)
