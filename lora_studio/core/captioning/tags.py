"""Core/captioning: tag-style captions — split, join, normalise, dedupe, frequency, length.

A tag-style caption is a list separated by commas (booru style: `ohwx, 1girl, red hair`). The
separator is configurable; joining puts one space after a punctuation separator, which is how
kohya's `shuffle_caption`/`keep_tokens` and most taggers write them.

Length is reported in characters and in approximate CLIP tokens (`core.dataset.tokens`), because
Stable Diffusion's text encoder reads only 75 tokens of a caption; the estimate is documented and
tested there and against a few known counts in `tests/core/captioning/test_tags.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from lora_studio.core.dataset.tokens import CLIP_TOKEN_BUDGET, estimate_clip_tokens

__all__ = [
    "CLIP_TOKEN_BUDGET",
    "caption_length",
    "dedupe_tags",
    "join_tags",
    "normalise_tag",
    "split_tags",
    "tag_frequency",
    "tag_key",
]

_SPACES = re.compile(r"\s+")


def split_tags(text: str, separator: str = ",") -> list[str]:
    """The tags of a caption: split on `separator`, whitespace stripped, empty parts dropped."""
    if not separator:
        separator = ","
    return [part.strip() for part in text.split(separator) if part.strip()]


def join_tags(tags: Sequence[str], separator: str = ",") -> str:
    """Join tags; a punctuation separator gets one space after it (`", "`)."""
    if not separator:
        separator = ","
    glue = separator if separator.isspace() or separator.endswith(" ") else separator + " "
    return glue.join(tag for tag in tags if tag)


def normalise_tag(tag: str, *, lowercase: bool = False) -> str:
    """Collapse runs of whitespace to one space and strip; optionally lower-case."""
    tag = _SPACES.sub(" ", tag).strip()
    return tag.lower() if lowercase else tag


def tag_key(tag: str) -> str:
    """The identity used to compare tags: whitespace- and case-insensitive."""
    return normalise_tag(tag).casefold()


def dedupe_tags(tags: Sequence[str]) -> list[str]:
    """Drop repeated tags (case- and whitespace-insensitive), keeping the first spelling."""
    seen: set[str] = set()
    kept: list[str] = []
    for tag in tags:
        key = tag_key(tag)
        if key and key not in seen:
            seen.add(key)
            kept.append(tag)
    return kept


def tag_frequency(captions: Iterable[str], separator: str = ",") -> list[tuple[str, int]]:
    """How many captions contain each tag, most common first (ties alphabetical).

    A tag counted once per caption even if repeated in it; spelling shown is the first seen.
    """
    counts: dict[str, int] = {}
    spelling: dict[str, str] = {}
    for caption in captions:
        for tag in dedupe_tags(split_tags(caption, separator)):
            key = tag_key(tag)
            counts[key] = counts.get(key, 0) + 1
            spelling.setdefault(key, normalise_tag(tag))
    return sorted(((spelling[k], n) for k, n in counts.items()), key=lambda t: (-t[1], t[0]))


def caption_length(text: str) -> tuple[int, int]:
    """(characters, approximate CLIP tokens) of a caption."""
    return len(text), estimate_clip_tokens(text)


def over_budget(text: str, budget: int = CLIP_TOKEN_BUDGET) -> bool:
    """Whether the text encoder would cut this caption off (approximately)."""
    return estimate_clip_tokens(text) > budget
