"""A server that quotes a configured secret back (a `--header` value in a node error): masked on
stdout, stderr, in JSON events and in the job record — not only the token shapes we know."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from lora_studio.cli import main
from lora_studio.core.redact import forget_secrets, is_secret_name, redact, register_secret
from lora_studio.paths import data_dir
from tests.e2e.test_cli_train_comfyui import make_dataset
from tests.fakes.fake_comfyui import CHECKPOINTS, FakeComfyUI

HEADER_VALUE = "sekrit-header-value-42"


@pytest.fixture
def comfy(tmp_path: Path) -> Iterator[FakeComfyUI]:
    with FakeComfyUI(tmp_path / "server") as fake:
        fake.faults.raise_in_node = {
            "TrainLoraNode": ("RuntimeError", f"proxy refused X-Proxy-User {HEADER_VALUE}")
        }
        yield fake
    forget_secrets()


@pytest.mark.parametrize("as_json", [False, True])
def test_a_header_value_quoted_back_is_masked_everywhere(
    comfy: FakeComfyUI, tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    dataset = make_dataset(tmp_path / "ds", count=2)
    argv = [
        "train",
        str(dataset),
        "--backend",
        "comfyui",
        "--url",
        comfy.url,
        "--header",
        f"X-Proxy-User={HEADER_VALUE}",
        "--preset",
        "sd15",
        "--base-model",
        CHECKPOINTS[0],
        "--set",
        "max_steps=4",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main([*argv, "--json"] if as_json else argv) == 1
    captured = capsys.readouterr()
    assert "proxy refused X-Proxy-User ***" in captured.out + captured.err
    assert HEADER_VALUE not in captured.out and HEADER_VALUE not in captured.err
    with sqlite3.connect(data_dir() / "jobs.sqlite3") as conn:
        dump = "\n".join(conn.iterdump())
    assert "proxy refused" in dump and HEADER_VALUE not in dump
    assert main(["jobs", "--json"]) == 0
    assert HEADER_VALUE not in capsys.readouterr().out


def test_one_definition_of_secret_names_and_values() -> None:
    assert is_secret_name("hf_token") and is_secret_name("Authorization")
    assert not is_secret_name("class_tokens") and not is_secret_name("max_token_length")
    assert is_secret_name("X-AuthToken-Id", anywhere=True)
    assert not is_secret_name("X-Forwarded-Proto", anywhere=True)
    try:
        register_secret("Bearer abcdef123456", "prod")  # short values are words, not secrets
        assert redact("sent abcdef123456 to prod") == "sent *** to prod"
    finally:
        forget_secrets()
    assert redact("sent abcdef123456") == "sent abcdef123456"
