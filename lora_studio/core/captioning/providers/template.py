"""Core/captioning/providers: the template provider — no model, a caption from a pattern.

Placeholders: `{trigger}` (the trigger word), `{filename}` (the picture's name without extension),
`{name}` (the same in words: `_`/`-` as spaces, a copy's " (1)" dropped, and nothing at all for
the counters cameras and phones name pictures with — IMG_2003, DSC01234, PXL_20240312_…, a date
or a hash — which would make every caption carry a useless unique tag), `{folder}` (the concept: the folder name without a
kohya repeat prefix, `10_ohwx` → `ohwx`), `{existing}` (the current caption). Empty fields do not
leave stray commas behind ("{trigger}, {existing}" with no caption gives "ohwx"). Always available.
"""

from __future__ import annotations

import asyncio
import re
import string
from pathlib import Path
from typing import Any

from lora_studio.core.dataset.captions import read_caption_for
from lora_studio.core.dataset.scan import parse_concept_folder
from lora_studio.core.errors import ConfigError

FIELDS = ("trigger", "filename", "name", "folder", "existing")
DEFAULT_TEMPLATE = "{trigger}, {name}"
_SPACES = re.compile(r"[ \t]{2,}")
# Names a camera, a phone or a download gave the file: a counter, a date or a hash, no words.
_COUNTER_NAME = re.compile(
    r"(?:(?:img|dsc[fn]?|pxl|mvimg|vid|gopr|dji|sam|wp|p|_mg|image|photo|"
    r"screenshot|screen shot|signal|whatsapp image)[ _-]*)?[\d _.-]+(?:at[\d _.-]+)?"
    r"|[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|[0-9a-f]{16,}",
    re.IGNORECASE,
)
_COPY_SUFFIX = re.compile(r"\s*(?:\(\d+\)|[ _-]copy(?:[ _-]\d+)?)$", re.IGNORECASE)


def name_words(stem: str) -> str:
    """A file name as caption words ('red_dress-02' → 'red dress 02'); '' for a camera counter
    ('IMG_2003', 'PXL_20240312_101112345', '20240312_101112'), a hash, or a copy of one."""
    stem = _COPY_SUFFIX.sub("", stem.strip())
    if _COUNTER_NAME.fullmatch(stem):
        return ""
    return re.sub(r"[_\-]+", " ", stem).strip()


def check_template(template: str) -> None:
    """ConfigError naming the problem when `template` is not a valid pattern."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ConfigError(
            f"The caption template “{template}” is not valid ({exc}). Write placeholders as "
            "{trigger}, {filename}, {name}, {folder} or {existing}; double a brace to type one."
        ) from exc
    unknown = sorted({f for f in fields if f not in FIELDS})
    if unknown:
        raise ConfigError(
            f"The caption template uses an unknown placeholder {{{unknown[0]}}}. Available: "
            + ", ".join(f"{{{f}}}" for f in FIELDS)
            + "."
        )


def fill_template(template: str, image: Path, *, trigger: str = "", existing: str = "") -> str:
    image = Path(image)
    folder = image.parent.name
    concept = parse_concept_folder(folder)
    values = {
        "trigger": trigger,
        "filename": image.stem,
        "name": name_words(image.stem),
        "folder": concept[1] if concept else folder,
        "existing": existing.strip(),
    }
    text = _SPACES.sub(" ", template.format(**values)).strip()
    if "," in text:  # an empty field must not leave ", ," or a leading comma behind
        text = ", ".join(part.strip() for part in text.split(",") if part.strip())
    return text


class TemplateProvider:
    """Fills a caption from a pattern; the prompt is ignored."""

    kind = "template"

    def __init__(self, url: str | None = None, *, model: str | None = None, **options: Any) -> None:
        del url, model
        self.template = str(options.get("template") or DEFAULT_TEMPLATE)
        self.trigger = str(options.get("trigger") or "")
        check_template(self.template)

    async def available(self) -> tuple[bool, str]:
        return True, "The template needs no model and is always available."

    async def models(self) -> list[str]:
        return []

    async def caption(self, image: Path, prompt: str, **_: Any) -> str:
        del prompt
        found = await asyncio.to_thread(read_caption_for, Path(image))  # disk: not on the loop
        return fill_template(
            self.template, image, trigger=self.trigger, existing=found.text if found else ""
        )

    async def aclose(self) -> None:
        return None
