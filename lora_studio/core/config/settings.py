"""Core: application settings (pydantic), saved as JSON with `schema_version`, written atomically.

Secrets never live here: tokens go through `core.secrets` (keyring / environment).
"""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lora_studio.core.atomic_io import atomic_write_text

log = logging.getLogger(__name__)

SETTINGS_SCHEMA_VERSION = 1
# A proxy token in front of a remote ComfyUI: keychain entry name and environment variable.
COMFYUI_TOKEN_SECRET = "comfyui_proxy_token"
COMFYUI_TOKEN_ENV = "LORA_STUDIO_COMFYUI_TOKEN"
SETTINGS_FILE_NAME = "settings.json"


class Theme(StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


class Settings(BaseModel):
    """Everything the artist can set in the Settings page (no secrets)."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    schema_version: int = SETTINGS_SCHEMA_VERSION
    theme: Theme = Theme.SYSTEM
    last_dataset_dir: str | None = None
    recent_datasets: list[str] = Field(default_factory=list)
    thumbnail_workers: int = Field(default=2, ge=1, le=16)
    comfyui_url: str = "http://127.0.0.1:8188"
    # Plain http:// to a server on another machine sends the dataset unencrypted: opt-in only.
    comfyui_allow_insecure_http: bool = False
    output_dir: str | None = None  # where finished LoRAs go; None = Documents/LoRA Studio

    def backend_settings(self) -> list[dict[str, object]]:
        """Settings for `core.backends.registry.build_backend`, one per configured backend."""
        return [
            {
                "kind": "comfyui",
                "url": self.comfyui_url,
                "allow_insecure_http": self.comfyui_allow_insecure_http,
                # Only a name: the token itself lives in the keychain or the environment.
                "token": {
                    "secret": COMFYUI_TOKEN_SECRET,
                    "env": COMFYUI_TOKEN_ENV,
                    "header": "Authorization",
                    "scheme": "Bearer",
                    "optional": True,
                },
            }
        ]


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
