"""Core: live bookkeeping for a running job — loss smoothing, speed and ETA.

`ProgressTracker` is fed the same typed events the job store records and answers what the monitor
shows: percent, steps per second, seconds left, and the loss raw / smoothed / windowed. Plain
Python with an injectable clock, so tests drive time by hand.

Speed is the average rate over a sliding *time* window (default 60 s): (newest step − oldest step)
÷ (newest time − oldest time), the oldest sample being the last one at or before the window start.
Unlike an average of per-update rates, this does not care how updates are spaced: a backend that
reports every step, one that batches ten steps into a burst every ten seconds, and one that is
polled once a minute all give the true rate, and model loading before the first step drops out of
the window after a minute. Updates with the same timestamp (a burst) collapse into one sample.

Restarts: when the step goes backwards (a chunked run starting its next chunk at 0, a re-attach
resuming from a checkpoint), the speed samples are discarded — mixing them would give a negative
or absurd rate — and the tracker waits for fresh ones. Until the new window spans `min_span_s`,
the backend's own rate (`Progress.rate`) is used if it gave one, else speed and ETA are unknown
(None), never negative.

Backends that measure themselves (tqdm's rate and remaining time on ComfyUI) win: their own clock
is not skewed by how late or bunched their updates reach us, so `Progress.rate` is the speed and
`Progress.eta` the time left whenever they are given; the window above is the fallback.

Between updates the ETA counts down from the last estimate, but by no more than one usual update
gap (a late update means slower steps, not finished ones), and never to 0:00 while a step remains; when nothing has
arrived for much longer than usual (`stalled`), it becomes None instead of pretending to be almost
done.
"""

from __future__ import annotations

import itertools
import math
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lora_studio.core.jobs.events import Failed, Finished, JobEvent, Loss, Progress, StatusChanged
from lora_studio.core.jobs.status import JobStatus


@dataclass(frozen=True)
class ProgressSnapshot:
    """Everything the monitor shows, read at one instant."""

    step: int
    total: int | None
    percent: float | None
    speed: float | None  # steps per second
    eta_seconds: float | None
    current_loss: float | None
    ema_loss: float | None
    mean_loss: float | None
    restarts: int
    stalled: bool
    finished: bool


