"""Core: application settings (pydantic), saved as JSON with `schema_version`, written atomically.

Secrets never live here: tokens go through `core.secrets` (keyring / environment).
"""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lora_studio.core.atomic_io import atomic_write_text

log = logging.getLogger(__name__)

# 2: the flat `comfyui_*` fields became `backends`, one typed entry per configured backend.
SETTINGS_SCHEMA_VERSION = 2
SETTINGS_FILE_NAME = "settings.json"


class Theme(StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


def _default_backends() -> list[dict[str, Any]]:
    return [{"kind": "comfyui"}]


class Settings(BaseModel):
    """Everything the artist can set in the Settings page (no secrets).

    `backends` holds one plain dict per configured backend, each validated by its kind's settings
    model in `core.backends.registry` (several of a kind may exist: two ComfyUI servers). Kinds
    this version does not know are kept as they are, so a newer file survives an older app.
    """

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    schema_version: int = SETTINGS_SCHEMA_VERSION
    theme: Theme = Theme.SYSTEM
    last_dataset_dir: str | None = None
    recent_datasets: list[str] = Field(default_factory=list)
    thumbnail_workers: int = Field(default=2, ge=1, le=16)
    backends: list[dict[str, Any]] = Field(default_factory=_default_backends, validate_default=True)
    output_dir: str | None = None  # where finished LoRAs go; None = Documents/LoRA Studio
    datasets_dir: str | None = None  # "New dataset" makes folders here; None = paths default
    # Auto-caption: the provider used last, and each provider's server address and model (by
    # provider kind). Keys are never here: keychain or environment (see core.secrets).
    caption_provider: str = "template"
    caption_urls: dict[str, str] = Field(default_factory=dict)
    caption_models: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        return migrate_settings(data) if isinstance(data, dict) else data

    @field_validator("backends")
    @classmethod
    def _typed_backends(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from lora_studio.core.backends.registry import kind_names, parse_settings
        from lora_studio.core.errors import ConfigError

        known = set(kind_names())
        typed = []
        for item in value:
            if item.get("kind") in known:
                try:
                    item = parse_settings(item).model_dump(mode="json")
                except ConfigError as exc:
                    # Kept as written: building that backend says what is wrong, the rest of
                    # the settings (and the other backends) still load.
                    log.warning("Backend settings %s kept unchecked: %s", item, exc.user_message)
            typed.append(item)
        return typed

    def backend_settings(self) -> list[dict[str, Any]]:
        """Settings for `core.backends.registry.build_backend`, one per configured backend."""
        return [dict(item) for item in self.backends]

    def backend_of_kind(self, kind: str) -> dict[str, Any]:
        """The first configured backend of `kind`, or that kind's defaults."""
        for item in self.backends:
            if item.get("kind") == kind:
                return dict(item)
        from lora_studio.core.backends.registry import get_kind

        return get_kind(kind).default_settings().model_dump(mode="json")

    def put_backend(self, settings: dict[str, Any]) -> None:
        """Replace the configured backend with the same kind and name, or add it."""
        name = settings.get("name", "")
        items = list(self.backends)
        for i, item in enumerate(items):
            if item.get("kind") == settings.get("kind") and item.get("name", "") == name:
                items[i] = settings
                break
        else:
            items.append(settings)
        self.backends = items


def migrate_settings(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older settings file up to the current schema (never loses a value).

    Version 1 kept one ComfyUI server as `comfyui_url` + `comfyui_allow_insecure_http`; they
    become the first entry of `backends`, with the proxy token still named, not stored.
    """
    data = dict(data)
    url = data.pop("comfyui_url", None)
    insecure = data.pop("comfyui_allow_insecure_http", None)
    if "backends" not in data and (url is not None or insecure is not None):
        entry: dict[str, Any] = {"kind": "comfyui"}
        if url is not None:
            entry["url"] = url
        if insecure is not None:
            entry["allow_insecure_http"] = bool(insecure)
        data["backends"] = [entry]
    data["schema_version"] = SETTINGS_SCHEMA_VERSION
    return data


def load_settings(config_dir: Path) -> Settings:
    """Read settings; a missing file gives defaults, a broken one is kept aside and replaced.

    A corrupt file is renamed to `settings.json.broken` (never deleted) so nothing is lost and the
    app still starts.
    """
    path = Path(config_dir) / SETTINGS_FILE_NAME
    if not path.exists():
        return Settings()
    try:
        return Settings.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        broken = path.with_name(path.name + ".broken")
        try:
            path.replace(broken)
        except OSError:
            pass
        log.warning(
            "Settings file %s was unreadable (%s); kept as %s, using defaults", path, exc, broken
        )
        return Settings()


def save_settings(config_dir: Path, settings: Settings) -> None:
    path = Path(config_dir) / SETTINGS_FILE_NAME
    atomic_write_text(path, settings.model_dump_json(indent=2) + "\n")
