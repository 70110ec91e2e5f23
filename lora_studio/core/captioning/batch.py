"""Core/captioning: batch caption operations as pure planners — old captions in, new ones out.

A planner never touches the disk: it returns a `BatchPlan` holding only the captions that would
really change, so the view can show "this will change 42 captions" before anything happens, and
`CaptionStore.apply(plan.changes, label=plan.label)` writes them as one undo step.

Tag operations compare tags case- and whitespace-insensitively (`tags.tag_key`), and rebuild only
the captions they change (joined with `", "`), so untouched captions keep their exact formatting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lora_studio.core.captioning.tags import (
    dedupe_tags,
    join_tags,
    normalise_tag,
    split_tags,
    tag_key,
)
from lora_studio.core.errors import ConfigError


@dataclass(frozen=True)
class BatchPlan:
    """The captions a batch operation would change (`changes`), under an undo `label`."""

    changes: dict[Path, str] = field(default_factory=dict)
    label: str = ""

    @property
    def count(self) -> int:
        return len(self.changes)


def _plan(captions: Mapping[Path, str], label: str, transform: Callable[[str], str]) -> BatchPlan:
    changes: dict[Path, str] = {}
    for image, old in captions.items():
        new = transform(old)
        if new != old:
            changes[image] = new
    return BatchPlan(changes, label)


def _starts_with_word(text: str, word: str) -> bool:
    """Whether `text` begins with `word` as a whole tag/word (case-insensitive)."""
    head = text.lstrip()
    if head[: len(word)].casefold() != word.casefold():
        return False
    rest = head[len(word) :]
    return not rest or rest[0] in ",;" or rest[0].isspace()


def with_trigger(text: str, word: str, separator: str = ",") -> str:
    """`text` with `word` as its first tag: moved there if it appears later, added otherwise."""
    word = word.strip()
    if not word or _starts_with_word(text, word):
        return text
    key = tag_key(word)
    tags = split_tags(text, separator)
    if any(tag_key(t) == key for t in tags):
        return join_tags([word, *(t for t in tags if tag_key(t) != key)], separator)
    body = text.strip()
    return join_tags([word, body], separator) if body else word


def plan_trigger_word(
    captions: Mapping[Path, str], word: str, *, remove: bool = False, separator: str = ","
) -> BatchPlan:
    """Put `word` first in every caption (moving it if it appears later), or remove it."""
    word = word.strip()
    if not word:
        raise ConfigError("Type the trigger word first; it cannot be empty.")
    key = tag_key(word)

    def add(text: str) -> str:
        return with_trigger(text, word, separator)

    def drop(text: str) -> str:
        tags = split_tags(text, separator)
        kept = [t for t in tags if tag_key(t) != key]
        if len(kept) != len(tags):
            return join_tags(kept, separator)
        if _starts_with_word(text, word):  # sentence style: "ohwx a man walking"
            return text.lstrip()[len(word) :].lstrip(" ,;")
        return text

    if remove:
        return _plan(captions, f"Remove trigger word “{word}”", drop)
    return _plan(captions, f"Add trigger word “{word}”", add)


def plan_prefix_suffix(
    captions: Mapping[Path, str], *, prefix: str = "", suffix: str = ""
) -> BatchPlan:
    """Add literal text before/after each caption (not again where it is already there)."""

    def transform(text: str) -> str:
        if prefix and not text.startswith(prefix):
            text = prefix + text
        if suffix and not text.endswith(suffix):
            text = text + suffix
        return text

    return _plan(captions, "Add prefix/suffix", transform)


def compile_find(find: str, *, regex: bool, case_sensitive: bool) -> re.Pattern[str]:
    """The pattern find/replace uses; ConfigError with a sentence for an invalid expression."""
    if not find:
        raise ConfigError("Type the text to find first; it cannot be empty.")
    flags = 0 if case_sensitive else re.IGNORECASE
    try:
        return re.compile(find if regex else re.escape(find), flags)
    except re.error as exc:
        raise ConfigError(
            f"“{find}” is not a valid regular expression: {exc.msg}"
            + (f" at position {exc.pos}" if exc.pos is not None else "")
            + ". Fix it, or untick “Regular expression” to search for the text as typed."
        ) from exc


def plan_find_replace(
    captions: Mapping[Path, str],
    find: str,
    replace: str,
    *,
    regex: bool = False,
    case_sensitive: bool = True,
) -> BatchPlan:
    """Replace every match in every caption. Regex mode supports `\\1` group references."""
    pattern = compile_find(find, regex=regex, case_sensitive=case_sensitive)

    def transform(text: str) -> str:
        if regex:
            try:
                return pattern.sub(replace, text)
            except (re.error, IndexError) as exc:
                raise ConfigError(
                    f"The replacement “{replace}” is not valid for this expression: {exc}. "
                    "Use \\1, \\2… only for groups the expression has."
                ) from exc
        return pattern.sub(lambda _m: replace, text)

    return _plan(captions, f"Replace “{find}” with “{replace}”", transform)


def plan_remove_tag(captions: Mapping[Path, str], tag: str, *, separator: str = ",") -> BatchPlan:
    """Remove a tag from every caption that has it."""
    key = tag_key(tag)

    def transform(text: str) -> str:
        tags = split_tags(text, separator)
        kept = [t for t in tags if tag_key(t) != key]
        return text if len(kept) == len(tags) else join_tags(kept, separator)

    return _plan(captions, f"Remove tag “{tag.strip()}”", transform)


def plan_rename_tag(
    captions: Mapping[Path, str], old: str, new: str, *, separator: str = ","
) -> BatchPlan:
    """Rename a tag everywhere; if the new name is already in a caption it is not repeated."""
    old_key, new = tag_key(old), new.strip()
    if not new:
        return plan_remove_tag(captions, old, separator=separator)

    def transform(text: str) -> str:
        tags = split_tags(text, separator)
        if not any(tag_key(t) == old_key for t in tags):
            return text
        renamed = [new if tag_key(t) == old_key else t for t in tags]
        new_key = tag_key(new)
        seen = False
        kept: list[str] = []
        for t in renamed:  # dedupe only the renamed tag, keep everything else as it was
            if tag_key(t) == new_key:
                if seen:
                    continue
                seen = True
            kept.append(t)
        return join_tags(kept, separator)

    return _plan(captions, f"Rename tag “{old.strip()}” to “{new}”", transform)


def plan_sort_tags(
    captions: Mapping[Path, str], *, keep_first: int = 0, separator: str = ","
) -> BatchPlan:
    """Sort tags alphabetically (case-insensitive); `keep_first` leading tags (a trigger) stay."""

    def transform(text: str) -> str:
        tags = split_tags(text, separator)
        head, tail = tags[:keep_first], tags[keep_first:]
        ordered = head + sorted(tail, key=tag_key)
        return text if ordered == tags else join_tags(ordered, separator)

    return _plan(captions, "Sort tags", transform)


def plan_dedupe(captions: Mapping[Path, str], *, separator: str = ",") -> BatchPlan:
    """Remove repeated tags inside each caption (keeps the first)."""

    def transform(text: str) -> str:
        tags = split_tags(text, separator)
        kept = dedupe_tags(tags)
        return text if len(kept) == len(tags) else join_tags(kept, separator)

    return _plan(captions, "Remove duplicate tags", transform)


def plan_normalise(
    captions: Mapping[Path, str], *, lowercase: bool = False, separator: str = ","
) -> BatchPlan:
    """Clean spacing: one space inside tags, `", "` between them, no empty tags; optionally
    lower-case. A caption without the separator (a sentence) only has its spaces collapsed."""

    def transform(text: str) -> str:
        if separator in text:
            tags = [normalise_tag(t, lowercase=lowercase) for t in split_tags(text, separator)]
            return join_tags(tags, separator)
        return normalise_tag(text, lowercase=lowercase)

    label = "Normalise captions" + (" (lower-case)" if lowercase else "")
    return _plan(captions, label, transform)
