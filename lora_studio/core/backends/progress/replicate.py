"""Core/progress: Replicate — progress and loss from the Flux trainer's log (docs/protocols.md §3.7).

Replicate returns the *whole* log on every poll; `LogReader` keeps a cursor so each poll only
looks at what is new, and on a re-attach only the tail is read. The training bar looks like

    flux_train_replicate:  10%|█         | 100/1000 [01:23<12:30,  1.20it/s, lr: 4.0e-04 loss: 3.812e-01]

Other tqdm bars appear before it (model download, quantisation, captioning), so only bars with the
`flux_train_replicate:` prefix — and, when the requested steps are known, that total — count.
Lines are split on both `\\r` and `\\n`; a line without its newline yet is left for the next poll.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from lora_studio.core.backends.progress.tqdm import parse_clock, rate_per_second, split_lines
from lora_studio.core.jobs.events import JobEvent, Log, Loss, Progress

JOB_NAME = "flux_train_replicate"
_BAR = re.compile(
    rf"{JOB_NAME}:\s*(?P<pct>\d+)%\|[^|]*\|\s*(?P<n>\d+)/(?P<total>\d+)\s*"
    r"\[(?P<elapsed>[^<\]]*)(?:<(?P<left>[^,\]]*))?"
    r"(?:,\s*(?P<rate>[0-9.]+|\?)\s*(?P<unit>it/s|s/it))?"
    r"(?P<postfix>[^\]]*)\]"
)
_LR = re.compile(r"lr:\s*(?P<v>[-+0-9.eE]+|nan|inf)")
_LOSS = re.compile(r"loss:\s*(?P<v>[-+0-9.eE]+|nan|inf)", re.IGNORECASE)
TAIL_CHARS = 64 * 1024  # what a re-attach reads of a long log
LOG_LINES_ON_ATTACH = 40  # … and how many of its lines it shows


@dataclass(frozen=True)
class TrainBar:
    step: int
    total: int
    rate: float | None  # steps per second
    remaining_s: float | None
    lr: float | None
    loss: float | None


def _number(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_bar(line: str) -> TrainBar | None:
    """The last training bar in `line`, or None when it holds none."""
    matches = list(_BAR.finditer(line))
    if not matches:
        return None
    m = matches[-1]
    rate = rate_per_second(m.group("rate"), m.group("unit"))
    postfix = m.group("postfix") or ""
    lr = _LR.search(postfix)
    loss = _LOSS.search(postfix)
    return TrainBar(
        step=int(m.group("n")),
        total=int(m.group("total")),
        rate=rate,
        remaining_s=parse_clock(m.group("left")),
        lr=_number(lr.group("v")) if lr else None,
        loss=_number(loss.group("v")) if loss else None,
    )


@dataclass
class LogReader:
    """Turns successive full-log snapshots into new events. `steps`: the requested total."""

    steps: int | None = None
    recorded_through: int = 0  # a re-attached job's losses up to here are already on record
    seen: int = 0  # characters of the log already consumed
    last_step: int = 0
    loss_steps: set[int] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)  # every non-bar line, for `logs()`

    def feed(self, logs: str) -> list[JobEvent]:
        if len(logs) < self.seen:  # the log was replaced (never seen in practice): start over
            self.seen = 0
        attach = self.seen == 0 and len(logs) > TAIL_CHARS
        start = len(logs) - TAIL_CHARS if attach else self.seen
        end = max(logs.rfind("\n"), logs.rfind("\r")) + 1  # complete lines only
        if end <= start:
            return []
        chunk = logs[start:end]
        self.seen = end
        if attach:
            chunk = chunk.split("\n", 1)[-1]  # the first line is probably cut
        events: list[JobEvent] = []
        text_lines: list[str] = []
        best: TrainBar | None = None
        for line in split_lines(chunk):
            bar = parse_bar(line)
            if bar is None:
                text_lines.append(line)
                continue
            if self.steps and bar.total != self.steps:
                continue  # a bar of another phase that happens to share the name
            best = bar
            new = bar.step > self.recorded_through and bar.step not in self.loss_steps
            if bar.loss is not None and bar.step > 0 and new:
                self.loss_steps.add(bar.step)
                events.append(Loss(bar.step, bar.loss if math.isfinite(bar.loss) else math.nan))
        self.lines.extend(text_lines)
        del self.lines[:-5000]
        shown = text_lines[-LOG_LINES_ON_ATTACH:] if attach else text_lines
        events[:0] = [Log(line, "server") for line in shown]
        if best is not None and best.step >= self.last_step:
            self.last_step = best.step
            events.append(Progress(best.step, best.total, best.rate, best.remaining_s))
        return events
