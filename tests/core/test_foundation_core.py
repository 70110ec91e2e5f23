"""Core foundation pieces: atomic writes, settings persistence, secret redaction, paths."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from lora_studio import paths
from lora_studio.core.atomic_io import atomic_write_text
from lora_studio.core.config.settings import (
    SETTINGS_SCHEMA_VERSION,
    Settings,
    Theme,
    load_settings,
    save_settings,
)
from lora_studio.core.errors import StorageError
from lora_studio.core.redact import redact


def test_atomic_write_replaces_content_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_write_full_disk_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "caption.txt"
    target.write_text("precious")

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(StorageError) as info:
        atomic_write_text(target, "new")
    assert "disk is full" in info.value.user_message and str(target) in info.value.user_message
    assert target.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["caption.txt"]


def test_settings_round_trip(tmp_path: Path) -> None:
    settings = Settings(theme=Theme.DARK, recent_datasets=["/a"])
    save_settings(tmp_path, settings)
    data = json.loads((tmp_path / "settings.json").read_text())
    assert data["schema_version"] == SETTINGS_SCHEMA_VERSION == 2
    assert load_settings(tmp_path) == settings


def test_corrupt_settings_are_kept_aside_not_lost(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("{not json")
    assert load_settings(tmp_path) == Settings()
    assert (tmp_path / "settings.json.broken").read_text() == "{not json"


def test_data_dir_env_redirects_every_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path))
    for func, name in (
        (paths.config_dir, "config"),
        (paths.data_dir, "data"),
        (paths.cache_dir, "cache"),
        (paths.log_dir, "logs"),
    ):
        assert func() == tmp_path / name and func().is_dir()


def test_resources_are_found() -> None:
    assert paths.resource("icons", "lora-studio.svg").is_file()


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer r8_abcdefghijklmnopqrstuv",
        "token=hf_abcdefghijklmnop12345 failed",
        "https://user:hunter22@proxy.example/api",
        'headers {"api_key": "sk-live-1234567890abcdef"}',
    ],
)
def test_redact_masks_secret_shapes(text: str) -> None:
    cleaned = redact(text)
    for secret in (
        "r8_abcdefghijklmnopqrstuv",
        "hf_abcdefghijklmnop12345",
        "hunter22",
        "sk-live-1234567890abcdef",
    ):
        assert secret not in cleaned
    assert "***" in cleaned


def test_redact_masks_given_literal_secret() -> None:
    assert redact("value is plainsecret99", ("plainsecret99",)) == "value is ***"
