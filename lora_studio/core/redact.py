"""Core: scrub secrets (API tokens, bearer headers, URL credentials) from text — the one place
that knows what a secret looks like.

Two kinds of knowledge, both here so the whole app agrees:
- shapes and names: `is_secret_name` (setting keys, header names — used by the job record and the
  backend registry) and the text patterns `redact` masks (`Bearer …`, `token=…`, `hf_…`, …);
- values: every secret the app is configured with — tokens read by `core.secrets`, the headers and
  query parameters an HTTP client sends (`--header` values included) — is registered with
  `register_secret` when it is first used, and `redact` masks it literally everywhere: in text a
  server sends back (a node error quoting a header), in job records, logs and command output.

Used by the log handler, the crash dialog, job records, the CLI console and error formatting, so a
token that slipped into a message never reaches a file or the screen.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

# Words that make a setting key or header name a credential. Matched on whole words of a
# snake_case name ("hf_token", "proxy_authorization") so that training keys such as
# `class_tokens` or `max_token_length` are not mistaken for one.
_SECRET_WORDS = (
    r"token|api_?key|apikey|secret|secret_key|access_key|private_key|password|passwd"
    r"|authorization|auth|bearer|cookie|credentials?"
)
_SECRET_NAME_AT_END = re.compile(rf"(?:^|_)(?:{_SECRET_WORDS})$")
_SECRET_NAME_ANYWHERE = re.compile(_SECRET_WORDS)

_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(token\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\b(r8_)[A-Za-z0-9]{10,}"),
    re.compile(r"\b(hf_)[A-Za-z0-9]{10,}"),
    re.compile(r"\b(sk-)[A-Za-z0-9_-]{10,}"),
    re.compile(
        r"(?i)((?:api[_-]?key|token|password|secret|auth)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]{4,}"
    ),
    re.compile(r"(://[^/\s:@]+:)[^@\s/]+(@)"),
)

MASK = "***"
_MIN_REGISTERED = 6  # shorter values ("prod", "1") are words, and masking them would garble text

_lock = threading.Lock()
_registered: tuple[str, ...] = ()  # longest first, so a value containing another is masked whole


def is_secret_name(name: str, *, anywhere: bool = False) -> bool:
    """Whether a setting key or header name holds a credential.

    By default only the last word counts (`hf_token`, `replicate_api_key`; not `token_count`);
    `anywhere=True` is stricter, for header names: any of the words inside (`X-AuthToken-Id`).
    """
    normalised = name.strip().lower().replace("-", "_")
    pattern = _SECRET_NAME_ANYWHERE if anywhere else _SECRET_NAME_AT_END
    return bool(pattern.search(normalised))


def register_secret(*values: str | None) -> None:
    """Mask these values in every later `redact` (for this process)."""
    global _registered
    fresh = set()
    for value in values:
        if not value:
            continue
        fresh.add(value)
        scheme, _, rest = value.partition(" ")  # "Bearer abc…": the bare token too
        if rest and scheme.lower() in ("bearer", "token", "basic"):
            fresh.add(rest)
    fresh = {value for value in fresh if len(value.strip()) >= _MIN_REGISTERED}
    if not fresh:
        return
    with _lock:
        known = set(_registered)
        if fresh <= known:
            return
        _registered = tuple(sorted(known | fresh, key=len, reverse=True))


def registered_secrets() -> tuple[str, ...]:
    return _registered


def forget_secrets() -> None:
    """Drop every registered value (tests)."""
    global _registered
    with _lock:
        _registered = ()


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """Return `text` with registered and given literal secrets, and known secret shapes, masked."""
    extra = sorted((s for s in extra_secrets if s and len(s) >= 4), key=len, reverse=True)
    for secret in (*extra, *_registered):
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: m.group(1) + MASK + m.group(2), text)
        else:
            text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text
