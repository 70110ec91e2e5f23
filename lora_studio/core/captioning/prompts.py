"""Core/captioning: prompt presets for vision models (editable in the auto-caption dialog).

Both ask for exactly the caption and nothing else: chatty preambles ("Sure! Here is…") are also
removed by `postprocess.clean_caption`, but a model that is told up front wastes fewer tokens.
"""

from __future__ import annotations

TAGS_PRESET = "Tags (booru style)"
SENTENCE_PRESET = "Sentence"

PROMPT_PRESETS: dict[str, str] = {
    TAGS_PRESET: (
        "List the visible content of this image as comma-separated booru-style tags, most "
        "important first: subject, clothing, pose, expression, setting, lighting, style. Use "
        "lowercase, no numbering, no sentences. Reply with the tags only."
    ),
    SENTENCE_PRESET: (
        "Write one detailed sentence describing this image for a training caption: the subject, "
        "what they wear and do, the setting, the lighting and the style. Reply with the sentence "
        "only, without any introduction."
    ),
}

DEFAULT_PROMPT = PROMPT_PRESETS[SENTENCE_PRESET]
