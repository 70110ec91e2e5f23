"""Core/captioning: post-processing of a model's answer into a training caption.

Order: `clean_caption` (one line, no chatty preamble, bullets, quotes or markdown) → combine with
the existing caption in append mode → style tags in front → trigger word first
(`batch.with_trigger`) → repeated tags dropped → truncate to a CLIP-token or character limit at a
tag or word boundary (the trigger and the style tags, being first, survive).

Why one line: kohya reads only the first line of a caption file, so a model's list of tags on
separate lines would train on its first tag alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lora_studio.core.captioning.batch import with_trigger
from lora_studio.core.captioning.tags import dedupe_tags, join_tags, split_tags
from lora_studio.core.dataset.tokens import estimate_clip_tokens

_PREAMBLES = (
    re.compile(r"^(?:sure|certainly|of course|okay|ok)\b[^\n:]*?[.:!,]\s*", re.IGNORECASE),
    re.compile(r"^here(?: is|'s| are)\b[^\n:]*:\s*", re.IGNORECASE),
    re.compile(r"^(?:caption|tags|description|answer)\s*:\s*", re.IGNORECASE),
)
_FENCE = re.compile(r"^```[a-z]*\s*|\s*```$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_EMPHASIS = re.compile(r"\*\*|__")
_QUOTES = "\"'“”‘’`"


def clean_caption(text: str) -> str:
    """Turn a model's answer into a clean one-line caption."""
    text = _FENCE.sub("", text.strip()).strip()
    for _ in range(3):  # "Sure! Here is the caption: ..." has two layers
        for pattern in _PREAMBLES:
            text = pattern.sub("", text, count=1).strip()
    lines = [_BULLET.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > 1 and all(len(line.split()) <= 4 and not line.endswith(".") for line in lines):
        text = ", ".join(line.rstrip(",") for line in lines)  # a tag per line
    else:
        text = " ".join(lines)
    text = _EMPHASIS.sub("", text).strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+,", ",", text)
    text = re.sub(r",(?:\s*,)+", ",", text)
    return text.strip(" ,")


def truncate_tokens(text: str, max_tokens: int, separator: str = ",") -> str:
    """Cut `text` to at most `max_tokens` approximate CLIP tokens at a tag or word boundary."""
    if max_tokens <= 0 or estimate_clip_tokens(text) <= max_tokens:
        return text
    return _shorten(text, lambda t: estimate_clip_tokens(t) <= max_tokens, separator)


def truncate_chars(text: str, max_chars: int, separator: str = ",") -> str:
    """Cut `text` to at most `max_chars` characters at a tag or word boundary."""
    if max_chars <= 0 or len(text) <= max_chars:
        return text
    return _shorten(text, lambda t: len(t) <= max_chars, separator)


def _shorten(text: str, fits: Callable[[str], bool], separator: str) -> str:
    if separator in text:
        tags = split_tags(text, separator)
        while len(tags) > 1 and not fits(join_tags(tags, separator)):
            tags.pop()
        text = join_tags(tags, separator)
        if fits(text):
            return text
    words = text.split()
    while len(words) > 1 and not fits(" ".join(words)):
        words.pop()
    return " ".join(words).rstrip(" ,;:")


def postprocess(
    raw: str,
    *,
    existing: str | None = None,
    trigger: str | None = None,
    max_tokens: int | None = None,
    max_chars: int | None = None,
    cleanup: bool = True,
    separator: str = ",",
    style_tags: str | None = None,
) -> str:
    """The caption to save for a model's answer `raw` (see the module docstring).

    `style_tags` ("watercolor, flat colors") go right after the trigger word, ahead of the
    model's text, so a token limit cuts the model's last words rather than them.
    """
    text = clean_caption(raw) if cleanup else raw.strip()
    glue = separator if separator.isspace() else separator + " "
    if existing is not None and existing.strip():
        text = existing.strip().rstrip(separator + " ") + glue + text if text else existing.strip()
    if style_tags and style_tags.strip(" " + separator):
        text = style_tags.strip(" " + separator) + (glue + text if text else "")
    if trigger:
        text = with_trigger(text, trigger, separator)
    if cleanup and separator in text:
        tags = split_tags(text, separator)
        kept = dedupe_tags(tags)  # "ohwx, ohwx, …" from a template or a chatty model
        if len(kept) != len(tags):
            text = join_tags(kept, separator)
    if max_tokens:
        text = truncate_tokens(text, max_tokens, separator)
    if max_chars:
        text = truncate_chars(text, max_chars, separator)
    return text
