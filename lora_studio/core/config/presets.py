"""Core: presets — the built-in ones plus the artist's own, saved as JSON files.

User presets live one per file in `<config dir>/presets/<name>.json`:
    {"schema_version": 1, "name": "my_style", "title": "…", "description": "…", "config": {…}}
written atomically. Built-ins (see `builtin_presets.py`) are read-only: saving or deleting one
raises ConfigError. A broken user file never stops the others from loading: `load_presets`
returns the presets it could read plus one problem per file it could not, and `all_presets` (what
the self-test and the UI call) logs those problems. Importing a file validates it fully — JSON,
format version, every setting — and a ConfigError names the file and the reason.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from lora_studio.core.atomic_io import atomic_write_text
from lora_studio.core.config.builtin_presets import BUILTIN_PRESETS
from lora_studio.core.config.issues import issues_from_validation_error
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.errors import ConfigError, StorageError

log = logging.getLogger(__name__)

PRESET_SCHEMA_VERSION = 1
PRESETS_DIR_NAME = "presets"
_MAX_FILE_BYTES = 1_000_000  # a preset is ~1 kB; anything this big is not one
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class Preset(BaseModel):
    """A named, described training configuration. `builtin` is not stored in files."""

    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    description: str = ""
    builtin: bool = False
    config: TrainingConfig

    def to_file_dict(self) -> dict[str, Any]:
        return {
            "schema_version": PRESET_SCHEMA_VERSION,
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "config": self.config.model_dump(mode="json"),
        }


@dataclass
class PresetLoadResult:
    presets: list[Preset]
    problems: list[ConfigError] = field(default_factory=list)


def normalize_name(name: str) -> str:
    """'High Quality' → 'high_quality': what the CLI and file names use."""
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def check_name(name: str) -> str:
    normalized = normalize_name(name)
    if not _NAME_RE.match(normalized):
        raise ConfigError(
            f"{name!r} cannot be a preset name: use 1–64 letters, digits, '_' or '-', "
            "starting with a letter or digit."
        )
    return normalized


def presets_dir(config_dir: Path) -> Path:
    return Path(config_dir) / PRESETS_DIR_NAME


def builtin_presets() -> list[Preset]:
    """Fresh copies of the built-ins, so a caller editing one cannot change the others' view."""
    return [
        Preset(
            name=item.name,
            title=item.title,
            description=item.description,
            builtin=True,
            config=item.config.model_copy(deep=True),
        )
        for item in BUILTIN_PRESETS
    ]


def _builtin_names() -> set[str]:
    return {item.name for item in BUILTIN_PRESETS}


def read_preset_file(path: Path) -> Preset:
    """Read and fully validate one preset file; ConfigError names the file and the reason."""
    path = Path(path)
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            raise ConfigError(f"The preset file {path} is too large to be a preset.")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Could not read the preset file {path}: {exc}.") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"The preset file {path} is not valid JSON (line {exc.lineno}): {exc.msg}. "
            "It may be damaged; export the preset again."
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"The preset file {path} does not contain a preset (expected an object).")
    version = data.pop("schema_version", None)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ConfigError(
            f"The preset file {path} has no valid schema_version, so it is not a LoRA Studio preset."
        )
    if version > PRESET_SCHEMA_VERSION:
        raise ConfigError(
            f"The preset file {path} was made by a newer LoRA Studio (format {version}; this "
            f"version reads up to {PRESET_SCHEMA_VERSION}). Update LoRA Studio to use it."
        )
    data.pop("builtin", None)  # never trust a file claiming to be built-in
    try:
        preset = Preset.model_validate(data)
    except ValidationError as exc:
        reasons = "; ".join(str(issue) for issue in issues_from_validation_error(exc))
        raise ConfigError(f"The preset file {path} has invalid settings: {reasons}.") from exc
    try:
        preset.name = check_name(preset.name)
    except ConfigError as exc:
        raise ConfigError(f"The preset file {path}: {exc.user_message}") from exc
    return preset


def load_presets(config_dir: Path) -> PresetLoadResult:
    """Built-ins first, then every readable user preset (sorted by name), plus the problems."""
    result = PresetLoadResult(presets=builtin_presets())
    builtin = _builtin_names()
    folder = presets_dir(config_dir)
    if not folder.is_dir():
        return result
    user: dict[str, Preset] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            preset = read_preset_file(path)
        except ConfigError as exc:
            result.problems.append(exc)
            continue
        if preset.name in builtin or preset.name in user:
            result.problems.append(
                ConfigError(
                    f"The preset file {path} uses the name {preset.name!r}, which is already "
                    "taken; it was skipped. Rename it to use it."
                )
            )
            continue
        user[preset.name] = preset
    result.presets.extend(user[name] for name in sorted(user))
    return result


def all_presets(config_dir: Path) -> list[Preset]:
    """Every preset that can be used; unreadable user files are logged and left out."""
    result = load_presets(config_dir)
    for problem in result.problems:
        log.warning("%s", problem.user_message)
    return result.presets


def get_preset(name: str, config_dir: Path) -> Preset:
    """The preset called `name` (case and '-'/' ' vs '_' do not matter)."""
    wanted = normalize_name(name)
    presets = all_presets(config_dir)
    for preset in presets:
        if preset.name == wanted:
            return preset
    known = ", ".join(preset.name for preset in presets)
    raise ConfigError(f"There is no preset called {name!r}. Known presets: {known}.")


def _user_path(name: str, config_dir: Path) -> Path:
    return presets_dir(config_dir) / f"{name}.json"


def _refuse_builtin(name: str, action: str) -> None:
    if name in _builtin_names():
        raise ConfigError(
            f"{name!r} is a built-in preset and cannot be {action}; save your changes under "
            "another name."
        )


def save_user_preset(preset: Preset, config_dir: Path) -> Path:
    """Write `preset` to the user presets folder (replacing one of the same name)."""
    name = check_name(preset.name)
    _refuse_builtin(name, "overwritten")
    path = _user_path(name, config_dir)
    stored = preset.model_copy(update={"name": name, "builtin": False})
    atomic_write_text(path, json.dumps(stored.to_file_dict(), indent=2) + "\n")
    return path


def delete_user_preset(name: str, config_dir: Path) -> None:
    normalized = normalize_name(name)
    _refuse_builtin(normalized, "deleted")
    path = _user_path(normalized, config_dir)
    if not path.exists():
        raise ConfigError(f"There is no user preset called {name!r} to delete.")
    try:
        path.unlink()
    except OSError as exc:
        raise StorageError(f"Could not delete the preset file {path}: {exc.strerror}.") from exc


def import_preset_file(path: Path, config_dir: Path, *, overwrite: bool = False) -> Preset:
    """Validate a preset file from anywhere and add it to the user presets."""
    preset = read_preset_file(path)
    _refuse_builtin(preset.name, "replaced by an import")
    if not overwrite and _user_path(preset.name, config_dir).exists():
        raise ConfigError(
            f"A preset called {preset.name!r} already exists; delete or rename it before "
            f"importing {path}."
        )
    save_user_preset(preset, config_dir)
    return preset


def export_preset_file(preset: Preset | str, destination: Path, config_dir: Path) -> Path:
    """Write a preset (built-in or user, by object or name) to `destination` for sharing."""
    if isinstance(preset, str):
        preset = get_preset(preset, config_dir)
    destination = Path(destination)
    atomic_write_text(destination, json.dumps(preset.to_file_dict(), indent=2) + "\n")
    return destination
