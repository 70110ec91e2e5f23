"""View-model service: produce thumbnails off the GUI thread — visible rows first, then all the rest.

Two kinds of work share the executor:
- requests from the grid (a row was painted with its placeholder): newest first, because the rows
  the artist scrolled to last are the ones on screen; these are decoded to a detached QImage in the
  worker and delivered with `thumbnail_ready`;
- a background fill that walks every image once so the disk cache is complete (the next open is
  instant) — those results are only decoded when the grid is waiting for them.

`workers` coroutines each run one small batch at a time in the executor, so other dataset work
(preview, doctor) is never queued behind more than one batch, and a cancel or a new folder takes
effect within a batch. Every batch carries the loader's generation; results of an older folder are
dropped. Per-result GUI work is one `QPixmap.fromImage` of a ≤`side` px image (done by the model).

A requested row first gets a preview its camera stored in the JPEG (`core/dataset/embedded_preview`),
in small fast batches ahead of everything else: the EXIF thumbnail (~0.2 ms, usually 160×120) when
it covers the loader's `side` in device pixels — a 1× screen's 160 px cell — else the MPF large
preview decoded at reduced scale (what a HiDPI cell needs: ~4 ms on a quiet machine, 8–12 ms on a
busy one, for a 1620 px preview), instead of a full decode (18–25 ms for a 12 MP photo). The real
thumbnail replaces it when made; a preview never replaces a real thumbnail that arrived first.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage

from lora_studio.viewmodels.dataset.core_adapter import ThumbnailSource

PRIORITY_BATCH = 4
PROGRESS_INTERVAL = 0.1  # seconds between fill_progress updates
PREVIEW_BATCH = 16  # an embedded preview costs 0.2–12 ms: a screenful in one or two batches
# Background batches are sized to take about this long: long enough that the per-batch round trip
# through the event loop is noise, short enough that a visible row waits at most ~one batch.
BATCH_SECONDS = 0.06
MAX_BACKGROUND_BATCH = 32
# Below this per-picture time the fill is reading the disk cache: pure Python that holds the GIL,
# so a second thread only competes with the GUI thread for it. One batch at a time then.
GIL_BOUND_SECONDS = 0.002


@dataclass(frozen=True, slots=True)
class ThumbnailResult:
    path: Path
    image: QImage | None  # None: cached on disk only (nobody was waiting for it)
    error: str | None


def produce_thumbnails(
    source: ThumbnailSource, jobs: Sequence[tuple[Path, bool]], side: int
) -> tuple[list[ThumbnailResult], float]:
    """Worker thread: make/cache each thumbnail; decode into a QImage where `decode` is set.
    Returns the results and the seconds the batch took."""
    started = time.perf_counter()
    results: list[ThumbnailResult] = []
    for path, decode in jobs:
        data, error = source.thumbnail_bytes(path)
        if data is None or not decode:
            results.append(ThumbnailResult(path, None, error))
            continue
        image = QImage.fromData(data)
        if image.isNull():
            results.append(ThumbnailResult(path, None, f"{path.name}: the thumbnail is damaged."))
            continue
        if max(image.width(), image.height()) > side:
            # Scaling here keeps the GUI thread's share to a cheap pixmap upload.
            image = image.scaled(
                side,
                side,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        results.append(ThumbnailResult(path, image, None))
    return results, time.perf_counter() - started


def produce_previews(
    source: ThumbnailSource, paths: Sequence[Path], side: int
) -> tuple[list[ThumbnailResult], float]:
    """Worker thread: embedded previews (None image where a file has none), chosen for `side`
    pixels: the small EXIF thumbnail when it is that big, else the MPF large preview."""
    started = time.perf_counter()
    results: list[ThumbnailResult] = []
    read_preview = getattr(source, "preview_bytes", None)  # a source may offer none
    for path in paths:
        data = read_preview(path, side) if read_preview is not None else None
        image = QImage.fromData(data) if data else None
        if image is not None and (image.isNull() or image.width() == 0):
            image = None
        if image is not None and max(image.width(), image.height()) > side:
            image = image.scaled(
                side,
                side,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        results.append(ThumbnailResult(path, image, None))
    return results, time.perf_counter() - started


class ThumbnailLoader(QObject):
    """Schedules thumbnail work for one dataset at a time (see the module docstring)."""

    thumbnail_ready = Signal(object, QImage)  # path, image
    thumbnail_failed = Signal(object, str)  # path, sentence naming the file
    fill_progress = Signal(int, int)  # done, total of the background fill
    fill_finished = Signal(float)  # seconds the fill took

    def __init__(
        self,
        executor: Executor | None,
        *,
        side: int = 160,
        workers: int = 2,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._executor = executor
        self._side = side
        self._workers = max(1, workers)
        self._source: ThumbnailSource | None = None
        self._generation = 0
        self._priority: list[Path] = []  # a stack: the last request is served first
        self._previews: list[Path] = []  # requested rows whose embedded preview is not tried yet
        self._previewed: set[Path] = set()
        self._wanted: set[Path] = set()
        self._background: list[Path] = []
        self._background_set: set[Path] = set()
        self._next_background = 0
        self._finished: set[Path] = set()
        self._failed: dict[Path, str] = {}  # this folder's failures, as `thumbnail_failed` said
        self._fill_total = 0
        self._fill_done = 0
        self._fill_started = 0.0
        self._last_progress = 0.0
        self._filling = False
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._item_seconds = 0.01  # running estimate of one background thumbnail
        self._background_in_flight = 0

    # -- control (GUI thread) ----------------------------------------------------------------------
    @property
    def filling(self) -> bool:
        return self._filling

    @property
    def fill_done(self) -> int:
        return self._fill_done

    @property
    def fill_total(self) -> int:
        return self._fill_total

    @property
    def failures(self) -> dict[Path, str]:
        """Pictures of the current folder whose thumbnail failed, with the sentence (for a
        receiver that replaced its rows after the signal came)."""
        return dict(self._failed)

    def start(self, source: ThumbnailSource, paths: Sequence[Path], *, fill: bool = True) -> None:
        """Serve a new dataset: forget the old one's queue, start the background fill."""
        self._generation += 1
        self._source = source
        self._priority.clear()
        self._previews.clear()
        self._previewed = set()
        self._wanted.clear()
        self._finished = set()
        self._failed = {}
        self._background = list(paths) if fill else []
        self._background_set = set(self._background)
        self._next_background = 0
        self._fill_total = len(self._background)
        self._fill_done = 0
        self._fill_started = time.perf_counter()
        self._filling = fill and bool(self._background)
        self._ensure_workers()
        self.fill_progress.emit(0, self._fill_total)
        self._poke()

    def request(self, path: Path) -> None:
        """The grid painted a placeholder for `path`: make its thumbnail soon."""
        if path in self._wanted and path in self._priority:
            self._priority.remove(path)  # move it to the top of the stack
        self._wanted.add(path)
        self._priority.append(path)
        if path not in self._previewed and path not in self._finished:
            self._previewed.add(path)
            self._previews.append(path)
        self._ensure_workers()
        self._poke()

    def forget(self, paths: Sequence[Path]) -> None:
        """Rows were removed: do not deliver their thumbnails."""
        gone = set(paths)
        self._wanted -= gone
        self._priority = [p for p in self._priority if p not in gone]
        self._previews = [p for p in self._previews if p not in gone]
        for path in gone:
            self._failed.pop(path, None)

    def stop_fill(self) -> None:
        """Stop the background fill; requests from the grid are still served."""
        self._background = self._background[: self._next_background]
        if self._filling:
            self._filling = False
            self.fill_finished.emit(time.perf_counter() - self._fill_started)

    def shutdown(self) -> None:
        """Cancel the worker coroutines (the page is going away)."""
        self._generation += 1
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    # -- workers -----------------------------------------------------------------------------------
    def _ensure_workers(self) -> None:
        self._tasks = [task for task in self._tasks if not task.done()]
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous test); nothing can run anyway
        if self._wake is None:
            self._wake = asyncio.Event()
        # Two batches in flight per thread: while results travel back to the GUI thread, the
        # next batch is already queued in the executor, so its threads never wait for us.
        while len(self._tasks) < self._workers * 2:
            self._tasks.append(loop.create_task(self._work()))

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _next_batch(self) -> tuple[list[tuple[Path, bool]], bool]:
        """(jobs, whether they are background fill); jobs are (path, decode for the grid)."""
        if self._priority:
            batch = self._priority[-PRIORITY_BATCH:][::-1]
            del self._priority[-PRIORITY_BATCH:]
            return [(path, True) for path in batch], False
        jobs: list[tuple[Path, bool]] = []
        allowed = 1 if self._item_seconds < GIL_BOUND_SECONDS else self._workers * 2
        if self._background_in_flight >= allowed:
            return jobs, True
        size = max(1, min(MAX_BACKGROUND_BATCH, int(BATCH_SECONDS / max(self._item_seconds, 1e-4))))
        while self._next_background < len(self._background) and len(jobs) < size:
            path = self._background[self._next_background]
            self._next_background += 1
            if path not in self._finished:
                jobs.append((path, path in self._wanted))
        return jobs, True

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self._previews and self._source is not None:
                await self._run_previews(loop)
                continue
            batch, background = self._next_batch()
            if not batch or self._source is None:
                assert self._wake is not None
                self._wake.clear()
                await self._wake.wait()
                continue
            generation, source = self._generation, self._source
            self._background_in_flight += background
            try:
                results, seconds = await loop.run_in_executor(
                    self._executor, produce_thumbnails, source, batch, self._side
                )
            except RuntimeError:
                return  # the executor was shut down: the application is closing
            finally:
                self._background_in_flight -= background
            self._item_seconds = 0.7 * self._item_seconds + 0.3 * seconds / len(batch)
            self._poke()  # a slot is free: a waiting worker may take the next batch
            if generation == self._generation:
                self._deliver(results)

    async def _run_previews(self, loop: asyncio.AbstractEventLoop) -> None:
        """Newest requests first, like the real thumbnails."""
        paths = self._previews[-PREVIEW_BATCH:][::-1]
        del self._previews[-PREVIEW_BATCH:]
        generation, source = self._generation, self._source
        try:
            results, _seconds = await loop.run_in_executor(
                self._executor, produce_previews, source, paths, self._side
            )
        except RuntimeError:
            return  # the executor was shut down
        if generation != self._generation:
            return
        for result in results:
            # Only while the grid still waits and the real thumbnail has not come first.
            path = result.path
            if result.image is not None and path in self._wanted and path not in self._finished:
                self.thumbnail_ready.emit(path, result.image)

    def _deliver(self, results: list[ThumbnailResult]) -> None:
        for result in results:
            if result.path not in self._finished and result.path in self._background_set:
                self._fill_done += 1
            self._finished.add(result.path)
            if result.path in self._wanted:
                if result.image is not None:
                    self._wanted.discard(result.path)
                    self.thumbnail_ready.emit(result.path, result.image)
                elif result.error is not None:
                    self._wanted.discard(result.path)
                    self._failed[result.path] = result.error
                    self.thumbnail_failed.emit(result.path, result.error)
                else:
                    # Made by the fill before the grid asked: decode it as a priority job.
                    self._priority.append(result.path)
                    self._poke()
            elif result.error is not None:
                self._failed[result.path] = result.error
                self.thumbnail_failed.emit(result.path, result.error)
        if self._filling:
            # At most ~10 progress updates a second: from the disk cache a batch arrives every
            # few ms, and each update repaints the page's label.
            now = time.perf_counter()
            if (
                now - self._last_progress >= PROGRESS_INTERVAL
                or self._fill_done >= self._fill_total
            ):
                self._last_progress = now
                self.fill_progress.emit(self._fill_done, self._fill_total)
            if self._fill_done >= self._fill_total:
                self._filling = False
                self.fill_finished.emit(time.perf_counter() - self._fill_started)


def device_side(logical_side: int, device_pixel_ratio: float) -> int:
    """Pixel side of a thumbnail shown at `logical_side` on a screen with that pixel ratio."""
    return max(1, math.ceil(logical_side * max(device_pixel_ratio, 1.0)))
