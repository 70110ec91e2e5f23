"""The registry builds backends from settings; secrets come from the secret store only."""

from __future__ import annotations

import pytest

from lora_studio.core.backends.comfyui import ComfyUIBackend
from lora_studio.core.backends.registry import build_backend
from lora_studio.core.errors import ConfigError
from tests.core.backends.comfy_helpers import run


def fake_secrets(values: dict[str, str]):  # type: ignore[no-untyped-def]
    asked = []

    def get(name: str, env: str | None) -> str | None:
        asked.append((name, env))
        return values.get(name)

    get.asked = asked  # type: ignore[attr-defined]
    return get


def close(backend) -> None:  # type: ignore[no-untyped-def]
    run(backend.aclose())


def test_comfyui_with_a_bearer_token_from_the_secret_store() -> None:
    secrets = fake_secrets({"comfyui_proxy_token": "s3cr3t-token-value"})
    backend = build_backend(
        {
            "kind": "comfyui",
            "url": "https://comfy.example.org/base",
            "extra_headers": {"X-Team": "art"},
            "token": {"secret": "comfyui_proxy_token", "env": "LS_TOKEN", "scheme": "Bearer"},
            "options": {"chunked": False, "chunk_steps": 100},
        },
        secret_getter=secrets,
    )
    assert isinstance(backend, ComfyUIBackend)
    assert backend.options.chunked is False and backend.options.chunk_steps == 100
    assert backend.client.http.extra_headers == {
        "X-Team": "art",
        "Authorization": "Bearer s3cr3t-token-value",
    }
    assert secrets.asked == [("comfyui_proxy_token", "LS_TOKEN")]
    assert backend.where == "ComfyUI at comfy.example.org:443"
    close(backend)


def test_token_as_query_parameter_for_proxies_that_want_one() -> None:
    backend = build_backend(
        {
            "kind": "comfyui",
            "url": "https://c.example.org",
            "token": {"secret": "t", "query_param": "token"},
        },
        secret_getter=fake_secrets({"t": "abcdef123456"}),
    )
    assert backend.client.http.extra_params == {"token": "abcdef123456"}  # type: ignore[attr-defined]
    assert "abcdef123456" not in backend.client.view_url("x", "loras")  # type: ignore[attr-defined]
    close(backend)


@pytest.mark.parametrize("header", ["Authorization", "X-Api-Key", "x-auth-token", "Cookie"])
def test_credentials_in_plain_settings_are_refused(header: str) -> None:
    with pytest.raises(ConfigError, match="looks like it carries a credential"):
        build_backend(
            {"kind": "comfyui", "extra_headers": {header: "x"}}, secret_getter=fake_secrets({})
        )


def test_a_missing_secret_is_explained() -> None:
    with pytest.raises(ConfigError, match=r"No access token is stored.*LS_TOKEN"):
        build_backend(
            {"kind": "comfyui", "token": {"secret": "nope", "env": "LS_TOKEN"}},
            secret_getter=fake_secrets({}),
        )


def test_unknown_kind_option_and_insecure_url() -> None:
    with pytest.raises(ConfigError, match="Unknown training backend “mystery”"):
        build_backend({"kind": "mystery"}, secret_getter=fake_secrets({}))
    with pytest.raises(ConfigError, match=r"ComfyUI server settings are not valid: options.turbo"):
        build_backend(
            {"kind": "comfyui", "options": {"turbo": True}}, secret_getter=fake_secrets({})
        )
    with pytest.raises(ConfigError, match="unencrypted"):
        build_backend(
            {"kind": "comfyui", "url": "http://192.168.1.20:8188"}, secret_getter=fake_secrets({})
        )
    allowed = build_backend(
        {"kind": "comfyui", "url": "http://192.168.1.20:8188", "allow_insecure_http": True},
        secret_getter=fake_secrets({}),
    )
    close(allowed)
