"""Tag-list captions for a Flux training: a warning that says how many, shows one, and what to
do — and silence for SD 1.5/SDXL, sentences, or a few tag lists among sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.core.backends.base import DatasetSummary
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.training.caption_style import caption_style_warning, is_tag_list


@pytest.mark.parametrize(
    ("caption", "tags"),
    [
        ("ohwx, 1girl, red hair, smile, looking at viewer", True),
        ("ohwx,solo,outdoors,tree", True),
        ("ohwx, a woman with red hair reading in a garden", False),
        ("ohwx woman, red hair, smiling.", False),  # ends as a sentence
        ("red hair, smile", False),  # too short to call
        ("a photo of ohwx, standing in the rain at night, wearing a long coat and boots", False),
        ("", False),
    ],
)
def test_is_tag_list(caption: str, tags: bool) -> None:
    assert is_tag_list(caption) is tags


def _dataset(captions: list[str]) -> DatasetSummary:
    return DatasetSummary.from_pairs(
        Path("/d"), [(Path(f"/d/{i}.png"), caption) for i, caption in enumerate(captions)]
    )


FLUX = TrainingConfig(base_model_family="flux_dev", base_model="flux1-dev.safetensors")
SDXL = TrainingConfig(base_model_family="sdxl", base_model="sdxl.safetensors")
TAGS = "ohwx, 1girl, red hair, smile, looking at viewer, upper body, outdoors, tree, sky"


def test_flux_with_mostly_tag_lists_is_warned_with_a_count_an_example_and_the_remedy() -> None:
    dataset = _dataset([TAGS, TAGS, "ohwx, a woman in a red coat", ""])
    warning = caption_style_warning(FLUX, dataset, "Do this.")
    assert warning.startswith("2 of 3 captions are tag lists (“ohwx, 1girl, red hair, smile, ")
    assert "…”)" in warning  # a long example is cut
    assert warning.endswith("follows prompts better. Do this.")


def test_no_warning_for_other_families_sentences_or_a_minority_of_tag_lists() -> None:
    assert caption_style_warning(SDXL, _dataset([TAGS] * 5), "x") == ""
    sentences = ["ohwx, a woman with red hair reading in a garden"] * 3
    assert caption_style_warning(FLUX, _dataset([*sentences, TAGS]), "x") == ""
    assert caption_style_warning(FLUX, _dataset(["", ""]), "x") == ""
