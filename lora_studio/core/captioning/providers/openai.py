"""Core/captioning/providers: OpenAI-compatible chat completions (docs/protocols.md §5.2).

Works with OpenAI, LM Studio, vLLM, llama.cpp `llama-server`, Ollama's `/v1` and the Hugging Face
router. The URL is the base URL as the artist pastes it, *including* the version prefix
(`https://api.openai.com/v1`, `http://localhost:1234/v1`, `https://router.huggingface.co/v1`);
requests go to `{base}/chat/completions` and `{base}/models`.

The picture travels as a base64 `data:` URL (the only form every server accepts). The key comes
from the keychain or the environment (`LORA_STUDIO_CAPTION_API_KEY`, `OPENAI_API_KEY`, `HF_TOKEN`
for the Hugging Face router) — never from a file; local servers need none. Error envelopes differ
between servers, so `base.error_message` reads all the usual shapes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lora_studio.core.captioning.providers.base import (
    HttpCaptionProvider,
    RetryableCaptionError,
    StopRunError,
    error_message,
)
from lora_studio.core.captioning.upload import UploadImage
from lora_studio.core.errors import CaptionError
from lora_studio.core.secrets import get_secret

DEFAULT_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
KEY_ENV_VARS = ("LORA_STUDIO_CAPTION_API_KEY", "OPENAI_API_KEY")
KEYCHAIN_NAME = "caption_api_key"


def find_api_key(url: str) -> str | None:
    """The key for `url`: environment first, then the keychain; HF_TOKEN for the HF router."""
    names = list(KEY_ENV_VARS)
    if (urlsplit(url).hostname or "").endswith("huggingface.co"):
        names.insert(1, "HF_TOKEN")
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return get_secret(KEYCHAIN_NAME)


class OpenAICompatibleProvider(HttpCaptionProvider):
    """Captions through any server that speaks OpenAI chat completions with image parts."""

    kind = "openai"
    service = "The caption server"

    def __init__(
        self,
        url: str | None = None,
        *,
        model: str | None = None,
        api_key: str | None = None,
        detail: str = "low",
        max_output_tokens: int = 300,
        **options: Any,
    ) -> None:
        base = (url or DEFAULT_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else find_api_key(base)
        super().__init__(base, model=model or DEFAULT_MODEL, api_key=self.api_key, **options)
        self.detail = detail
        self.max_output_tokens = max_output_tokens
        self._token_field = "max_tokens"

    def key_hint(self) -> str:
        return (
            "Store the key in Settings (system keychain) or set LORA_STUDIO_CAPTION_API_KEY "
            "(or OPENAI_API_KEY) in the environment."
        )

    async def available(self) -> tuple[bool, str]:
        try:
            names = await self.models()
        except CaptionError as exc:
            return False, exc.user_message
        if names and self.model not in names:
            return False, (
                f"{self.where} does not offer the model “{self.model}” "
                f"(it lists: {', '.join(names[:6])}). Pick one of those."
            )
        return True, f"{self.where} is ready with “{self.model}”."

    async def models(self) -> list[str]:
        response = await self.send("GET", "models", action="listing the models")
        if response.status_code == 404:
            raise StopRunError(self._not_found_sentence())
        if response.status_code != 200:
            raise self.status_error(response, "listing the models")
        body = self.json_of(response, "GET /models")
        data = body.get("data") if isinstance(body, dict) else None
        return sorted(
            {str(item["id"]) for item in data or [] if isinstance(item, dict) and item.get("id")}
        )

    async def caption(
        self, image: Path, prompt: str, *, prepared: UploadImage | None = None
    ) -> str:
        upload = prepared or await self.prepare(image)
        what = f"captioning {Path(image).name}"
        for _ in range(2):  # a second try only to switch max_tokens → max_completion_tokens
            payload: dict[str, Any] = {
                "model": self.model,
                "temperature": 0.2,
                self._token_field: self.max_output_tokens,
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": prompt},
                            {
                                "type": "image_url",
                                "image_url": {"url": upload.data_url(), "detail": self.detail},
                            },
                        ],
                    }
                ],
            }
            response = await self.send("POST", "chat/completions", action=what, json=payload)
            if response.status_code == 200:
                return self._content(self.json_of(response, "POST /chat/completions"), what)
            said = (error_message(response) or "").lower()
            if (
                response.status_code == 400
                and self._token_field == "max_tokens"
                and "max_completion_tokens" in said
            ):
                self._token_field = "max_completion_tokens"  # newer OpenAI models
                continue
            if response.status_code == 404:
                if "model" in said:
                    raise StopRunError(
                        f"{self.where} has no model “{self.model}”: "
                        f"“{self.http.redact(error_message(response) or '')}”. Pick another model."
                    )
                raise StopRunError(self._not_found_sentence())
            raise self.status_error(response, what)
        raise CaptionError(f"{self.where} refused {what} twice.")  # pragma: no cover

    def _content(self, body: Any, what: str) -> str:
        try:
            content = body["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise RetryableCaptionError(
                f"{self.where} answered {what} without a caption (no choices[0].message); is "
                "this an OpenAI-compatible server?"
            ) from None
        if isinstance(content, list):  # some servers return content parts
            content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
        if not isinstance(content, str):
            raise RetryableCaptionError(f"{self.where} answered {what} with an empty caption.")
        return content

    def _not_found_sentence(self) -> str:
        return (
            f"{self.where} has no OpenAI-compatible API at {self.http.public_url('')} (HTTP 404). "
            "The base URL must include the version prefix, e.g. https://api.openai.com/v1 or "
            "http://localhost:1234/v1."
        )
