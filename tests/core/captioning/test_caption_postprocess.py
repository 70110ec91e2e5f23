"""Post-processing of model answers: cleanup, trigger first, truncation at boundaries."""

from __future__ import annotations

import pytest

from lora_studio.core.captioning.postprocess import (
    clean_caption,
    postprocess,
    truncate_chars,
    truncate_tokens,
)
from lora_studio.core.dataset.tokens import estimate_clip_tokens


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  A cat on a sofa.  ", "A cat on a sofa."),
        ("Sure! Here is the caption: a cat on a sofa", "a cat on a sofa"),
        ('"a cat on a sofa"', "a cat on a sofa"),
        ("Caption: **a cat** on a sofa", "a cat on a sofa"),
        ("1girl\nred hair\nsmiling", "1girl, red hair, smiling"),
        ("- red hair\n- smiling,\n- outdoors", "red hair, smiling, outdoors"),
        (
            "A woman stands in a field.\nThe sky is blue.",
            "A woman stands in a field. The sky is blue.",
        ),
        ("```\nred hair, smiling\n```", "red hair, smiling"),
        ("red hair , , smiling ,", "red hair, smiling"),
    ],
)
def test_clean_caption(raw: str, clean: str) -> None:
    assert clean_caption(raw) == clean


def test_truncation_keeps_whole_tags_and_words() -> None:
    tags = "ohwx, red hair, smiling, outdoors, blue sky, long dress"
    short = truncate_tokens(tags, 7)
    assert short == "ohwx, red hair, smiling" and estimate_clip_tokens(short) <= 7
    assert truncate_chars(tags, 20) == "ohwx, red hair"
    assert truncate_chars("a woman walking through a field", 16) == "a woman walking"
    assert truncate_tokens("short", 75) == "short"


def test_postprocess_order() -> None:
    assert postprocess("Here is the caption: red hair, smiling", trigger="ohwx") == (
        "ohwx, red hair, smiling"
    )
    assert postprocess("red hair", existing="ohwx, portrait", trigger="ohwx") == (
        "ohwx, portrait, red hair"
    )
    long = ", ".join(f"tag{i}" for i in range(40))
    out = postprocess(long, trigger="ohwx", max_tokens=10)
    assert out.startswith("ohwx, ") and estimate_clip_tokens(out) <= 10
    assert postprocess("  keep  ", cleanup=False) == "keep"


def test_style_tags_follow_the_trigger_and_survive_truncation() -> None:
    out = postprocess(
        "a woman walking through a long field of flowers at dusk",
        trigger="ohwx",
        style_tags="watercolor, flat colors",
        max_tokens=8,
    )
    assert out.startswith("ohwx, watercolor, flat colors") and estimate_clip_tokens(out) <= 8
    assert postprocess("cat", style_tags=" , ") == "cat"
