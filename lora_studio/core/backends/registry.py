"""Core: build training backends from plain settings; the only place that knows every kind.

Settings are a JSON-able dict saved with the app settings, e.g.

    {"kind": "comfyui", "url": "https://comfy.example.org", "allow_insecure_http": false,
     "extra_headers": {"X-Team": "art"},
     "token": {"secret": "comfyui_proxy_token", "env": "LORA_STUDIO_COMFYUI_TOKEN",
               "header": "Authorization", "scheme": "Bearer"},
     "options": {"chunked": null, "chunk_steps": 250}}

Secrets never live in settings: `token` only *names* a secret (`"optional": true` sends none
when it is not set instead of refusing), fetched through
`core.secrets.get_secret` (environment, then keychain) and sent as a header (`header` +
optional `scheme`) or as a query parameter (`query_param`) for proxies that want one.
Extra headers that look like credentials are refused for the same reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from lora_studio.core.backends.base import TrainingBackend
from lora_studio.core.errors import ConfigError
from lora_studio.core.secrets import get_secret

SecretGetter = Callable[[str, str | None], str | None]
Factory = Callable[[Mapping[str, Any], dict[str, str], dict[str, str]], TrainingBackend]

_SECRET_HEADER = re.compile(
    r"(?i)^(authorization|proxy-authorization|cookie)$|token|secret|"
    r"api[-_]?key|password"
)
_FACTORIES: dict[str, Factory] = {}


def register_backend(kind: str, factory: Factory) -> None:
    """Make `kind` buildable; factories get (settings, headers, query params) with secrets in."""
    _FACTORIES[kind] = factory


def _credentials(
    settings: Mapping[str, Any], secret_getter: SecretGetter
) -> tuple[dict[str, str], dict[str, str]]:
    headers = {str(k): str(v) for k, v in (settings.get("extra_headers") or {}).items()}
    for name in headers:
        if _SECRET_HEADER.search(name):
            raise ConfigError(
                f"The header “{name}” looks like it carries a credential. Tokens are not kept in "
                "settings: set the server's access token in Settings → Backends instead (it is "
                "stored in the system keychain)."
            )
    params: dict[str, str] = {}
    token = settings.get("token")
    if token:
        secret_name = str(token.get("secret") or "")
        value = secret_getter(secret_name, token.get("env")) if secret_name else None
        if not value and token.get("optional"):
            return headers, params  # a token the artist may set; none is set, send none
        if not value:
            raise ConfigError(
                f"No access token is stored for this {settings.get('kind')} server "
                f"(“{secret_name}”). Enter it in Settings → Backends, or set "
                f"{token.get('env') or 'its environment variable'}."
            )
        if token.get("query_param"):
            params[str(token["query_param"])] = value
        else:
            scheme = token.get("scheme")
            headers[str(token.get("header") or "Authorization")] = (
                f"{scheme} {value}" if scheme else value
            )
    return headers, params


def build_backend(
    settings: Mapping[str, Any], *, secret_getter: SecretGetter = get_secret
) -> TrainingBackend:
    """Build the backend `settings["kind"]` describes; ConfigError explains what is wrong."""
    kind = str(settings.get("kind") or "")
    factory = _FACTORIES.get(kind)
    if factory is None:
        known = ", ".join(sorted(_FACTORIES)) or "none"
        raise ConfigError(f"Unknown training backend “{kind}” (this version offers: {known}).")
    headers, params = _credentials(settings, secret_getter)
    return factory(settings, headers, params)


def _comfyui(
    settings: Mapping[str, Any], headers: dict[str, str], params: dict[str, str]
) -> TrainingBackend:
    from lora_studio.core.backends.comfyui.backend import ComfyUIBackend, ComfyUIOptions

    url = str(settings.get("url") or "http://127.0.0.1:8188")
    raw = dict(settings.get("options") or {})
    allowed = {"chunked", "chunk_steps", "auto_chunk_min_steps", "upload_concurrency"}
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigError(f"Unknown ComfyUI option(s): {', '.join(sorted(unknown))}.")
    return ComfyUIBackend(
        url,
        headers=headers,
        params=params,
        allow_insecure_http=bool(settings.get("allow_insecure_http", False)),
        options=ComfyUIOptions(**raw),
    )


register_backend("comfyui", _comfyui)
