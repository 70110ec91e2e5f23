"""ProgressTracker: speed and ETA under steady, bursty and restarting streams; loss smoothing."""

from __future__ import annotations

import math
import random

import pytest

from lora_studio.core.jobs import (
    Failed,
    Finished,
    JobStatus,
    Loss,
    Progress,
    ProgressTracker,
    StatusChanged,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _tracker(**kwargs: float) -> tuple[ProgressTracker, FakeClock]:
    clock = FakeClock()
    return ProgressTracker(clock=clock, **kwargs), clock  # type: ignore[arg-type]


def test_eta_converges_on_a_steady_rate_despite_a_slow_start() -> None:
    tracker, clock = _tracker()
    total, rate = 2_000, 2.0
    tracker.feed(Progress(0, total))
    clock.now = 30.0  # loading the model: no step for 30 s
    step = 0
    errors: list[float] = []
    while step < 600:
        clock.now += 0.5
        step += 1
        tracker.feed(Progress(step, total))
        if clock.now > 30.0 + 65.0:  # the loading time has left the 60 s window
            eta = tracker.eta_seconds()
            assert eta is not None
            errors.append(abs(eta - (total - step) / rate) / ((total - step) / rate))
    assert tracker.speed == pytest.approx(rate, rel=1e-9)
    assert max(errors) < 1e-6
    # Early on the estimate is pessimistic (it includes loading), but never absurd or negative.
    assert tracker.percent == pytest.approx(30.0)


def test_eta_counts_down_between_updates() -> None:
    tracker, clock = _tracker()
    for step in range(0, 21):
        clock.now = step * 1.0
        tracker.feed(Progress(step, 100))
    assert tracker.eta_seconds() == pytest.approx(80.0)
    clock.now += 0.5
    assert tracker.eta_seconds() == pytest.approx(79.5)
    # The next update is late: the steps are slower than thought, not done — the clock holds
    # at one update gap below the last estimate instead of running on towards 0:00.
    clock.now += 4.5
    assert tracker.eta_seconds() == pytest.approx(79.0)


def test_eta_never_reaches_zero_with_steps_left() -> None:
    # Four 22 s steps, the backend's clock says 44 s left at step 2; step 3 is late.
    tracker, clock = _tracker()
    tracker.feed(Progress(2, 4, rate=1 / 22, eta=44.0))
    clock.now = 40.0
    eta = tracker.eta_seconds()
    assert eta is not None and eta >= 22.0
    tracker.feed(Progress(3, 4, rate=1 / 22, eta=22.0))
    clock.now = 100.0
    eta = tracker.eta_seconds()
    assert eta is not None and eta >= 1.0


def test_the_backends_own_rate_and_eta_win() -> None:
    # Updates reach us bunched (two at once after 14 s): the window would say 7 s/step, the
    # backend measured 22 s/step on its own clock.
    tracker, clock = _tracker()
    tracker.feed(Progress(0, 4))
    clock.now = 14.0
    tracker.feed(Progress(1, 4, rate=1 / 22, eta=66.0))
    tracker.feed(Progress(2, 4, rate=1 / 22, eta=44.0))
    assert tracker.speed == pytest.approx(1 / 22)
    assert tracker.eta_seconds() == pytest.approx(44.0)


def test_bursty_updates_give_the_true_rate() -> None:
    # The backend flushes ten steps at once every ten seconds: true rate 1 step/s.
    tracker, clock = _tracker()
    total, step = 5_000, 0
    tracker.feed(Progress(0, total))
    worst = 0.0
    for burst in range(1, 40):
        base = burst * 10.0
        for i in range(10):
            clock.now = base + i * 0.002
            step += 1
            tracker.feed(Progress(step, total))
            if burst > 7:
                speed = tracker.speed
                assert speed is not None
                worst = max(worst, abs(speed - 1.0))
    assert worst < 0.17  # bounded by one burst out of a 60 s window
    eta = tracker.eta_seconds()
    assert eta is not None and eta == pytest.approx((total - step) / 1.0, rel=0.17)


def test_jittered_update_times_give_a_smooth_rate() -> None:
    rng = random.Random(7)
    tracker, clock = _tracker()
    rate, now, total = 1.5, 0.0, 10_000
    speeds: list[float] = []
    while now < 600.0:
        now += rng.uniform(0.05, 6.0)
        clock.now = now
        tracker.feed(Progress(int(now * rate), total))
        if now > 90.0:
            speeds.append(tracker.speed or 0.0)
    assert all(abs(s - rate) / rate < 0.1 for s in speeds)


def test_restart_forgets_old_samples_and_never_goes_negative() -> None:
    tracker, clock = _tracker()
    for step in range(0, 401):
        clock.now = step * 0.5
        tracker.feed(Progress(step, 1_000))
    assert tracker.speed == pytest.approx(2.0)
    clock.now += 0.5
    tracker.feed(Progress(0, 1_000))  # the next chunk starts counting from 0
    assert tracker.restarts == 1
    assert tracker.speed is None and tracker.eta_seconds() is None
    for step in range(1, 11):
        clock.now += 1.0  # slower now: 1 step/s
        tracker.feed(Progress(step, 1_000))
    assert tracker.speed == pytest.approx(1.0)
    assert tracker.eta_seconds() == pytest.approx(990.0)


def test_after_a_restart_the_backend_rate_bridges_the_gap() -> None:
    tracker, clock = _tracker()
    tracker.feed(Progress(500, 1_000))
    clock.now = 10.0
    tracker.feed(Progress(510, 1_000))
    clock.now = 11.0
    tracker.feed(Progress(200, 1_000, rate=4.0))  # re-attached: resumed from a checkpoint
    assert tracker.speed == 4.0
    assert tracker.eta_seconds() == pytest.approx(200.0)


def test_stall_makes_the_eta_unknown_rather_than_almost_done() -> None:
    tracker, clock = _tracker(stall_after_s=30.0)
    for step in range(0, 11):
        clock.now = float(step)
        tracker.feed(Progress(step, 1_000))
    clock.now += 29.0
    assert not tracker.stalled() and tracker.eta_seconds() is not None
    clock.now += 2.0
    assert tracker.stalled() and tracker.eta_seconds() is None
    assert tracker.snapshot().stalled


def test_stall_threshold_adapts_to_a_slowly_polled_backend() -> None:
    tracker, clock = _tracker(stall_after_s=30.0)
    for i in range(5):
        clock.now = i * 60.0  # a cloud backend polled once a minute
        tracker.feed(Progress(i * 60, 10_000))
    clock.now += 90.0
    assert not tracker.stalled()


def test_random_streams_never_give_negative_or_absurd_etas() -> None:
    rng = random.Random(11)
    tracker, clock = _tracker(max_eta_s=86_400.0)
    step = 0
    for _ in range(3_000):
        clock.now += rng.choice([0.0, 0.001, 0.5, 3.0, 40.0])
        step = (
            rng.choice([step + 1, step + 5, max(0, step - 30), 0])
            if rng.random() < 0.1
            else step + 1
        )
        tracker.feed(Progress(step, 2_000))
        eta = tracker.eta_seconds()
        assert eta is None or 0.0 <= eta <= 86_400.0
        speed = tracker.speed
        assert speed is None or speed >= 0.0


def test_completion_and_failure() -> None:
    tracker, _ = _tracker()
    tracker.feed(Progress(10, 100))
    tracker.feed(Finished(("w.safetensors",)))
    assert tracker.eta_seconds() == 0.0 and tracker.percent == 100.0
    failed, _ = _tracker()
    failed.feed(Progress(10, 100))
    failed.feed(Failed("boom"))
    assert failed.eta_seconds() is None and failed.finished
    cancelled, _ = _tracker()
    cancelled.feed(StatusChanged(JobStatus.CANCELLED))
    assert cancelled.finished and cancelled.eta_seconds() is None


def test_unknown_total_means_unknown_percent_and_eta() -> None:
    tracker, clock = _tracker()
    for step in range(10):
        clock.now = float(step)
        tracker.feed(Progress(step))
    assert tracker.percent is None and tracker.eta_seconds() is None
    assert tracker.speed == pytest.approx(1.0)


def test_loss_current_ema_and_window() -> None:
    tracker, _ = _tracker(ema_alpha=0.5, loss_window=3)
    for step, value in enumerate([1.0, 0.0, 0.5, float("nan"), 0.25]):
        tracker.feed(Loss(step, value))
    assert tracker.current_loss == 0.25
    # EMA: 1.0 → 0.5 → 0.5 → (NaN skipped) → 0.375
    assert tracker.ema_loss == pytest.approx(0.375)
    assert tracker.mean_loss == pytest.approx((0.0 + 0.5 + 0.25) / 3)
    tracker.feed(Loss(5, float("nan")))
    assert math.isnan(tracker.current_loss or 0.0) and tracker.ema_loss == pytest.approx(0.375)


def test_snapshot_reads_everything_at_once() -> None:
    tracker, clock = _tracker()
    tracker.feed_many([Progress(0, 10), Loss(0, 1.0)])
    clock.now = 5.0
    tracker.feed_many([Progress(5, 10), Loss(5, 0.5)])
    snap = tracker.snapshot()
    assert (snap.step, snap.total, snap.percent, snap.speed, snap.eta_seconds) == (
        5,
        10,
        50.0,
        1.0,
        5.0,
    )
    assert snap.current_loss == 0.5 and not snap.finished and snap.restarts == 0


@pytest.mark.parametrize(
    "kwargs", [{"ema_alpha": 0.0}, {"ema_alpha": 1.5}, {"loss_window": 0}, {"speed_window_s": 0}]
)
def test_bad_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ProgressTracker(**kwargs)  # type: ignore[arg-type]
