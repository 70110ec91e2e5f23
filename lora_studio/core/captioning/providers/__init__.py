"""Core/captioning/providers: caption providers (template, Ollama, OpenAI-compatible, Hugging Face).

Use `build_provider(kind, url=..., model=...)` from `registry`; every provider follows the
`CaptionProvider` protocol in `base`.
"""

from lora_studio.core.captioning.providers.base import (
    CaptionProvider,
    ProviderInfo,
    RetryableCaptionError,
)
from lora_studio.core.captioning.providers.registry import (
    PROVIDER_INFO,
    PROVIDER_KINDS,
    build_provider,
)

__all__ = [
    "PROVIDER_INFO",
    "PROVIDER_KINDS",
    "CaptionProvider",
    "ProviderInfo",
    "RetryableCaptionError",
    "build_provider",
]
