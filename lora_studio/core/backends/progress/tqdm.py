"""Core/progress: the tqdm reading every engine's parser shares.

tqdm writes a bar as `\\r`-prefixed segments with no newline until it closes; other writers' lines
get glued to the end of the last segment. `SegmentSplitter` turns a byte stream's text into
complete segments (split on `\\r` and `\\n`, an unfinished tail kept for the next chunk);
`split_lines` does the same for text that is already complete; `parse_bar` reads one bar
(`desc: pct%|…| n/total [elapsed<eta, rate, postfix]`) from the start of a segment and returns
what is glued after it. `parse_clock` and `rate_per_second` read tqdm's clock (`MM:SS`,
`H:MM:SS`, `1d, H:MM:SS`) and rate (`it/s`, or `s/it` for slow steps) for the engines whose bars
carry their own prefix (ComfyUI's `Training LoRA:`, Replicate's `flux_train_replicate:`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_BAR = re.compile(
    r"(?P<desc>[^\r\n|]*?):\s+(?P<pct>\d+)%\|[^|]*\|\s*(?P<n>\d+)/(?P<total>\d+)\s*"
    r"\[(?P<elapsed>[^<\]]*)<(?P<eta>[^,\]]*)(?:,\s*(?P<rate>[^,\]]+))?(?:,\s*(?P<post>[^\]]*))?\]"
)
_SPLIT = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Bar:
    desc: str
    n: int
    total: int
    rate: float | None  # iterations per second
    eta: float | None  # seconds
    postfix: dict[str, str]


class SegmentSplitter:
    """Feed text chunks; get complete segments (`\\r`/`\\n` separated) in arrival order."""

    def __init__(self) -> None:
        self._tail = ""

    def feed(self, text: str) -> list[str]:
        parts = _SPLIT.split(self._tail + text)
        self._tail = parts.pop()
        return [p for p in parts if p.strip()]

    @property
    def tail(self) -> str:
        return self._tail

    def flush(self) -> list[str]:
        tail, self._tail = self._tail, ""
        return [tail] if tail.strip() else []


def _seconds(text: str) -> float | None:
    text = text.strip()
    if not text or "?" in text:
        return None
    total = 0.0
    try:
        for part in text.split(":"):
            total = total * 60 + float(part)
    except ValueError:
        return None
    return total


def _rate(text: str | None) -> float | None:
    if not text:
        return None
    match = re.match(r"\s*([0-9.]+)\s*(it/s|s/it)", text)
    if not match:
        return None
    value = float(match.group(1))
    if value <= 0:
        return None
    return value if match.group(2) == "it/s" else 1.0 / value


def _postfix(text: str | None) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in (text or "").split(","):
        if "=" in item:
            key, _, value = item.partition("=")
            values[key.strip()] = value.strip()
    return values


def parse_bar(segment: str) -> tuple[Bar, str] | None:
    """The bar at the start of `segment` and the text glued after it, or None."""
    match = _BAR.match(segment.lstrip("\x1b[A"))
    if match is None:
        return None
    bar = Bar(
        desc=match.group("desc").strip(),
        n=int(match.group("n")),
        total=int(match.group("total")),
        rate=_rate(match.group("rate")),
        eta=_seconds(match.group("eta")),
        postfix=_postfix(match.group("post")),
    )
    return bar, segment[match.end() :]


def parse_clock(text: str | None) -> float | None:
    """tqdm's `MM:SS` / `H:MM:SS` / `1d, H:MM:SS` → seconds; None for `?` or anything odd."""
    if not text:
        return None
    text = text.strip()
    days = 0
    if "d," in text:
        head, _, text = text.partition("d,")
        if not head.strip().isdigit():
            return None
        days = int(head)
        text = text.strip()
    parts = text.split(":")
    if not parts or not all(part.isdigit() for part in parts) or len(parts) > 3:
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return float(days * 86_400 + seconds)


def rate_per_second(value: str | None, unit: str | None) -> float | None:
    """tqdm's rate as iterations per second: `2.5 it/s` → 2.5, `4.0 s/it` → 0.25; None for `?`."""
    if not value or value == "?":
        return None
    number = float(value)
    if unit != "s/it":
        return number
    return 1.0 / number if number > 0 else None


def split_lines(text: str) -> Iterator[str]:
    """Complete text as lines; `\\r` (a tqdm redraw) separates lines too. Blank ones dropped,
    trailing spaces stripped."""
    for piece in re.split(r"[\r\n]+", text):
        piece = piece.rstrip()
        if piece.strip():
            yield piece
