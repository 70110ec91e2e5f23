"""Tag utilities and caption length (characters and approximate CLIP tokens)."""

from __future__ import annotations

import pytest

from lora_studio.core.captioning.tags import (
    caption_length,
    dedupe_tags,
    join_tags,
    normalise_tag,
    over_budget,
    split_tags,
    tag_frequency,
)


def test_split_and_join() -> None:
    assert split_tags(" ohwx,  red hair ,, smile ,") == ["ohwx", "red hair", "smile"]
    assert split_tags("a | b|c", "|") == ["a", "b", "c"]
    assert split_tags("") == []
    assert join_tags(["ohwx", "red hair"]) == "ohwx, red hair"
    assert join_tags(["a", "b"], "|") == "a| b"
    assert join_tags(["a", "b"], " ") == "a b"
    assert join_tags(["a", "", "b"], ";") == "a; b"


def test_normalise_and_dedupe() -> None:
    assert normalise_tag("  Red \t  Hair ") == "Red Hair"
    assert normalise_tag("Red  Hair", lowercase=True) == "red hair"
    assert dedupe_tags(["Red hair", "smile", "red  HAIR", "Smile", "cat"]) == [
        "Red hair",
        "smile",
        "cat",
    ]


def test_tag_frequency_counts_captions_not_repeats() -> None:
    captions = ["ohwx, smile, smile", "ohwx, Red hair", "OHWX, red hair", ""]
    assert tag_frequency(captions) == [("ohwx", 3), ("Red hair", 2), ("smile", 1)]


# Counts from CLIP's real BPE tokenizer (openai/clip-vit-large-patch14), without start/end markers.
@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("a photo of a cat", 5),
        ("1girl, solo, long hair", 7),  # "1" "girl" "," "solo" "," "long" "hair"
        ("a man walking on the beach at sunset", 8),
        ("masterpiece, best quality", 4),  # masterpiece is one token in CLIP's vocabulary
    ],
)
def test_caption_length_close_to_clip(text: str, tokens: int) -> None:
    chars, estimate = caption_length(text)
    assert chars == len(text)
    # The documented approximation: within ±15 %, rounded up to at least one token.
    assert abs(estimate - tokens) <= max(1, round(tokens * 0.15))


def test_over_budget() -> None:
    assert not over_budget("ohwx, red hair")
    assert over_budget(", ".join(["tag"] * 40))  # 40 words + 39 commas = 79 tokens
