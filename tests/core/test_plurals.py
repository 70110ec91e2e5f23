"""Counted nouns: singular for exactly one, never "(s)"."""

from __future__ import annotations

from lora_studio.core.plurals import plural


def test_plural_forms() -> None:
    assert plural(1, "tag") == "1 tag"
    assert plural(0, "tag") == "0 tags"
    assert plural(2, "image") == "2 images"
    assert plural(5, "repeat") == "5 repeats"
    assert plural(2, "batch") == "2 batches"
    assert plural(3, "entry") == "3 entries"
    assert plural(2, "day") == "2 days"
    assert plural(2_000, "picture") == "2,000 pictures"
    assert plural(2, "person", "people") == "2 people"
