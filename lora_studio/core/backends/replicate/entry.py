"""Core/Replicate: the registry entry — the account's API, the destination model, the trainer.

The API token is only named here (`token`: keychain entry `replicate_api_token`, environment
`REPLICATE_API_TOKEN`); it is optional at build time so that `check()` can say "no token" in a
sentence instead of the backend refusing to exist. `create_destination` is the artist's consent
to create a missing destination model (private). `input_map`/`extra_input` adapt the inputs to
another trainer of the same shape; inputs that look like secrets are refused, since settings are
a plain file.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from lora_studio.core.backends.base import TrainingBackend
from lora_studio.core.backends.registry import (
    BackendKind,
    BackendSettings,
    SecretGetter,
    SecretRef,
    http_credentials,
)
from lora_studio.core.config.estimates.cost import DEFAULT_REPLICATE_SKU, estimate_cost
from lora_studio.core.config.estimates.estimate import Estimate
from lora_studio.core.redact import is_secret_name

DEFAULT_URL = "https://api.replicate.com/v1"
DEFAULT_TRAINER = "ostris/flux-dev-lora-trainer"
TOKEN_SECRET = "replicate_api_token"
TOKEN_ENV = "REPLICATE_API_TOKEN"


def default_token() -> SecretRef:
    return SecretRef(
        secret=TOKEN_SECRET, env=TOKEN_ENV, header="Authorization", scheme="Bearer", optional=True
    )


class ReplicateSettings(BackendSettings):
    kind: Literal["replicate"] = "replicate"
    url: str = DEFAULT_URL  # includes /v1
    allow_insecure_http: bool = False
    token: SecretRef = Field(default_factory=default_token)
    destination: str = ""  # OWNER/NAME of the model that receives the weights
    create_destination: bool = False  # consent to create it (private) when missing
    trainer: str = DEFAULT_TRAINER
    trainer_version: str = ""  # "" → the trainer's latest version
    hardware: str = DEFAULT_REPLICATE_SKU  # the price per second comes from this SKU
    input_map: dict[str, str] = Field(default_factory=dict)
    extra_input: dict[str, str | int | float | bool] = Field(default_factory=dict)
    # How often a running training is polled (twice that while it waits for a GPU).
    poll_seconds: float = Field(default=5.0, ge=0.05, le=600.0)

    @field_validator("extra_input")
    @classmethod
    def _no_secrets(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if is_secret_name(key):
                raise ValueError(f"“{key}” looks like a secret; secrets are never kept in settings")
        return value

    def identity(self) -> str:
        return self.url.rstrip("/")  # what a job records as its `server`


def build(settings: ReplicateSettings, secrets: SecretGetter) -> TrainingBackend:
    from lora_studio.core.backends.replicate.backend import ReplicateBackend, ReplicateOptions
    from lora_studio.core.backends.replicate.follow import PollTimings

    headers, _ = http_credentials("Replicate account", {}, settings.token, secrets)
    return ReplicateBackend(
        settings.url or DEFAULT_URL,
        headers=headers,
        destination=settings.destination,
        create_destination=settings.create_destination,
        trainer=settings.trainer or DEFAULT_TRAINER,
        trainer_version=settings.trainer_version,
        sku=settings.hardware,
        input_map=settings.input_map,
        extra_input=settings.extra_input,
        allow_insecure_http=settings.allow_insecure_http,
        options=ReplicateOptions(
            timings=PollTimings(
                interval=settings.poll_seconds, queued_interval=2 * settings.poll_seconds
            )
        ),
    )


def cost(duration: Estimate) -> Estimate:
    return estimate_cost(duration, DEFAULT_REPLICATE_SKU)


ENTRY = BackendKind(
    kind="replicate",
    title="Replicate (cloud)",
    description=(
        "Trains Flux dev LoRAs on Replicate's H100s with ostris/flux-dev-lora-trainer, billed "
        "per second (API token and destination model are set in Settings → Replicate)."
    ),
    settings_model=ReplicateSettings,
    factory=build,
    local=False,
    cost_model=cost,
)
