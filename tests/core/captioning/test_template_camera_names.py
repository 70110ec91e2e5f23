"""The template's `{name}` gives words, not camera counters (issue 11 walk: phone photos captioned
with the default "{trigger}, {name}" each got a unique junk tag — "annaxyz, IMG 2003",
"annaxyz, PXL 20240312 101112345" — and the tag table filled with them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.core.captioning.providers.template import DEFAULT_TEMPLATE, fill_template


@pytest.mark.parametrize(
    "stem",
    [
        "IMG_2003",
        "img_003",
        "PXL_20240312_101112345",
        "MVIMG_20240101_101010",
        "DSC01234",
        "DSCF0001",
        "P1010001",
        "20240312_101112",
        "Screenshot 2024-01-02 at 10.11.12",
        "WhatsApp Image 2024-01-02 at 10.11.12",
        "3f2a9c1e-5b7d-4e8f-a1b2-c3d4e5f60718",
        "IMG_2003 (1)",
    ],
)
def test_camera_counters_add_nothing(stem: str) -> None:
    caption = fill_template(DEFAULT_TEMPLATE, Path(f"/data/anna/{stem}.jpg"), trigger="annaxyz")
    assert caption == "annaxyz"


@pytest.mark.parametrize(
    ("stem", "words"),
    [
        ("red_dress-02", "red dress 02"),
        ("beach (1)", "beach"),
        ("anna at home", "anna at home"),
        ("pic1", "pic1"),
        ("Sam", "Sam"),
    ],
)
def test_names_with_words_are_kept(stem: str, words: str) -> None:
    caption = fill_template(DEFAULT_TEMPLATE, Path(f"/data/anna/{stem}.png"), trigger="ohwx")
    assert caption == f"ohwx, {words}"
