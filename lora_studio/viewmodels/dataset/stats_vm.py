"""View-model: dataset statistics — count, resolution histogram, aspect-ratio buckets, caption
coverage and tag frequency — as plain data the stats panel draws as bar charts.

Recomputed off the GUI thread after the rows change, debounced so that an import or a burst of
deletes triggers one computation, not one per row. Results of a superseded computation are dropped.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from lora_studio.viewmodels.dataset import core_adapter as core
from lora_studio.viewmodels.dataset.rows import Badge, GridRow
from lora_studio.viewmodels.observable import Observable

DEBOUNCE_MS = 150
TOP_TAGS = 15
# Shorter-side bins: the usual training resolutions are 512, 768 and 1024.
RESOLUTION_BINS: tuple[tuple[int, str], ...] = (
    (0, "< 512"),
    (512, "512–767"),
    (768, "768–1023"),
    (1024, "1024–1535"),
    (1536, "1536–2047"),
    (2048, "≥ 2048"),
)


@dataclass(frozen=True)
class DatasetStats:
    """Figures for the stats panel; every list is (label, count)."""

    count: int = 0
    readable: int = 0
    captioned: int = 0
    total_repeats: int = 0
    resolution_histogram: list[tuple[str, int]] = field(default_factory=list)
    aspect_buckets: list[tuple[str, int]] = field(default_factory=list)
    top_tags: list[tuple[str, int]] = field(default_factory=list)
    distinct_tags: int = 0
    resolution: int = 1024

    @property
    def coverage(self) -> float:
        """Share of pictures with a non-empty caption (0…1)."""
        return self.captioned / self.count if self.count else 0.0


def compute_stats(rows: Sequence[GridRow], resolution: int) -> DatasetStats:
    """Worker thread: all figures in one pass (plus the bucket plan)."""
    histogram = [0] * len(RESOLUTION_BINS)
    tags: Counter[str] = Counter()
    readable = captioned = repeats = 0
    usable = []  # pictures a training can use: the only ones in the size and shape charts
    for row in rows:
        entry = row.entry
        if row.caption.strip():
            captioned += 1
        tags.update(row.tags)
        # A picture whose header reads but whose pixels do not (a failed thumbnail or full
        # check gave it the Unreadable badge) is not counted as readable, nor in any chart:
        # training leaves it out.
        if not entry.ok or entry.width <= 0 or entry.height <= 0 or Badge.UNREADABLE in row.badges:
            continue
        readable += 1
        repeats += max(entry.repeats, 1)  # samples per epoch: only what training will use
        usable.append(entry)
        short = min(entry.width, entry.height)
        slot = 0
        for index, (lower, _) in enumerate(RESOLUTION_BINS):
            if short >= lower:
                slot = index
        histogram[slot] += 1
    return DatasetStats(
        count=len(rows),
        readable=readable,
        captioned=captioned,
        total_repeats=repeats,
        resolution_histogram=[
            (label, n) for (_, label), n in zip(RESOLUTION_BINS, histogram, strict=True)
        ],
        aspect_buckets=core.bucket_counts(usable, resolution),
        top_tags=tags.most_common(TOP_TAGS),
        distinct_tags=len(tags),
        resolution=resolution,
    )


class StatsViewModel(QObject):
    """Holds the latest `DatasetStats`; `update()` schedules a recomputation."""

    stats_changed = Signal(object)
    computing_changed = Signal(bool)

    stats = Observable(DatasetStats())
    computing = Observable(False)

    def __init__(self, executor: Executor | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = executor
        self._rows: list[GridRow] = []
        self._resolution = 1024
        self._generation = 0
        self._task: asyncio.Task[None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._handle_timeout)

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def update(self, rows: Sequence[GridRow], resolution: int) -> None:
        """The dataset changed: recompute soon (debounced)."""
        self._rows = list(rows)
        self._resolution = resolution
        self._generation += 1
        self.computing = True
        self._timer.start()

    def compute_now(self) -> None:
        """Skip the debounce (tests, first open)."""
        self._timer.stop()
        self._handle_timeout()

    def _handle_timeout(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # No event loop (a synchronous caller): the computation is small enough to do inline.
            self.stats = compute_stats(self._rows, self._resolution)
            self.computing = False
            return
        self._task = loop.create_task(
            self._run_compute(self._generation, self._rows, self._resolution)
        )

    def shutdown(self) -> None:
        self._timer.stop()
        self._generation += 1

    async def _run_compute(self, generation: int, rows: list[GridRow], resolution: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            stats = await loop.run_in_executor(self._executor, compute_stats, rows, resolution)
        except RuntimeError:
            return  # the executor was shut down: the application is closing
        if generation == self._generation:
            self.stats = stats
            self.computing = False
