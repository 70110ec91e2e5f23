"""Core/training: do the captions suit the model family? Tag lists for Flux, said plainly.

Many SD 1.5 anime checkpoints learned from booru tags, and tag captions ("ohwx, 1girl, red hair,
smile") suit them. Flux reads prompts with a T5 text encoder made for natural language, and the
usual advice for Flux LoRAs is to caption in sentences (the auto-captioning of the Replicate
trainer LoRA Studio drives writes sentences). This is a warning, never a refusal: the artist may
have reasons. One function for the wizard's review and `lora-studio train`.
"""

from __future__ import annotations

from lora_studio.core.backends.base import DatasetSummary
from lora_studio.core.config.training_config import ModelFamily, TrainingConfig
from lora_studio.core.training.dataset_input import split_tags

_MIN_TAGS = 3  # "ohwx, a woman reading" is a trigger word and a sentence, not a tag list
_MAX_WORDS_PER_TAG = 3.0  # "red hair", "looking at viewer"
_SHARE = 0.5  # most captions, not the odd one


def is_tag_list(caption: str) -> bool:
    """Comma-separated short phrases with no sentence in them."""
    tags = split_tags(caption)
    if len(tags) < _MIN_TAGS or caption.rstrip().endswith((".", "!", "?")):
        return False
    words = sum(len(tag.split()) for tag in tags)
    return words / len(tags) <= _MAX_WORDS_PER_TAG


def caption_style_warning(config: TrainingConfig, dataset: DatasetSummary, remedy: str) -> str:
    """A sentence when most captions are tag lists for a Flux training, else ''. The GUI and
    the CLI give their own `remedy`."""
    if config.base_model_family is not ModelFamily.FLUX_DEV:
        return ""
    captions = [item.caption.strip() for item in dataset.items if item.caption.strip()]
    tagged = [caption for caption in captions if is_tag_list(caption)]
    if not captions or len(tagged) < _SHARE * len(captions):
        return ""
    example = tagged[0] if len(tagged[0]) <= 60 else tagged[0][:57].rstrip(", ") + "…"
    return (
        f"{len(tagged)} of {len(captions)} captions are tag lists (“{example}”). Flux reads "
        "prompts as sentences: captions like “ohwx, a woman with red hair reading in a garden” "
        f"train a LoRA that follows prompts better. {remedy}"
    )
