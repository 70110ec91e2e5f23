"""The seam every engine plugs into: one registry entry per kind, typed settings per configured
backend (migrated from the old flat `comfyui_*` fields), state saved before work is created."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lora_studio.core.backends.base import DatasetFolder, DatasetItem, DatasetSummary
from lora_studio.core.backends.comfyui.entry import ComfyUISettings
from lora_studio.core.backends.kohya.entry import KohyaSettings
from lora_studio.core.backends.registry import (
    backend_kinds,
    get_kind,
    kind_names,
    parse_settings,
)
from lora_studio.core.config.estimates import estimate_training
from lora_studio.core.config.settings import (
    SETTINGS_SCHEMA_VERSION,
    Settings,
    load_settings,
    save_settings,
)
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.errors import ConfigError


def test_every_kind_has_one_entry_with_a_settings_model_and_a_factory() -> None:
    kinds = backend_kinds()
    assert "comfyui" in kind_names() and "kohya" in kind_names()
    for entry in kinds:
        assert entry.title and entry.description
        default = entry.default_settings()
        assert default.kind == entry.kind
        assert parse_settings(default.model_dump(mode="json")) == default


def test_version_1_settings_file_migrates_to_typed_backends(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(
        json.dumps(
            {
                "schema_version": 1,
                "theme": "dark",
                "comfyui_url": "https://comfy.example.org",
                "comfyui_allow_insecure_http": True,
            }
        )
    )
    settings = load_settings(tmp_path)
    assert settings.theme.value == "dark"
    assert settings.schema_version == SETTINGS_SCHEMA_VERSION
    comfy = parse_settings(settings.backend_of_kind("comfyui"))
    assert isinstance(comfy, ComfyUISettings)
    assert comfy.url == "https://comfy.example.org" and comfy.allow_insecure_http
    assert comfy.token is not None and comfy.token.secret == "comfyui_proxy_token"
    save_settings(tmp_path, settings)
    stored = json.loads((tmp_path / "settings.json").read_text())
    assert "comfyui_url" not in stored and stored["backends"][0]["url"] == comfy.url
    assert load_settings(tmp_path) == settings  # the migrated file reads back the same


def test_several_backends_each_typed_and_unknown_kinds_survive() -> None:
    settings = Settings(
        backends=[
            {"kind": "comfyui", "name": "home", "url": "http://127.0.0.1:8188"},
            {"kind": "comfyui", "name": "studio", "url": "https://gpu.example.org"},
            {"kind": "kohya", "sd_scripts": "/opt/sd-scripts", "trainer_args": ["--xformers"]},
            {"kind": "from-the-future", "anything": 1},
        ]
    )
    typed = [parse_settings(item) for item in settings.backends[:3]]
    assert [t.label for t in typed] == ["home", "studio", "kohya"]
    assert isinstance(typed[2], KohyaSettings) and typed[2].trainer_args == ["--xformers"]
    assert settings.backends[3] == {"kind": "from-the-future", "anything": 1}
    settings.put_backend({**settings.backends[1], "url": "https://gpu2.example.org"})
    assert settings.backends[1]["url"] == "https://gpu2.example.org"
    assert len(settings.backends) == 4


def test_secrets_are_refused_in_settings_and_typos_are_named() -> None:
    with pytest.raises(ConfigError, match="sd_script"):
        parse_settings({"kind": "kohya", "sd_script": "/opt"})
    with pytest.raises(ConfigError, match="Unknown training backend"):
        get_kind("mystery")


def test_estimates_read_local_or_cloud_from_the_registry() -> None:
    config = TrainingConfig(base_model="x.safetensors", max_steps=100)
    for entry in backend_kinds():
        estimate = estimate_training(config, 10, backend=entry.kind)
        assert (estimate.cost is None) == entry.local
    with pytest.raises(ValueError, match="unknown backend"):
        estimate_training(config, 10, backend="mystery")


def test_dataset_summary_carries_folders_and_their_repeats(tmp_path: Path) -> None:
    a = DatasetFolder("10_cat", tmp_path / "10_cat", 10, (DatasetItem(tmp_path / "a.png", "a"),))
    b = DatasetFolder(
        "2_dog",
        tmp_path / "2_dog",
        2,
        (DatasetItem(tmp_path / "b.png", "b"), DatasetItem(tmp_path / "c.png", "c")),
    )
    summary = DatasetSummary.from_folders(tmp_path, [a, b])
    assert summary.image_count == 3
    assert summary.samples_per_epoch(config_repeats=5) == 10 + 4
    flat = DatasetSummary.from_pairs(tmp_path, [(tmp_path / "a.png", "a")])
    assert flat.folders[0].repeats is None and flat.samples_per_epoch(config_repeats=5) == 5
