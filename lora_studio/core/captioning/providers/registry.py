"""Core/captioning/providers: the provider kinds and `build_provider`, the one place they are made.

`PROVIDER_INFO` carries what a dialog or the CLI shows before a provider exists (default URL and
model, where the key comes from, whether models can be listed, a typical time per image).
"""

from __future__ import annotations

from typing import Any

from lora_studio.core.captioning.providers import huggingface, ollama, openai
from lora_studio.core.captioning.providers.base import CaptionProvider, ProviderInfo
from lora_studio.core.captioning.providers.huggingface import HuggingFaceProvider
from lora_studio.core.captioning.providers.ollama import OllamaProvider
from lora_studio.core.captioning.providers.openai import OpenAICompatibleProvider
from lora_studio.core.captioning.providers.template import TemplateProvider
from lora_studio.core.errors import ConfigError

PROVIDER_KINDS: tuple[str, ...] = ("template", "ollama", "openai", "huggingface")

PROVIDER_INFO: dict[str, ProviderInfo] = {
    "template": ProviderInfo(
        kind="template",
        title="Template (no model)",
        default_url=None,
        default_model=None,
        needs_key=False,
        key_env_vars=(),
        keychain_name=None,
        lists_models=False,
        uses_prompt=False,
        seconds_per_image=0.002,
        help="Fills each caption from a pattern: {trigger}, {filename}, {name}, {folder}, "
        "{existing}.",
    ),
    "ollama": ProviderInfo(
        kind="ollama",
        title="Ollama (local vision model)",
        default_url=ollama.DEFAULT_URL,
        default_model=ollama.DEFAULT_MODEL,
        needs_key=False,
        key_env_vars=(),
        keychain_name=None,
        lists_models=True,
        uses_prompt=True,
        seconds_per_image=4.0,
        help="A vision model on this machine or your network, e.g. `ollama pull qwen2.5vl`.",
    ),
    "openai": ProviderInfo(
        kind="openai",
        title="OpenAI-compatible (OpenAI, LM Studio, vLLM, llama.cpp, HF router)",
        default_url=openai.DEFAULT_URL,
        default_model=openai.DEFAULT_MODEL,
        needs_key=True,
        key_env_vars=openai.KEY_ENV_VARS,
        keychain_name=openai.KEYCHAIN_NAME,
        lists_models=True,
        uses_prompt=True,
        seconds_per_image=2.5,
        help="The base URL includes the version prefix, e.g. https://api.openai.com/v1 or "
        "http://localhost:1234/v1 (LM Studio). Local servers need no key.",
    ),
    "huggingface": ProviderInfo(
        kind="huggingface",
        title="Hugging Face image-to-text",
        default_url=huggingface.DEFAULT_URL,
        default_model=huggingface.DEFAULT_MODEL,
        needs_key=True,
        key_env_vars=huggingface.TOKEN_ENV_VARS,
        keychain_name=huggingface.KEYCHAIN_NAME,
        lists_models=False,
        uses_prompt=False,
        seconds_per_image=1.5,
        help="BLIP-style models on Hugging Face Inference; needs HF_TOKEN.",
    ),
}


def build_provider(
    kind: str, *, url: str | None = None, model: str | None = None, **options: Any
) -> CaptionProvider:
    """Make a provider. Options: `api_key`, `max_side`, `read_timeout`, `connect_timeout`,
    `allow_insecure_http` (HTTP providers); `template`, `trigger` (template); `detail` (openai).

    ConfigError for an unknown kind or a bad URL/template (the sentence says what to fix).
    """
    url = url.strip() if url else None
    model = model.strip() if model else None
    if kind == "template":
        return TemplateProvider(url, model=model, **options)
    options.pop("template", None)
    options.pop("trigger", None)
    if kind == "ollama":
        options.pop("detail", None)
        return OllamaProvider(url, model=model, **options)
    if kind == "openai":
        return OpenAICompatibleProvider(url, model=model, **options)
    if kind == "huggingface":
        options.pop("detail", None)
        return HuggingFaceProvider(url, model=model, **options)
    raise ConfigError(
        f"Unknown caption provider “{kind}”. Choose one of: {', '.join(PROVIDER_KINDS)}."
    )
