"""Core/progress: the parser for kohya sd-scripts' console output (docs/protocols.md §4.5).

kohya's output is more than a bar: a banner with the total, `epoch N/M`, the `steps:` tqdm bar
(read with the shared `tqdm.parse_bar`; `avr_loss` in its postfix), `saving checkpoint: PATH`,
`model saved.` and errors that exit 0.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import PurePath

from lora_studio.core.backends.progress.tqdm import Bar, SegmentSplitter, parse_bar
from lora_studio.core.jobs.events import Checkpoint, JobEvent, Log, Loss, Progress

_TOTAL = re.compile(r"total optimization steps\s*/[^:]*:\s*(\d+)")
_EPOCHS = re.compile(r"num epochs\s*/[^:]*:\s*(\d+)")
_EPOCH = re.compile(r"^\s*epoch (\d+)/(\d+)\s*$")
_SAVING = re.compile(r"saving checkpoint:\s*(.+?\.(?:safetensors|ckpt|pt))\s*$")
_STEP_FILE = re.compile(r"-step(\d{8})\.[a-z]+$")
_EPOCH_FILE = re.compile(r"-(\d{6})\.[a-z]+$")
# Rich log lines: "[time] LEVEL  message   file.py:123", continuation lines indented.
_ANY_BAR = re.compile(r"\d+%\|.*\|\s*\d+/\d+")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+")
_NO_DATA = re.compile(r"No data found")


@dataclass
class KohyaOutput:
    """Everything read so far from one kohya run; `feed()` returns the new events.

    Feed stdout and stderr separately (`stream` = "stdout"/"stderr"): each keeps its own
    unfinished segment. The step of a checkpoint comes from its file name, so the order in which
    the two streams are read does not matter.
    """

    total: int | None = None
    epochs: int | None = None
    epoch: int = 0
    step: int = 0
    loss: float | None = None
    loss_step: int = 0
    nan_at: int | None = None  # first step whose average loss was NaN
    model_saved: bool = False
    no_data: bool = False
    final_file: str | None = None
    checkpoints: list[tuple[str, int | None, int | None]] = field(default_factory=list)
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=40))
    _splitters: dict[str, SegmentSplitter] = field(default_factory=dict)
    _pending_loss: tuple[int, float] | None = None

    def feed(self, stream: str, text: str) -> list[JobEvent]:
        splitter = self._splitters.setdefault(stream, SegmentSplitter())
        events: list[JobEvent] = []
        for segment in splitter.feed(text):
            events += self._segment(stream, segment)
        # A bar's latest update has no line end until the next one: show it now (reading it
        # again later changes nothing; text glued to it is read once the segment completes).
        parsed = parse_bar(splitter.tail)
        if parsed is not None and parsed[0].desc == "steps":
            events += self._steps(parsed[0])
        return events

    def flush(self) -> list[JobEvent]:
        events: list[JobEvent] = []
        for stream, splitter in self._splitters.items():
            for segment in splitter.flush():
                events += self._segment(stream, segment)
        return events + self._settle_loss()

    def _segment(self, stream: str, segment: str) -> list[JobEvent]:
        parsed = parse_bar(segment)
        events: list[JobEvent] = []
        if parsed is not None:
            bar, glued = parsed
            if bar.desc == "steps":
                events += self._steps(bar)
            if not glued.strip():
                return events
            segment = glued
        return events + self._line(stream, segment)

    def _steps(self, bar: Bar) -> list[JobEvent]:
        # kohya writes each step twice: first with the previous average, then with the new one.
        # So a step's loss is the last value written for it, known once the next step shows.
        events: list[JobEvent] = []
        self.total = bar.total or self.total
        if bar.n != self.step:
            events += self._settle_loss()
            self.step = bar.n
            events.append(Progress(bar.n, bar.total, bar.rate, bar.eta))
        raw = bar.postfix.get("avr_loss")
        if raw is None or bar.n <= 0:
            return events
        try:
            value = float(raw)
        except ValueError:
            return events
        if math.isnan(value) or math.isinf(value):
            if self.nan_at is None:
                self.nan_at = bar.n
            return events
        self._pending_loss = (bar.n, value)
        return events

    def _settle_loss(self) -> list[JobEvent]:
        pending, self._pending_loss = self._pending_loss, None
        if pending is None or pending[0] == self.loss_step:
            return []
        self.loss_step, self.loss = pending
        return [Loss(*pending)]

    def _line(self, stream: str, line: str) -> list[JobEvent]:
        text = line.rstrip()
        stripped = text.strip()
        if match := _TOTAL.search(stripped):
            self.total = int(match.group(1))
            return [Progress(self.step, self.total)]
        if match := _EPOCHS.search(stripped):
            self.epochs = int(match.group(1))
        if match := _EPOCH.match(stripped):
            self.epoch = int(match.group(1))
            return [Log(f"Epoch {match.group(1)} of {match.group(2)}", stream)]
        if match := _SAVING.search(stripped):
            return self._saved(match.group(1))
        if "model saved." in stripped:
            self.model_saved = True
        if _NO_DATA.search(stripped):
            self.no_data = True
        if stream == "stderr" and not _ANY_BAR.search(stripped):
            self.errors.append(_DATE.sub("", stripped))
        return [Log(stripped, stream)]

    def _saved(self, path: str) -> list[JobEvent]:
        name = PurePath(path).name
        if match := _STEP_FILE.search(name):
            step = int(match.group(1))
            self.checkpoints.append((path, step, None))
            return [Checkpoint(path, step=step)]
        if match := _EPOCH_FILE.search(name):
            epoch = int(match.group(1))
            self.checkpoints.append((path, None, epoch))
            return [Checkpoint(path, epoch=epoch)]
        self.final_file = path
        return [Log(f"Saved the final LoRA: {path}", "stdout")]

    def error_summary(self) -> str:
        """The reason in the trainer's own words: the exception line, else the last errors."""
        lines = [line for line in self.errors if line]
        for line in reversed(lines):
            if re.match(r"^[A-Za-z_.]*(Error|Exception|Interrupt)\b.*", line) or "error:" in line:
                return line
        for line in reversed(lines):
            if line.startswith("ERROR") or "No data found" in line:
                return line
        return lines[-1] if lines else ""

    def error_detail(self) -> str:
        return "\n".join(self.errors)
