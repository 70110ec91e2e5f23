"""For the composition roots (app.py and the CLI commands): build a backend with the folders of
this computer filled in. A backend that keeps files here (kohya's runs) gets the user's data folder
when its settings name none — `core/` never looks user folders up itself (tests/test_layering.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lora_studio import paths
from lora_studio.core.backends.base import TrainingBackend
from lora_studio.core.backends.registry import BackendSettings, build_backend, parse_settings


def with_work_dir(settings: Mapping[str, Any] | BackendSettings) -> BackendSettings:
    """The parsed settings; an empty `work_dir` (kinds that have one) becomes the data folder's."""
    parsed = parse_settings(settings)
    if "work_dir" in type(parsed).model_fields and not getattr(parsed, "work_dir", ""):
        parsed = parsed.model_copy(update={"work_dir": str(paths.backend_work_dir(parsed.kind))})
    return parsed


def build_local_backend(settings: Mapping[str, Any] | BackendSettings) -> TrainingBackend:
    """`build_backend` for this computer (see the module docstring); ConfigError as it raises."""
    return build_backend(with_work_dir(settings))
