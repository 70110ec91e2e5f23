"""Presets: built-ins, user files (atomic, versioned), import/export, corrupt files, read-only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lora_studio.core.config.presets import (
    PRESET_SCHEMA_VERSION,
    Preset,
    all_presets,
    builtin_presets,
    delete_user_preset,
    export_preset_file,
    get_preset,
    import_preset_file,
    load_presets,
    presets_dir,
    read_preset_file,
    save_user_preset,
)
from lora_studio.core.config.training_config import ModelFamily, TrainingConfig
from lora_studio.core.errors import ConfigError


def user_preset(name: str = "my_style", **config: object) -> Preset:
    return Preset(
        name=name,
        title="My style",
        description="Ink drawings.",
        config=TrainingConfig(**{"rank": 24, **config}),  # type: ignore[arg-type]
    )


def test_builtins_match_the_product_description(tmp_path: Path) -> None:
    presets = {p.name: p for p in all_presets(tmp_path)}
    assert list(presets) == ["sdxl", "sd15", "fast", "high_quality", "flux_dev"]
    facts = {
        name: (p.config.base_model_family, p.config.resolution, p.config.rank)
        for name, p in presets.items()
    }
    assert facts["sdxl"] == (ModelFamily.SDXL, 1024, 32)
    assert facts["sd15"] == (ModelFamily.SD15, 512, 16)
    assert facts["fast"][1:] == (512, 8) and presets["fast"].config.epochs == 5
    assert facts["high_quality"][1:] == (768, 64) and presets["high_quality"].config.epochs == 20
    flux = presets["flux_dev"].config
    assert (flux.base_model_family, flux.resolution, flux.rank) == (ModelFamily.FLUX_DEV, 1024, 16)
    assert (flux.learning_rate, flux.max_steps, flux.effective_alpha) == (4e-4, 1000, 16)
    assert all(p.builtin and p.title and p.description for p in presets.values())


def test_builtins_are_fresh_copies() -> None:
    first = builtin_presets()[0]
    first.config.rank = 8
    assert builtin_presets()[0].config.rank == 32


def test_save_load_round_trip_with_schema_version(tmp_path: Path) -> None:
    path = save_user_preset(user_preset(), tmp_path)
    assert path == presets_dir(tmp_path) / "my_style.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema_version"] == PRESET_SCHEMA_VERSION
    assert data["config"]["rank"] == 24
    assert "builtin" not in data
    loaded = get_preset("my_style", tmp_path)
    assert loaded.config == user_preset().config
    assert not loaded.builtin
    assert [p.name for p in all_presets(tmp_path)][-1] == "my_style"
    assert not list(presets_dir(tmp_path).glob(".*"))  # no temp files left behind


def test_save_replaces_an_existing_user_preset(tmp_path: Path) -> None:
    save_user_preset(user_preset(), tmp_path)
    save_user_preset(user_preset(rank=48), tmp_path)
    assert get_preset("my_style", tmp_path).config.rank == 48


def test_names_are_normalized_and_checked(tmp_path: Path) -> None:
    save_user_preset(user_preset(name="Ink Style"), tmp_path)
    assert get_preset("ink-style", tmp_path).name == "ink_style"
    assert get_preset("HIGH QUALITY", tmp_path).name == "high_quality"
    with pytest.raises(ConfigError, match="cannot be a preset name"):
        save_user_preset(user_preset(name="../evil"), tmp_path)


def test_unknown_preset_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        get_preset("nope", tmp_path)
    assert "sdxl, sd15, fast, high_quality, flux_dev" in info.value.user_message


def test_builtins_are_read_only(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="built-in"):
        save_user_preset(user_preset(name="sdxl"), tmp_path)
    with pytest.raises(ConfigError, match="built-in"):
        delete_user_preset("sdxl", tmp_path)
    assert not presets_dir(tmp_path).exists() or not list(presets_dir(tmp_path).iterdir())


def test_delete_user_preset(tmp_path: Path) -> None:
    save_user_preset(user_preset(), tmp_path)
    delete_user_preset("my_style", tmp_path)
    assert "my_style" not in [p.name for p in all_presets(tmp_path)]
    with pytest.raises(ConfigError, match="no user preset"):
        delete_user_preset("my_style", tmp_path)


def test_export_then_import_elsewhere(tmp_path: Path) -> None:
    source, target = tmp_path / "a", tmp_path / "b"
    save_user_preset(user_preset(), source)
    exported = export_preset_file("my_style", tmp_path / "share" / "style.json", source)
    imported = import_preset_file(exported, target)
    assert imported.name == "my_style"
    assert get_preset("my_style", target).config.rank == 24


def test_builtins_can_be_exported(tmp_path: Path) -> None:
    exported = export_preset_file("flux_dev", tmp_path / "flux.json", tmp_path)
    assert read_preset_file(exported).config.max_steps == 1000


def test_import_refuses_builtin_names_and_existing_ones(tmp_path: Path) -> None:
    file = tmp_path / "x.json"
    export_preset_file("sdxl", file, tmp_path)
    with pytest.raises(ConfigError, match="built-in"):
        import_preset_file(file, tmp_path)
    save_user_preset(user_preset(), tmp_path)
    export_preset_file("my_style", file, tmp_path)
    with pytest.raises(ConfigError, match="already exists"):
        import_preset_file(file, tmp_path)
    assert import_preset_file(file, tmp_path, overwrite=True).name == "my_style"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def valid_file_dict(**changes: object) -> dict[str, object]:
    data = user_preset().to_file_dict()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "does not contain a preset"),
        (
            json.dumps({k: v for k, v in valid_file_dict().items() if k != "schema_version"}),
            "no valid schema_version",
        ),
        (json.dumps(valid_file_dict(schema_version=99)), "newer LoRA Studio"),
        (json.dumps(valid_file_dict(config={"rank": 999})), "rank: must be between 4 and 128"),
        (json.dumps(valid_file_dict(name="no/slash")), "cannot be a preset name"),
    ],
)
def test_corrupt_or_wrong_files_name_the_file(tmp_path: Path, content: str, reason: str) -> None:
    path = write(tmp_path / "bad.json", content)
    with pytest.raises(ConfigError) as info:
        import_preset_file(path, tmp_path / "cfg")
    assert str(path) in info.value.user_message
    assert reason in info.value.user_message


def test_a_file_claiming_to_be_builtin_is_not_trusted(tmp_path: Path) -> None:
    path = write(tmp_path / "p.json", json.dumps(valid_file_dict(builtin=True)))
    assert read_preset_file(path).builtin is False


def test_a_broken_user_file_does_not_stop_the_others(tmp_path: Path) -> None:
    save_user_preset(user_preset(name="good"), tmp_path)
    write(presets_dir(tmp_path) / "broken.json", "{oops")
    write(presets_dir(tmp_path) / "dup.json", json.dumps(valid_file_dict(name="sdxl")))
    result = load_presets(tmp_path)
    assert [p.name for p in result.presets][-1] == "good"
    assert len(result.presets) == 6
    messages = [problem.user_message for problem in result.problems]
    assert len(messages) == 2
    assert any("broken.json" in m and "not valid JSON" in m for m in messages)
    assert any("dup.json" in m and "already taken" in m for m in messages)
    assert [p.name for p in all_presets(tmp_path)] == [p.name for p in result.presets]