class ProgressTracker:
    """Turns a stream of job events into speed, ETA and smoothed loss. Not thread-safe: feed it
    from one thread (the GUI thread, where the view-model receives events)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        ema_alpha: float = 0.1,
        loss_window: int = 50,
        speed_window_s: float = 60.0,
        min_span_s: float = 2.0,
        stall_after_s: float = 60.0,
        max_eta_s: float = 30 * 86_400.0,
    ) -> None:
        if not 0.0 < ema_alpha <= 1.0:
            raise ValueError("ema_alpha must be in (0, 1]")
        if loss_window < 1 or speed_window_s <= 0 or min_span_s < 0:
            raise ValueError("loss_window, speed_window_s and min_span_s must be positive")
        self._clock = clock
        self._alpha = ema_alpha
        self._window_s = speed_window_s
        self._min_span_s = min_span_s
        self._stall_after_s = stall_after_s
        self._max_eta_s = max_eta_s
        self._loss_values: deque[float] = deque(maxlen=loss_window)
        # (time, step) samples; bounded so a chatty backend cannot grow it without limit.
        self._samples: deque[tuple[float, int]] = deque(maxlen=4096)
        self.step = 0
        self.total: int | None = None
        self.restarts = 0
        self.current_loss: float | None = None
        self.ema_loss: float | None = None
        self.finished = False
        self._completed = False
        self._backend_rate: float | None = None
        self._backend_eta: float | None = None
        self._last_update: float | None = None

    # -- feeding ---------------------------------------------------------------------------

    def feed(self, event: JobEvent, at: float | None = None) -> None:
        """Take one event; `at` is its arrival time on the tracker's clock (default: now)."""
        now = self._clock() if at is None else at
        if isinstance(event, Progress):
            self._on_progress(event, now)
        elif isinstance(event, Loss):
            self._on_loss(event.value)
        elif isinstance(event, Finished):
            self._finish(completed=True)
        elif isinstance(event, Failed):
            self._finish(completed=False)
        elif isinstance(event, StatusChanged) and event.status.is_terminal:
            self._finish(completed=event.status is JobStatus.COMPLETED)

    def feed_many(self, events: Iterable[JobEvent], at: float | None = None) -> None:
        now = self._clock() if at is None else at
        for event in events:
            self.feed(event, now)

    def reset_speed(self) -> None:
        """Forget speed samples, e.g. after re-attaching to a job that ran while we were away."""
        self._samples.clear()
        self._backend_rate = None
        self._backend_eta = None

    def _on_progress(self, event: Progress, now: float) -> None:
        if event.total is not None and event.total > 0:
            self.total = event.total
        if self._last_update is not None and event.step < self.step:
            self.restarts += 1
            self.reset_speed()
        if event.rate is not None and event.rate > 0 and math.isfinite(event.rate):
            self._backend_rate = event.rate
        eta = event.eta
        self._backend_eta = eta if eta is not None and math.isfinite(eta) and eta >= 0 else None
        self.step = max(0, event.step)
        self._last_update = now
        if self._samples and now <= self._samples[-1][0]:
            # Same instant (a burst) or a clock that stepped back: keep one sample, the latest step.
            self._samples[-1] = (self._samples[-1][0], self.step)
        else:
            self._samples.append((now, self.step))
        # Drop samples older than the window, but keep one at or before the window start so the
        # window spans the full period when there is data for it.
        while len(self._samples) >= 3 and self._samples[1][0] <= now - self._window_s:
            self._samples.popleft()

    def _on_loss(self, value: float) -> None:
        self.current_loss = value
        if not math.isfinite(value):
            return  # a NaN would poison the average for the rest of the run
        self._loss_values.append(value)
        if self.ema_loss is None:
            self.ema_loss = value
        else:
            self.ema_loss = self._alpha * value + (1.0 - self._alpha) * self.ema_loss

    def _finish(self, *, completed: bool) -> None:
        self.finished = True
        self._completed = completed
        if completed and self.total:
            self.step = self.total

    # -- reading ---------------------------------------------------------------------------

    @property
    def mean_loss(self) -> float | None:
        """Mean of the last `loss_window` finite loss values."""
        return statistics.fmean(self._loss_values) if self._loss_values else None

    @property
    def percent(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(100.0, 100.0 * self.step / self.total))

    @property
    def speed(self) -> float | None:
        """Steps per second: the backend's own measure when it gives one, else over the window."""
        if self._backend_rate is not None:
            return self._backend_rate
        if len(self._samples) >= 2:
            (t0, s0), (t1, s1) = self._samples[0], self._samples[-1]
            if t1 - t0 >= self._min_span_s:
                return (s1 - s0) / (t1 - t0)
        return None

    def _typical_interval(self) -> float:
        # The recent gaps say how often this backend reports; the last 64 are plenty, and the
        # monitor asks ten times a second, so this must not walk thousands of samples.
        recent = list(itertools.islice(reversed(self._samples), 65))
        gaps = [a - b for (a, _), (b, _) in itertools.pairwise(recent)]
        return statistics.median(gaps) if gaps else 0.0

    def stalled(self, now: float | None = None) -> bool:
        """True when no progress arrived for far longer than the backend's usual update gap."""
        if self.finished or self._last_update is None:
            return False
        now = self._clock() if now is None else now
        limit = max(self._stall_after_s, 3.0 * self._typical_interval())
        return now - self._last_update > limit

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Seconds until the last step; 0 when done; None when unknown, stalled or absurd."""
        if self.finished:
            return 0.0 if self._completed else None
        if not self.total or self._last_update is None:
            return None
        remaining = max(0, self.total - self.step)
        if remaining == 0:
            return 0.0
        speed = self.speed
        if speed is None or speed <= 0:
            return None
        now = self._clock() if now is None else now
        if self.stalled(now):
            return None
        estimate = self._backend_eta if self._backend_eta is not None else remaining / speed
        counted_down = estimate - max(0.0, now - self._last_update)
        # An update that is late (a step slower than expected) must not run the clock out with
        # steps left: count down at most one usual update gap, and never to 0:00.
        gap = max(1.0 / speed, self._typical_interval())
        floor = max(estimate - gap, 1.0)
        eta = max(counted_down, min(floor, estimate), 1.0)
        return eta if eta <= self._max_eta_s else None

    def snapshot(self, now: float | None = None) -> ProgressSnapshot:
        now = self._clock() if now is None else now
        return ProgressSnapshot(
            step=self.step,
            total=self.total,
            percent=self.percent,
            speed=self.speed,
            eta_seconds=self.eta_seconds(now),
            current_loss=self.current_loss,
            ema_loss=self.ema_loss,
            mean_loss=self.mean_loss,
            restarts=self.restarts,
            stalled=self.stalled(now),
            finished=self.finished,
        )


def format_clock(seconds: float | None) -> str:
    """An ETA or elapsed time as a clock: '4:05', '1:02:05'; '?' when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
