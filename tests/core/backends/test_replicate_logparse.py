"""The Flux trainer's log → progress and loss (docs/protocols.md §3.7), with the lines the fake
trainer prints in the real format."""

from __future__ import annotations

import math

from lora_studio.core.backends.progress.replicate import TAIL_CHARS, LogReader, parse_bar
from lora_studio.core.jobs.events import Log, Loss, Progress
from tests.fakes import fake_replicate_trainer as trainer

SPEC_LINE = (
    "flux_train_replicate:  10%|█         | 100/1000 [01:23<12:30,  1.20it/s, "
    "lr: 4.0e-04 loss: 3.812e-01]"
)


def test_the_documented_bar() -> None:
    bar = parse_bar(SPEC_LINE)
    assert bar is not None
    assert (bar.step, bar.total) == (100, 1000)
    assert bar.rate == 1.2 and bar.remaining_s == 750.0
    assert bar.lr == 4e-4 and bar.loss == 0.3812


def test_slow_steps_nan_and_bars_of_other_phases() -> None:
    slow = parse_bar(
        "flux_train_replicate:   1%|          | 3/300 [00:09<14:51,  3.00s/it, lr: 1e-4 loss: nan]"
    )
    assert (
        slow is not None and slow.rate == 1 / 3 and slow.loss is not None and math.isnan(slow.loss)
    )
    assert (
        parse_bar("Loading checkpoint shards: 100%|██████████| 3/3 [00:04<00:00,  1.45s/it]")
        is None
    )
    first = parse_bar("flux_train_replicate:   0%|          | 0/1000 [00:00<?, ?it/s]")
    assert first is not None and first.step == 0 and first.loss is None and first.rate is None


def test_reader_emits_only_what_is_new_and_ignores_other_totals() -> None:
    reader = LogReader(steps=1000)
    dataset = trainer.ExtractedDataset(["a.jpg", "b.jpg"], {"a.jpg"}, {"a": "x"})
    pre = trainer.preamble(dataset, 1000)
    bars = [trainer.bar(s, 1000, 4e-4, s, 1.0) for s in range(1, 6)]
    log = "\n".join(pre + bars[:3]) + "\n"
    first = reader.feed(log)
    texts = [e.text for e in first if isinstance(e, Log)]
    assert "Starting train job" in texts and "input_images/a.jpg is already captioned" in texts
    assert [e.step for e in first if isinstance(e, Loss)] == [1, 2, 3]
    (progress,) = [e for e in first if isinstance(e, Progress)]
    assert progress.step == 3 and progress.total == 1000  # the 0/2 bar did not count
    # The next poll holds the whole log again plus two bars, the last one cut mid-line.
    log += bars[3] + "\n" + bars[4][:30]
    second = reader.feed(log)
    assert [e.step for e in second if isinstance(e, Loss)] == [4]
    assert not [e for e in second if isinstance(e, Log)]
    third = reader.feed(log[:-30] + bars[4] + "\n")
    assert [e.step for e in third if isinstance(e, Loss)] == [5]


def test_carriage_returns_split_lines_too() -> None:
    reader = LogReader(steps=10)
    events = reader.feed("\r".join(trainer.bar(s, 10, 1e-4, s, 1.0) for s in (1, 2)) + "\r\n")
    assert [e.step for e in events if isinstance(e, Loss)] == [1, 2]


def test_reattach_reads_only_the_tail_of_a_long_log() -> None:
    lines = [trainer.bar(s, 6000, 4e-4, s, 1.0) for s in range(1, 6001)]
    lines.insert(10, "Starting train job")
    log = "\n".join(lines) + "\n"
    assert len(log) > TAIL_CHARS
    reader = LogReader(steps=6000)
    events = reader.feed(log)
    losses = [e for e in events if isinstance(e, Loss)]
    assert losses[-1].step == 6000 and len(losses) < 1000  # only the tail was parsed
    assert [e for e in events if isinstance(e, Progress)][-1].step == 6000


def test_a_reattached_job_does_not_record_its_losses_twice() -> None:
    log = "\n".join(trainer.bar(s, 100, 4e-4, s, 1.0) for s in range(1, 41)) + "\n"
    events = LogReader(steps=100, recorded_through=30).feed(log)
    assert [e.step for e in events if isinstance(e, Loss)] == list(range(31, 41))
    assert [e.step for e in events if isinstance(e, Progress)] == [40]
