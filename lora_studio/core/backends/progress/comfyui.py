"""Core/progress: ComfyUI — parse the native trainer's tqdm console lines into step, total, rate and loss.

ComfyUI 0.3.64's TrainLoraNode reports no per-step websocket progress; its only live signal is
the tqdm bar it writes to the console, which ComfyUI forwards as `logs` events after
`PATCH /internal/logs/subscribe` (docs/protocols.md §2.4). A line looks like

    \\rTraining LoRA:  50%|█████     | 3/6 [00:01<00:01,  2.23it/s, loss=2.1912]

The counter counts *iterations* (steps × gradient accumulation); the rate may be `it/s` or, for
slow steps, `s/it`; before the first update it is `?it/s`. The postfix loss is the loss of the
iteration numbered by the counter (tqdm sets the postfix just before advancing the bar).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lora_studio.core.backends.progress.tqdm import parse_clock, rate_per_second

_BAR = re.compile(
    r"Training LoRA:\s*(?P<pct>\d+)%\|[^|]*\|\s*(?P<n>\d+)/(?P<total>\d+)\s*"
    r"\[(?P<elapsed>[^<\]]*)<(?P<remaining>[^,\]]*)"
    r"(?:,\s*(?P<rate>[0-9.]+|\?)\s*(?P<unit>it/s|s/it))?"
    r"(?:,\s*loss=(?P<loss>[-+0-9.eE]+|nan|inf))?\s*\]"
)


@dataclass(frozen=True)
class TqdmUpdate:
    """One parsed bar: `n` of `total` iterations; `rate` in iterations per second; `elapsed` and
    `remaining` in seconds as tqdm printed them (its own clock; None while it shows `?`)."""

    n: int
    total: int
    rate: float | None
    loss: float | None
    elapsed: float | None = field(default=None, compare=False)
    remaining: float | None = field(default=None, compare=False)


def split_console_chunks(text: str) -> Iterator[str]:
    """Split a console write into lines; `\\r` (tqdm redraw) separates lines too."""
    for piece in re.split(r"[\r\n]+", text):
        piece = piece.strip()
        if piece:
            yield piece


def parse_tqdm(line: str) -> TqdmUpdate | None:
    """Parse the last `Training LoRA:` bar in `line`, or return None if it holds none."""
    matches = list(_BAR.finditer(line))
    if not matches:
        return None
    m = matches[-1]
    rate = rate_per_second(m.group("rate"), m.group("unit"))
    loss_text = m.group("loss")
    loss = float(loss_text) if loss_text is not None else None
    return TqdmUpdate(
        int(m.group("n")),
        int(m.group("total")),
        rate,
        loss,
        parse_clock(m.group("elapsed")),
        parse_clock(m.group("remaining")),
    )


def is_training_bar(line: str) -> bool:
    return "Training LoRA:" in line


@dataclass
class TrainingLogTracker:
    """Turns a stream of tqdm updates for one prompt into new optimizer steps and losses.

    `grad_accumulation` maps iterations to optimizer steps. Repeated redraws of the same
    counter produce nothing new; a loss is reported once per step.
    """

    grad_accumulation: int = 1
    last_step: int = 0
    last_loss_step: int = 0
    rate: float | None = None  # optimizer steps per second, tqdm's own measure
    remaining: float | None = None  # seconds tqdm expects this bar still needs

    def feed(self, update: TqdmUpdate) -> tuple[int | None, tuple[int, float] | None]:
        """Return (new step or None, (step, loss) or None) for one update."""
        acc = max(1, self.grad_accumulation)
        step = update.n // acc
        if update.rate is not None:
            self.rate = update.rate / acc
        if update.rate:
            # What tqdm's `<remaining` shows, unrounded: it prints whole seconds, so two fast
            # steps left would read 00:00. Before its first measurement (`?it/s`) there is none.
            self.remaining = max(0, update.total - update.n) / update.rate
        new_step = None
        if step > self.last_step:
            self.last_step = step
            new_step = step
        loss = None
        # The postfix belongs to iteration n; with accumulation only whole steps count.
        whole_step = update.n >= 1 and update.n % acc == 0
        if update.loss is not None and whole_step and step > self.last_loss_step:
            self.last_loss_step = step
            loss = (step, update.loss)
        return new_step, loss
