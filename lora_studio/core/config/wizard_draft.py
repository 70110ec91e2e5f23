"""Core: the Train wizard's draft — the dataset folder, preset and the settings the artist typed —
saved atomically so closing the window (or a crash) loses nothing (docs/architecture.md §6.1).

A missing or unreadable draft is simply no draft: the wizard starts empty and the broken file is
kept aside as `.broken` rather than deleted.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lora_studio.core.atomic_io import atomic_write_text

log = logging.getLogger(__name__)

DRAFT_FILE_NAME = "train-wizard-draft.json"
DRAFT_SCHEMA_VERSION = 1


class WizardDraft(BaseModel):
    model_config = ConfigDict(extra="ignore")

    schema_version: int = DRAFT_SCHEMA_VERSION
    folder: str = ""
    preset: str = ""
    edits: dict[str, str] = Field(default_factory=dict)  # field → text, as typed


def load_draft(config_dir: Path) -> WizardDraft:
    path = Path(config_dir) / DRAFT_FILE_NAME
    if not path.exists():
        return WizardDraft()
    try:
        return WizardDraft.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        try:
            path.replace(path.with_name(path.name + ".broken"))
        except OSError:
            pass
        log.warning("Train wizard draft %s was unreadable (%s); starting empty", path, exc)
        return WizardDraft()


def save_draft(config_dir: Path, draft: WizardDraft) -> None:
    atomic_write_text(Path(config_dir) / DRAFT_FILE_NAME, draft.model_dump_json(indent=2) + "\n")
