"""Core/captioning: how long an auto-caption run will take and what it may cost, before it starts.

Time = images × seconds per image ÷ the parallelism the service really offers. Seconds per image
is a typical figure per provider (`ProviderInfo.seconds_per_image`) unless the caller measured one
(e.g. by timing the first caption). Ollama runs the model on one GPU: parallel requests mostly
queue, so its parallelism is taken as 1.

Cost: zero for the template and for servers on this machine; for api.openai.com a per-image
figure from OpenAI's 2025 list prices with `detail: low` (gpt-4o-mini counts a low-detail image as
2,833 input tokens at $0.15/M; gpt-4o as 85 tokens at $2.50/M), ~80 prompt tokens and ~60 output
tokens per caption. Other paid services (the HF router, hosted vLLM) bill in ways LoRA Studio
cannot see: the cost is None and the basis sentence says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from lora_studio.core.backends.http import is_loopback_host

# USD per image: (input tokens x input price + output tokens x output price), see docstring.
_OPENAI_PER_IMAGE = {
    "gpt-4o-mini": (2833 + 80) * 0.15e-6 + 60 * 0.60e-6,
    "gpt-4o": (85 + 80) * 2.50e-6 + 60 * 10.0e-6,
    "gpt-4.1": (85 + 80) * 2.00e-6 + 60 * 8.0e-6,
}
_SECONDS = {"template": 0.002, "ollama": 4.0, "openai": 2.5, "huggingface": 1.5}


@dataclass(frozen=True)
class AutoCaptionEstimate:
    seconds: float
    cost_usd: float | None  # None = unknown (the basis says why); 0.0 = free
    basis: str

    def describe(self) -> str:
        minutes, seconds = divmod(round(self.seconds), 60)
        took = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
        if self.cost_usd is None:
            cost = "cost unknown"
        elif self.cost_usd == 0:
            cost = "free"
        else:
            cost = f"about ${self.cost_usd:.2f}"
        return f"About {took}, {cost}. {self.basis}"


def estimate_auto_caption(
    provider_kind: str,
    count: int,
    concurrency: int,
    *,
    model: str | None = None,
    url: str | None = None,
    seconds_per_image: float | None = None,
) -> AutoCaptionEstimate:
    """Time (and cost) for captioning `count` images; see the module docstring for the basis."""
    per_image = (
        seconds_per_image if seconds_per_image is not None else _SECONDS.get(provider_kind, 3.0)
    )
    parallel = 1 if provider_kind == "ollama" else max(1, concurrency)
    seconds = count * per_image / parallel
    timing = (
        f"Based on {per_image:g} s per picture"
        + (" (measured)" if seconds_per_image is not None else " (typical)")
        + (", one at a time on the GPU" if provider_kind == "ollama" else f", {parallel} at a time")
        + "."
    )
    host = (urlsplit(url).hostname or "") if url else ""
    if provider_kind in ("template", "ollama") or (host and is_loopback_host(host)):
        return AutoCaptionEstimate(seconds, 0.0, timing + " Runs on your own machine: no charge.")
    if provider_kind == "openai" and (not host or host == "api.openai.com"):
        price = _price_for(model or "gpt-4o-mini")
        if price is None:
            return AutoCaptionEstimate(
                seconds, None, timing + f" No price known for “{model}”; see OpenAI's pricing page."
            )
        return AutoCaptionEstimate(
            seconds,
            count * price,
            timing + f" Cost from OpenAI list prices (2025) for {model or 'gpt-4o-mini'} at "
            f"${price:.4f} per picture (low image detail, ~60-token captions).",
        )
    if provider_kind == "huggingface":
        return AutoCaptionEstimate(
            seconds,
            None,
            timing + " Hugging Face bills compute time against your account's monthly credits; "
            "see huggingface.co/settings/billing.",
        )
    return AutoCaptionEstimate(
        seconds, None, timing + " This service's prices are not known to LoRA Studio."
    )


def _price_for(model: str) -> float | None:
    # The model itself or a dated snapshot of it ("gpt-4o-mini-2024-07-18"), nothing looser:
    # "gpt-4.1-mini" must not be priced as gpt-4.1.
    for name, price in _OPENAI_PER_IMAGE.items():
        if model == name or model.startswith(name + "-20"):
            return price
    return None
