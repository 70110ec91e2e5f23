"""Core/ComfyUI: the registry entry — typed settings of one ComfyUI server and its factory.

Several servers can be configured (each its own `ComfyUISettings` with a distinct `name`). A proxy
token is only named here (`token`): the value comes from the keychain or the environment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lora_studio.core.backends.base import TrainingBackend
from lora_studio.core.backends.registry import (
    BackendKind,
    BackendSettings,
    SecretGetter,
    SecretRef,
    http_credentials,
)

DEFAULT_URL = "http://127.0.0.1:8188"
# A proxy token in front of a remote ComfyUI: keychain entry name and environment variable.
TOKEN_SECRET = "comfyui_proxy_token"
TOKEN_ENV = "LORA_STUDIO_COMFYUI_TOKEN"


def default_token() -> SecretRef:
    return SecretRef(
        secret=TOKEN_SECRET, env=TOKEN_ENV, header="Authorization", scheme="Bearer", optional=True
    )


class ComfyUIChunking(BaseModel):
    """How a job is split into prompts (see `ComfyUIOptions`)."""

    model_config = ConfigDict(extra="forbid")

    chunked: bool | None = None
    chunk_steps: int = Field(default=250, ge=1)
    auto_chunk_min_steps: int = Field(default=500, ge=1)
    upload_concurrency: int = Field(default=2, ge=1, le=16)


class ComfyUISettings(BackendSettings):
    kind: Literal["comfyui"] = "comfyui"
    url: str = DEFAULT_URL
    # Plain http:// to a server on another machine sends the dataset unencrypted: opt-in only.
    allow_insecure_http: bool = False
    extra_headers: dict[str, str] = Field(default_factory=dict)
    token: SecretRef | None = Field(default_factory=default_token)
    options: ComfyUIChunking = Field(default_factory=ComfyUIChunking)

    def identity(self) -> str:
        return self.url.rstrip("/")


def build(settings: ComfyUISettings, secrets: SecretGetter) -> TrainingBackend:
    from lora_studio.core.backends.comfyui.backend import ComfyUIBackend, ComfyUIOptions

    headers, params = http_credentials(
        "ComfyUI server", settings.extra_headers, settings.token, secrets
    )
    return ComfyUIBackend(
        settings.url or DEFAULT_URL,
        headers=headers,
        params=params,
        allow_insecure_http=settings.allow_insecure_http,
        options=ComfyUIOptions(**settings.options.model_dump()),
    )


ENTRY = BackendKind(
    kind="comfyui",
    title="ComfyUI server",
    description=(
        "Trains SD 1.5 and SDXL LoRAs with ComfyUI's own trainer, on this computer or a server "
        "(its address is set in Settings → Backends)."
    ),
    settings_model=ComfyUISettings,
    factory=build,
    local=True,
)
