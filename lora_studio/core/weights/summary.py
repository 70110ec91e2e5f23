"""Core/weights: one-line, human-readable forms of metadata values.

kohya stores whole JSON documents inside metadata strings (`ss_tag_frequency` can be tens of KB,
`modelspec.thumbnail` a base64 image). The CLI and the GUI show a summary instead; the raw value
stays available through `LoraInfo.metadata` and `inspect --json`.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

SUMMARY_LIMIT = 120
TOP_TAGS = 8


def summarize_metadata_value(key: str, value: str, limit: int = SUMMARY_LIMIT) -> str:
    """A single line of at most about `limit` characters describing `value`."""
    if key == "ss_tag_frequency":
        summary = _tag_frequency(_json(value))
        if summary:
            return summary
    if key == "ss_dataset_dirs":
        summary = _dataset_dirs(_json(value))
        if summary:
            return summary
    flat = " ".join(value.split())
    if len(flat) <= limit:
        return flat
    if value.startswith("data:"):
        kind = value[5:].split(";", 1)[0] or "binary"
        return f"embedded {kind} ({len(value) * 3 // 4 // 1024:,} KB)"
    parsed = _json(value)
    if isinstance(parsed, dict):
        keys = ", ".join(str(k) for k in list(parsed)[:5])
        more = ", …" if len(parsed) > 5 else ""
        return f"JSON object with {len(parsed)} keys: {keys}{more}"
    if isinstance(parsed, list):
        return f"JSON list of {len(parsed)} items"
    return f"{flat[:limit].rstrip()}… ({len(value):,} characters)"


def _json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return None


def _tag_frequency(parsed: Any) -> str | None:
    if not isinstance(parsed, dict) or not all(isinstance(v, dict) for v in parsed.values()):
        return None
    totals: Counter[str] = Counter()
    for tags in parsed.values():
        for tag, count in tags.items():
            if isinstance(count, int):
                totals[str(tag).strip()] += count
    folders = f"{len(parsed)} folder{'s' if len(parsed) != 1 else ''}"
    if not totals:
        return f"{folders}, no tags"
    top = ", ".join(f"{tag} ({count})" for tag, count in totals.most_common(TOP_TAGS))
    more = ", …" if len(totals) > TOP_TAGS else ""
    return f"{folders}, {len(totals)} tags: {top}{more}"


def _dataset_dirs(parsed: Any) -> str | None:
    if not isinstance(parsed, dict) or not all(isinstance(v, dict) for v in parsed.values()):
        return None
    parts = [
        f"{name} ({info.get('img_count', '?')} images × {info.get('n_repeats', '?')} repeats)"
        for name, info in parsed.items()
    ]
    return "; ".join(parts) if parts else "none"
