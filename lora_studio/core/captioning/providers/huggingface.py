"""Core/captioning/providers: Hugging Face Inference image-to-text (docs/protocols.md §5.3).

`POST {base}/{model_id}` with the raw JPEG as body and `Authorization: Bearer hf_…`; the answer is
`[{"generated_text": "..."}]`. The base defaults to the router's hf-inference provider,
`https://router.huggingface.co/hf-inference/models`. Image-to-text models take no prompt.

Failure sentences follow what the service answers: 503 "currently loading" with `estimated_time`
(retry after that long, once the runner's turn comes), 402 monthly credits spent, 410 model
deprecated / API retired (points to the OpenAI-compatible router, which is HF's current path for
vision-language models), 401 bad token. The token comes from `HF_TOKEN` or the keychain.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from lora_studio.core.captioning.providers.base import (
    HttpCaptionProvider,
    RetryableCaptionError,
    StopRunError,
    error_message,
)
from lora_studio.core.captioning.upload import UploadImage
from lora_studio.core.secrets import get_secret

DEFAULT_URL = "https://router.huggingface.co/hf-inference/models"
DEFAULT_MODEL = "Salesforce/blip-image-captioning-large"
TOKEN_ENV_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
KEYCHAIN_NAME = "huggingface_token"


def find_token() -> str | None:
    for name in TOKEN_ENV_VARS:
        if os.environ.get(name):
            return os.environ[name]
    return get_secret(KEYCHAIN_NAME)


class HuggingFaceProvider(HttpCaptionProvider):
    """Captions with a BLIP-style image-to-text model on Hugging Face Inference."""

    kind = "huggingface"
    service = "Hugging Face"

    def __init__(
        self,
        url: str | None = None,
        *,
        model: str | None = None,
        api_key: str | None = None,
        **options: Any,
    ) -> None:
        self.token = api_key if api_key is not None else find_token()
        super().__init__(
            url or DEFAULT_URL, model=model or DEFAULT_MODEL, api_key=self.token, **options
        )

    def key_hint(self) -> str:
        return "Create a token at huggingface.co/settings/tokens and set HF_TOKEN (or Settings)."

    async def available(self) -> tuple[bool, str]:
        if not self.token:
            return False, (
                "Hugging Face needs an access token: set HF_TOKEN in the environment or store "
                "it in Settings (system keychain)."
            )
        return True, f"Hugging Face token found; captions will use “{self.model}”."

    async def models(self) -> list[str]:
        return []  # the inference API lists no models per task

    async def caption(
        self, image: Path, prompt: str, *, prepared: UploadImage | None = None
    ) -> str:
        del prompt  # image-to-text models are not prompted
        upload = prepared or await self.prepare(image)
        what = f"captioning {Path(image).name}"
        response = await self.send(
            "POST",
            str(self.model),
            action=what,
            content=upload.data,
            headers={"Content-Type": upload.mime},
        )
        if response.status_code == 200:
            return self._text(self.json_of(response, f"POST {self.model}"), what)
        raise self._error(response, what)

    def _error(self, response: httpx.Response, what: str) -> Exception:
        code = response.status_code
        said = self.http.redact(error_message(response) or "")
        if code == 503 and "loading" in said.lower():
            estimated: float | None = None
            try:
                value = response.json().get("estimated_time")
                estimated = float(value) if value is not None else None
            except (ValueError, AttributeError, TypeError):
                pass
            return RetryableCaptionError(
                f"Hugging Face is still loading “{self.model}”"
                + (f" (about {estimated:.0f} s)" if estimated else "")
                + "; LoRA Studio will try again.",
                retry_after=estimated,
            )
        if code == 402:
            return StopRunError(
                "Hugging Face refused: the monthly included credits for Inference Providers are "
                "used up (HTTP 402). Add credits or a payment method on huggingface.co, or caption "
                "with a local Ollama model."
            )
        if code == 410:
            return StopRunError(
                f"Hugging Face no longer serves “{self.model}” here (HTTP 410: “{said}”). Use the "
                "“openai” provider with https://router.huggingface.co/v1 and a vision model, or "
                "a local Ollama model."
            )
        if code in (400, 404):
            return StopRunError(
                f"Hugging Face does not run “{self.model}” as image-to-text (HTTP {code}"
                + (f": “{said}”" if said else "")
                + "). Check the model id, or use the “openai” provider with the HF router."
            )
        return self.status_error(response, what)

    def _text(self, body: Any, what: str) -> str:
        first = body[0] if isinstance(body, list) and body else body
        text = first.get("generated_text") if isinstance(first, dict) else None
        if not isinstance(text, str):
            raise RetryableCaptionError(
                f"Hugging Face answered {what} without a generated_text; is the model an "
                "image-to-text model?"
            )
        return text
