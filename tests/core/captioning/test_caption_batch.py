"""Batch caption planners: pure, preview count, only changed captions in the plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.core.captioning.batch import (
    plan_dedupe,
    plan_find_replace,
    plan_normalise,
    plan_prefix_suffix,
    plan_remove_tag,
    plan_rename_tag,
    plan_sort_tags,
    plan_trigger_word,
)
from lora_studio.core.dataset.caption_store import CaptionStore
from lora_studio.core.errors import ConfigError

A, B, C, D = Path("a.png"), Path("b.png"), Path("c.png"), Path("d.png")


def test_trigger_word_add_and_remove() -> None:
    caps = {A: "red hair, smile", B: "ohwx, smile", C: "smile, OHWX", D: ""}
    plan = plan_trigger_word(caps, "ohwx")
    assert plan.count == 3 and "ohwx" in plan.label
    assert plan.changes == {A: "ohwx, red hair, smile", C: "ohwx, smile", D: "ohwx"}
    sentence = {A: "ohwx a man walking", B: "a man, ohwx", C: "ohwxyz, cat"}
    removed = plan_trigger_word(sentence, "ohwx", remove=True)
    assert removed.changes == {A: "a man walking", B: "a man"}
    assert plan_trigger_word({C: "ohwxyz, cat"}, "ohwx").changes == {C: "ohwx, ohwxyz, cat"}
    with pytest.raises(ConfigError):
        plan_trigger_word(caps, "  ")


def test_prefix_suffix_idempotent() -> None:
    caps = {A: "cat", B: "style of x, cat, hd"}
    plan = plan_prefix_suffix(caps, prefix="style of x, ", suffix=", hd")
    assert plan.changes == {A: "style of x, cat, hd"}


def test_find_replace_plain_regex_case() -> None:
    caps = {A: "a Cat and a cat", B: "dog", C: "cat.cat"}
    assert plan_find_replace(caps, "cat", "kitten").changes == {
        A: "a Cat and a kitten",
        C: "kitten.kitten",
    }
    assert plan_find_replace(caps, "cat", "kitten", case_sensitive=False).changes[A] == (
        "a kitten and a kitten"
    )
    assert plan_find_replace(caps, ".", "!").changes == {C: "cat!cat"}  # plain: no regex
    assert plan_find_replace(caps, r"(\w+)\.(\w+)", r"\2-\1", regex=True).changes == {C: "cat-cat"}
    assert plan_find_replace(caps, "zebra", "x").count == 0


def test_find_replace_invalid_regex_is_a_sentence() -> None:
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        plan_find_replace({A: "x"}, "(unclosed", "y", regex=True)
    with pytest.raises(ConfigError, match="replacement"):
        plan_find_replace({A: "x"}, "x", r"\3", regex=True)


def test_tag_remove_rename_sort_dedupe() -> None:
    caps = {A: "ohwx, Smile, red hair", B: "ohwx,red hair", C: "grin, smile"}
    assert plan_remove_tag(caps, "smile").changes == {A: "ohwx, red hair", C: "grin"}
    renamed = plan_rename_tag(caps, "smile", "grin")
    assert renamed.changes == {A: "ohwx, grin, red hair", C: "grin"}
    assert plan_sort_tags({A: "b, a, C"}).changes == {A: "a, b, C"}
    assert plan_sort_tags({A: "ohwx, b, a"}, keep_first=1).changes == {A: "ohwx, a, b"}
    assert plan_sort_tags({A: "a, b"}).count == 0
    assert plan_dedupe({A: "a, b, A, b", B: "x"}).changes == {A: "a, b"}


def test_plan_applies_as_one_undo_step(tmp_path: Path) -> None:
    for name in "abc":
        (tmp_path / f"{name}.png").write_bytes(b"x")
        (tmp_path / f"{name}.txt").write_text(f"{name}, smile")
    store = CaptionStore(tmp_path)
    caps = {tmp_path / f"{n}.png": store.read(tmp_path / f"{n}.png") for n in "abc"}
    plan = plan_trigger_word(caps, "ohwx")
    ticks: list[tuple[int, int]] = []
    assert (
        store.apply(plan.changes, label=plan.label, progress=lambda d, t: ticks.append((d, t))) == 3
    )
    assert ticks == [(1, 3), (2, 3), (3, 3)]
    assert CaptionStore(tmp_path).undo_label == plan.label
    assert len(CaptionStore(tmp_path).undo()) == 3
    assert (tmp_path / "a.txt").read_text() == "a, smile"


def test_normalise() -> None:
    caps = {A: "Red  Hair ,smile,,  ", B: "A  man\twalking", C: "red hair, smile"}
    assert plan_normalise(caps).changes == {A: "Red Hair, smile", B: "A man walking"}
    lower = plan_normalise(caps, lowercase=True)
    assert lower.changes[A] == "red hair, smile" and lower.count == 2 and "lower" in lower.label
