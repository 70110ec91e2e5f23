"""Core: counted nouns in English ("1 tag", "3 tags", "1 image", "2,000 pictures").

One helper so every layer (CLI, view-models, views) writes counts the same way and never
"file(s)". Irregular plurals are passed in (`plural(2, "batch", "batches")`).
"""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` and the noun, singular for exactly one: plural(1, "tag") == "1 tag"."""
    word = noun if count == 1 else (many if many is not None else _plural_of(noun))
    return f"{count:,} {word}"


def _plural_of(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"
