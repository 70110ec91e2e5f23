"""Core: `Estimate`, a number with an honest range and the assumptions behind it.

Every estimate (VRAM, duration, cost) is a point value inside a low–high range plus the sentences
that explain where it comes from, so the review screen can show "about 9 GB (8–12 GB)" and a
"why?" tooltip instead of a falsely precise figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    unit: str  # "GB", "s" or "USD"
    assumptions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"estimate {self.value} lies outside its range {self.low}–{self.high}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": round(self.value, 4),
            "low": round(self.low, 4),
            "high": round(self.high, 4),
            "unit": self.unit,
            "assumptions": list(self.assumptions),
        }

    def scaled(self, factor: float, unit: str, extra: list[str] | None = None) -> Estimate:
        """The same estimate multiplied by `factor` (e.g. seconds → dollars)."""
        return Estimate(
            value=self.value * factor,
            low=self.low * factor,
            high=self.high * factor,
            unit=unit,
            assumptions=[*self.assumptions, *(extra or [])],
        )


def format_duration(seconds: float) -> str:
    """'45 s', '12 min', '2 h 05 min', '3 d 4 h' — what a person reads at a glance."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def format_estimate(estimate: Estimate) -> str:
    """'about 9.4 GB (7.7–12.2 GB)', '$2.53 ($1.90–$3.80)', 'about 38 min (27 min – 57 min)'."""
    if estimate.unit == "s":
        low, value, high = (
            format_duration(v) for v in (estimate.low, estimate.value, estimate.high)
        )
        return f"about {value} ({low} – {high})"
    if estimate.unit == "USD":
        return f"${estimate.value:.2f} (${estimate.low:.2f}–${estimate.high:.2f})"
    return f"about {estimate.value:.1f} {estimate.unit} ({estimate.low:.1f}–{estimate.high:.1f} {estimate.unit})"
