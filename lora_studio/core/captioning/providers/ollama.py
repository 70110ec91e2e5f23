"""Core/captioning/providers: Ollama (`/api/chat` with base64 images; docs/protocols.md §5.1).

- `POST /api/chat` `{"model", "stream": false, "messages": [{"role": "user", "content": prompt,
  "images": ["<raw base64>"]}]}` → `{"message": {"content": "..."}, "done": true}`.
- `GET /api/tags` lists the installed models; `POST /api/show {"model"}` answers `capabilities`
  (2025 builds), used to refuse a model that cannot see images before the first caption, instead
  of writing hundreds of captions about nothing.
- 404 `model "x" not found, try pulling it first` becomes "try `ollama pull x`" and stops the run.
- The first call loads the model (tens of seconds), hence the long read timeout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lora_studio.core.captioning.providers.base import (
    HttpCaptionProvider,
    RetryableCaptionError,
    StopRunError,
)
from lora_studio.core.captioning.upload import UploadImage
from lora_studio.core.errors import CaptionError

DEFAULT_URL = "http://localhost:11434"
DEFAULT_MODEL = "qwen2.5vl:7b"


class OllamaProvider(HttpCaptionProvider):
    """Captions with a local vision model served by Ollama."""

    kind = "ollama"
    service = "Ollama"

    def __init__(self, url: str | None = None, *, model: str | None = None, **options: Any) -> None:
        options.pop("api_key", None)  # Ollama has no authentication
        super().__init__(url or DEFAULT_URL, model=model or DEFAULT_MODEL, **options)
        self._vision_checked = False

    async def available(self) -> tuple[bool, str]:
        try:
            names = await self.models()
        except CaptionError as exc:
            return False, exc.user_message
        if self.model not in names and f"{self.model}:latest" not in names:
            listed = ", ".join(names[:6]) or "none"
            return False, (
                f"{self.where} is running but has no model “{self.model}” (installed: {listed}). "
                f"Run `ollama pull {self.model}` or pick an installed vision model."
            )
        try:
            vision = await self.has_vision(self.model or "")
        except CaptionError as exc:
            return False, exc.user_message
        if vision is False:
            return False, self._not_vision_sentence()
        return True, f"{self.where} is ready with “{self.model}”."

    async def models(self) -> list[str]:
        response = await self.send("GET", "api/tags", action="listing the models")
        if response.status_code != 200:
            raise self.status_error(response, "listing the models")
        body = self.json_of(response, "GET /api/tags")
        names: list[str] = []
        for entry in (body or {}).get("models") or []:
            if isinstance(entry, dict):
                name = entry.get("model") or entry.get("name")
                if isinstance(name, str) and name:
                    names.append(name)
        return sorted(set(names))

    async def has_vision(self, model: str) -> bool | None:
        """True/False from `/api/show` capabilities; None when this Ollama does not say."""
        response = await self.send(
            "POST", "api/show", action="reading the model details", json={"model": model}
        )
        if response.status_code == 404:
            raise self._model_missing(model)
        if response.status_code != 200:
            raise self.status_error(response, f"reading the details of {model}")
        body = self.json_of(response, "POST /api/show")
        capabilities = body.get("capabilities") if isinstance(body, dict) else None
        if not isinstance(capabilities, list):
            return None
        return "vision" in capabilities

    async def caption(
        self, image: Path, prompt: str, *, prepared: UploadImage | None = None
    ) -> str:
        if not self._vision_checked:
            if await self.has_vision(self.model or "") is False:
                raise StopRunError(self._not_vision_sentence())
            self._vision_checked = True
        upload = prepared or await self.prepare(image)
        payload = {
            "model": self.model,
            "stream": False,
            "messages": [{"role": "user", "content": prompt, "images": [upload.base64()]}],
            "options": {"temperature": 0.2},
        }
        what = f"captioning {Path(image).name}"
        response = await self.send("POST", "api/chat", action=what, json=payload)
        if response.status_code == 404:
            raise self._model_missing(self.model or "")
        if response.status_code != 200:
            raise self.status_error(response, what)
        body = self.json_of(response, "POST /api/chat")
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            raise RetryableCaptionError(f"{self.where} failed while {what}: {body['error']}")
        message = body.get("message") if isinstance(body, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            raise RetryableCaptionError(
                f"{self.where} answered {what} without a message text; is this an Ollama server?"
            )
        return content

    def _model_missing(self, model: str) -> StopRunError:
        return StopRunError(
            f"{self.where} has no model “{model}”. Download it with `ollama pull {model}` "
            "(a vision model such as qwen2.5vl or llava), or pick an installed one."
        )

    def _not_vision_sentence(self) -> str:
        return (
            f"The Ollama model “{self.model}” cannot see images (its capabilities do not "
            "include vision). Pick a vision model such as qwen2.5vl, llava or gemma3."
        )


__all__ = ["DEFAULT_MODEL", "DEFAULT_URL", "OllamaProvider"]
