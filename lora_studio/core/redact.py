"""Core: scrub secrets (API tokens, bearer headers, URL credentials) from text.

Used by the log handler, the crash dialog and error formatting, so a token that slipped into an
exception message never reaches a file or the screen.
"""

from __future__ import annotations

import re

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


def redact(text: str, extra_secrets: tuple[str, ...] = ()) -> str:
    """Return `text` with known secret shapes and the given literal secrets masked."""
    for secret in extra_secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: m.group(1) + MASK + m.group(2), text)
        else:
            text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text
