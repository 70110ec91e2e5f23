"""Shared by `train` and `jobs attach`: print a running job's events for people or as JSON lines.

Human output is throttled (a line when the percentage moves or every few seconds); JSON output is
one object per event, `{"event": "progress", …}`, for scripts. Everything printed passes through
`core.redact` (known secret shapes and every configured secret value): a server's error text may
quote a proxy header or a token back.
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Any, TextIO

from lora_studio.core.jobs import (
    Checkpoint,
    Failed,
    Finished,
    JobEvent,
    Log,
    Loss,
    Progress,
    ProgressTracker,
    Sample,
    StatusChanged,
    format_clock,
)
from lora_studio.core.jobs.events import NOTICE_STREAM
from lora_studio.core.redact import redact


def event_to_dict(event: JobEvent) -> dict[str, Any]:
    if isinstance(event, Progress):
        return {"event": "progress", "step": event.step, "total": event.total, "rate": event.rate}
    if isinstance(event, Loss):
        value: float | None = event.value if math.isfinite(event.value) else None
        return {"event": "loss", "step": event.step, "value": value}
    if isinstance(event, Log):
        return {"event": "log", "text": event.text, "stream": event.stream}
    if isinstance(event, Checkpoint):
        return {
            "event": "checkpoint",
            "location": event.location,
            "step": event.step,
            "epoch": event.epoch,
        }
    if isinstance(event, Sample):
        return {
            "event": "sample",
            "step": event.step,
            "prompt": event.prompt,
            "path": event.path,
            "with_lora": event.with_lora,
        }
    if isinstance(event, StatusChanged):
        return {"event": "status", "status": event.status.value, "message": event.message}
    if isinstance(event, Finished):
        return {"event": "finished", "outputs": list(event.outputs)}
    return {"event": "failed", "message": event.message, "detail": event.detail}


class _Redacting:
    """A text stream that masks secrets in everything written to it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(redact(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class EventPrinter:
    """Prints events as they arrive; `verbose` also prints the backend's log lines."""

    def __init__(self, *, as_json: bool, verbose: bool = False, out: TextIO | None = None) -> None:
        self.as_json = as_json
        self.verbose = verbose
        self.out: Any = _Redacting(out or sys.stdout)
        self.tracker = ProgressTracker()
        self.job_id: str | None = None  # set once known: notices say how to follow it later
        self._download_percent = -1
        self._download_at = 0.0
        self._last_percent = -1
        self._last_print = 0.0
        self._open_line = False

    def emit(self, payload: dict[str, Any]) -> None:
        """A non-event line (plan, submission) in the current format."""
        if self.as_json:
            print(json.dumps(payload, ensure_ascii=False), file=self.out, flush=True)
        elif "text" in payload:
            print(payload["text"], file=self.out, flush=True)

    def __call__(self, event: JobEvent) -> None:
        self.tracker.feed(event)
        if self.as_json:
            print(json.dumps(event_to_dict(event), ensure_ascii=False), file=self.out, flush=True)
            return
        if isinstance(event, Progress | Loss):
            self._progress_line()
            return
        if self._open_line:
            print(file=self.out)
            self._open_line = False
        if isinstance(event, Progress | Loss):
            pass
        elif isinstance(event, Checkpoint):
            step = f" at step {event.step}" if event.step is not None else ""
            print(f"Checkpoint{step}: {event.location}", file=self.out, flush=True)
        elif isinstance(event, Sample):
            what = f"step {event.step}" if event.with_lora else "without the LoRA"
            print(f"Sample ({what}): {event.path}", file=self.out, flush=True)
        elif isinstance(event, StatusChanged):
            message = f" — {event.message}" if event.message else ""
            print(f"Status: {event.status.value}{message}", file=self.out, flush=True)
        elif isinstance(event, Log) and event.stream == NOTICE_STREAM:
            hint = ""
            if self.job_id and "answering again" not in event.text:
                hint = (
                    f" If you stop waiting, the job is still kept: `lora-studio jobs attach "
                    f"{self.job_id}` follows it again later."
                )
            print(f"Note: {event.text}{hint}", file=self.out, flush=True)
        elif isinstance(event, Log) and self.verbose:
            print(f"  | {event.text}", file=self.out, flush=True)
        elif isinstance(event, Finished):
            for output in event.outputs:
                print(f"Saved: {output}", file=self.out, flush=True)
        elif isinstance(event, Failed):
            print(f"Failed: {event.message}", file=self.out, flush=True)

    def download_progress(self, name: str, done: int, total: int | None) -> None:
        """A download's progress (`core.backends.http.DOWNLOAD_PROGRESS`): a line when the
        percentage moves on a terminal, else every 5 s; nothing in JSON mode."""
        if self.as_json:
            return
        now = time.monotonic()
        percent = int(done * 100 / total) if total else -1
        interactive = self.out.isatty()
        if interactive and percent == self._download_percent and now - self._download_at < 1:
            return
        if not interactive and now - self._download_at < 5 and done != total:
            return
        self._download_percent, self._download_at = percent, now
        size = f"{_mb(done)} of {_mb(total)}" if total else _mb(done)
        share = f"{percent}% " if total else ""
        line = f"Downloading {name}: {share}({size})"
        if interactive:
            print("\r" + line.ljust(78), end="", file=self.out, flush=True)
            self._open_line = done != total
            if done == total:
                print(file=self.out)
        else:
            print(line, file=self.out, flush=True)

    def _progress_line(self) -> None:
        snapshot = self.tracker.snapshot()
        percent = int(snapshot.percent) if snapshot.percent is not None else -1
        now = time.monotonic()
        interactive = self.out.isatty()
        if interactive:
            # One line rewritten in place, at most five times a second.
            if now - self._last_print < 0.2 and percent != 100:
                return
        elif percent // 5 == self._last_percent // 5 and now - self._last_print < 10:
            return
        self._last_percent, self._last_print = percent, now
        head = f"[{percent:3d}%] " if percent >= 0 else "[  ?%] "
        parts = [f"step {snapshot.step}" + (f"/{snapshot.total}" if snapshot.total else "")]
        if snapshot.current_loss is not None:
            parts.append(f"loss {snapshot.current_loss:.4f}")
        if snapshot.speed:
            parts.append(
                f"{snapshot.speed:.2f} it/s"
                if snapshot.speed >= 1
                else f"{1 / snapshot.speed:.1f} s/it"
            )
        if snapshot.eta_seconds is not None:
            parts.append(f"ETA {format_clock(snapshot.eta_seconds)}")
        line = head + " · ".join(parts)
        if interactive:
            print("\r" + line.ljust(78), end="", file=self.out, flush=True)
            self._open_line = True
        else:
            print(line, file=self.out, flush=True)


def _mb(count: int | None) -> str:
    value = (count or 0) / 2**20
    return f"{value:.1f} MB" if value >= 0.1 else f"{count or 0:,} bytes"
