"""A backend built from default settings (ComfyUI at 127.0.0.1:8188) answers the same in every
test run, whether or not a real ComfyUI happens to listen there on this machine: the shared
conftest makes that port look closed outside the opt-in real-server tests."""

from __future__ import annotations

import asyncio
import socket

import pytest

from lora_studio.core.backends.comfyui.entry import DEFAULT_URL
from lora_studio.core.backends.registry import build_backend, get_kind
from tests.conftest import DEFAULT_COMFYUI_PORT


def test_the_conftest_guards_the_default_port() -> None:
    assert DEFAULT_URL.endswith(f":{DEFAULT_COMFYUI_PORT}")


def test_a_default_comfyui_backend_is_unreachable_in_tests() -> None:
    settings = get_kind("comfyui").default_settings().model_dump(mode="json")
    backend = build_backend(settings)

    async def go() -> object:
        try:
            return await backend.check()
        finally:
            await backend.aclose()

    check = asyncio.run(go())
    assert not check.available  # type: ignore[attr-defined]
    assert "127.0.0.1:8188" in check.diagnosis  # type: ignore[attr-defined]


def test_plain_sockets_see_the_port_closed_too() -> None:
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", DEFAULT_COMFYUI_PORT)) != 0
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", DEFAULT_COMFYUI_PORT))
