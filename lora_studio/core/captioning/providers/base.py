"""Core/captioning/providers: the `CaptionProvider` protocol, provider facts, shared HTTP plumbing.

Errors a provider raises tell the runner what to do next:
- `RetryableCaptionError` (429, 5xx, a model still loading): try this image again after
  `retry_after` seconds (the server's `Retry-After`) or an exponential back-off;
- `ProviderUnreachableError` (connection refused, timeout): retry too, and stop the run when it lasts;
- `StopRunError` (bad key, unknown model, no credits, a model that cannot see images): every other
  image would fail the same way, so the run stops at once with this sentence;
- any other `CaptionError`: this image failed (the sentence says why); the run goes on.

HTTP providers share `HttpCaptionProvider`: one `core.backends.http.HttpClient` per provider (timeouts,
https-only for other machines unless allowed, secrets scrubbed from every message), no retries at
that level (the runner owns them, so `Retry-After` and cancel are handled in one place), and image
preparation (`upload.prepare_upload`) on a worker thread so the event loop never decodes a JPEG.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx

from lora_studio.core.backends.http import HttpClient, RetryPolicy, Timeouts, parse_retry_after
from lora_studio.core.captioning.upload import DEFAULT_MAX_SIDE, UploadImage, prepare_upload
from lora_studio.core.errors import BackendUnavailableError, CaptionError


class RetryableCaptionError(CaptionError):
    """A temporary failure: the same request may succeed later."""

    def __init__(
        self, user_message: str, *, retry_after: float | None = None, detail: str | None = None
    ) -> None:
        super().__init__(user_message, detail=detail)
        self.retry_after = retry_after


class ProviderUnreachableError(RetryableCaptionError):
    """The service did not answer at all; the run stops if retrying does not help."""


class StopRunError(CaptionError):
    """A failure that would repeat for every image (key, model, credits): stop the run."""


@runtime_checkable
class CaptionProvider(Protocol):
    """An async caption service. `caption` may also accept `prepared=` (see HttpCaptionProvider)."""

    kind: str

    async def available(self) -> tuple[bool, str]:
        """(ok, a sentence for the artist), without captioning anything."""
        ...

    async def models(self) -> list[str]:
        """Model names the service offers; [] where it lists none."""
        ...

    async def caption(self, image: Path, prompt: str) -> str:
        """The raw caption text the service returns for one picture."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class ProviderInfo:
    """What the UI and the CLI need to know about a provider kind before building it."""

    kind: str
    title: str
    default_url: str | None
    default_model: str | None
    needs_key: bool
    key_env_vars: tuple[str, ...]
    keychain_name: str | None
    lists_models: bool
    uses_prompt: bool
    seconds_per_image: float  # a typical figure for the time estimate (see runner.estimate)
    help: str


def error_message(response: httpx.Response) -> str | None:
    """The server's own error sentence from any of the usual envelopes, or a short body snippet.

    Handles `{"error": {"message": ...}}` (OpenAI), `{"error": "..."}` (Ollama, HF, llama.cpp),
    `{"message": ...}`, `{"detail": ...}` (FastAPI/vLLM) and `[{"error": ...}]`.
    """
    try:
        body: Any = response.json()
    except ValueError:
        text = response.text.strip()
        if not text or text.lstrip().startswith("<"):
            return None  # an HTML page from a proxy says nothing useful
        return text[:200]
    if isinstance(body, list) and body:
        body = body[0]
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            value = body.get(key)
            if isinstance(value, dict):
                inner = value.get("message") or value.get("msg") or value.get("error")
                if isinstance(inner, str) and inner:
                    return inner
            elif isinstance(value, str) and value:
                return value
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                inner = value[0].get("msg") or value[0].get("message")
                if isinstance(inner, str):
                    return inner
    return None


class HttpCaptionProvider:
    """Shared by the Ollama, OpenAI-compatible and Hugging Face providers."""

    kind = "http"
    service = "Caption service"

    def __init__(
        self,
        url: str,
        *,
        model: str | None,
        api_key: str | None = None,
        max_side: int = DEFAULT_MAX_SIDE,
        read_timeout: float = 120.0,
        connect_timeout: float = 5.0,
        allow_insecure_http: bool = False,
    ) -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.max_side = max_side
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = HttpClient(
            self.service,
            self.url,
            headers=headers,
            secrets=(api_key,) if api_key else (),
            allow_insecure_http=allow_insecure_http,
            timeouts=Timeouts(connect=connect_timeout, read=read_timeout),
            retry=RetryPolicy(attempts=1),
        )
        self.where = self.http.where

    async def prepare(self, image: Path) -> UploadImage:
        """Encode `image` for upload on a worker thread (never on the event loop)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, prepare_upload, Path(image), self.max_side)

    async def send(self, method: str, path: str, *, action: str, **kwargs: Any) -> httpx.Response:
        """One request; any HTTP status comes back, transport failures become ProviderUnreachableError."""
        try:
            return await self.http.request(
                method, path, accept=range(100, 600), action=action, idempotent=True, **kwargs
            )
        except BackendUnavailableError as exc:
            raise ProviderUnreachableError(exc.user_message, detail=exc.detail) from exc

    def json_of(self, response: httpx.Response, action: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise RetryableCaptionError(
                f"{self.where} sent a reply that is not valid JSON to {action} — is this address "
                "really the caption server, and not a login page or a proxy?",
                detail=self.http.redact(response.text[:200]),
            ) from exc

    def status_error(self, response: httpx.Response, what: str) -> CaptionError:
        """The generic mapping; providers handle their special statuses before calling this."""
        code = response.status_code
        said = error_message(response)
        said_text = f": “{self.http.redact(said)}”" if said else ""
        if code == 429:
            return RetryableCaptionError(
                f"{self.where} is rate-limiting requests (HTTP 429){said_text}.",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        if code >= 500:
            return RetryableCaptionError(
                f"{self.where} failed while {what} (HTTP {code}){said_text}.",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        if code in (401, 403):
            return StopRunError(
                f"{self.where} refused the access key (HTTP {code}){said_text}. " + self.key_hint()
            )
        return CaptionError(f"{self.where} refused {what} (HTTP {code}){said_text}.")

    def key_hint(self) -> str:
        return "Check the API key."

    async def aclose(self) -> None:
        await self.http.aclose()
