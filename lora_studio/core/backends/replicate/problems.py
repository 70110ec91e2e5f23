"""Core/Replicate: turn Replicate's error replies into sentences the artist can act on.

Replicate answers errors with RFC-7807-ish JSON (`type`, `title`, `status`, `detail`, any of them
may be missing; docs/protocols.md §3.1). `ReplicateHttp` overrides the shared client's status wording so
every 401/402/404/413/422/429 names Replicate, quotes its `detail` and says what to do; transport
rules (timeouts, retries, Retry-After, redaction) stay in `core.backends.http`.
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx

from lora_studio.core.backends.http import HttpClient, HttpStatusError
from lora_studio.core.errors import BackendError, BackendUnavailableError

TOKEN_HELP = (
    "Create a token at https://replicate.com/account/api-tokens and store it in Settings → "
    "Replicate → API token (kept in the system keychain) or set REPLICATE_API_TOKEN."
)


def problem_detail(response: httpx.Response) -> str:
    """`detail` (else `title`) of a problem body, or '' when the body is not one."""
    with contextlib.suppress(Exception):
        body: Any = response.json()
        if isinstance(body, dict):
            for key in ("detail", "title"):
                value = body.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
    return ""


class ServerTroubleError(BackendUnavailableError):
    """A gateway status (502/503/504): temporary, and a POST may or may not have been done."""

    def __init__(self, user_message: str, status: int) -> None:
        super().__init__(user_message)
        self.status = status


class ReplicateHttp(HttpClient):
    """The shared HTTP client with Replicate's error wording."""

    def status_error(self, response: httpx.Response, action: str) -> BackendError:
        code = response.status_code
        detail = self.redact(problem_detail(response))[:300]
        quoted = f" Replicate said: “{detail}”" if detail else ""
        if code == 401:
            return BackendUnavailableError(
                f"Replicate refused the API token while {action} (HTTP 401).{quoted} {TOKEN_HELP}"
            )
        if code == 402:
            return HttpStatusError(
                f"Replicate refused {action}: the account has no credit left (HTTP 402).{quoted} "
                "Add credit or a payment method at https://replicate.com/account/billing.",
                code,
            )
        if code == 403:
            return HttpStatusError(
                f"Replicate did not allow {action} (HTTP 403).{quoted} Check that the token "
                "belongs to the account or organisation that owns the model.",
                code,
            )
        if code == 404:
            return HttpStatusError(
                f"Replicate could not find what was needed for {action} (HTTP 404).{quoted}",
                code,
            )
        if code == 413:
            return HttpStatusError(
                f"Replicate refused {action}: the file is too large (HTTP 413).{quoted} "
                "Replicate accepts files under 100 MB; use fewer or smaller images.",
                code,
            )
        if code == 422:
            return HttpStatusError(
                f"Replicate rejected {action} (HTTP 422).{quoted} Check the trainer model and "
                "its version in the Replicate settings.",
                code,
            )
        if code == 429:
            return BackendUnavailableError(
                f"Replicate is rate-limiting this account (HTTP 429) while {action}; LoRA Studio "
                f"waited as asked and gave up.{quoted} Try again in a minute."
            )
        if code in (502, 503, 504):
            return ServerTroubleError(
                f"Replicate is not answering properly (HTTP {code}) while {action}; it is usually "
                "a short outage — try again in a few minutes.",
                code,
            )
        if code >= 500:
            return HttpStatusError(
                f"Replicate had an internal problem while {action} (HTTP {code}).{quoted} It is "
                "usually temporary; try again in a few minutes.",
                code,
            )
        return HttpStatusError(f"Replicate rejected {action} (HTTP {code}).{quoted}", code)
