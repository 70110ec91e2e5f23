"""Core: every kind of training backend, in one table — the only place that lists them.

How a backend kind registers (adding an engine touches this file once):

1. Write its settings model: a subclass of `BackendSettings` with `kind: Literal["mykind"] =
   "mykind"` and typed fields (pydantic, `extra="forbid"`). Settings hold no secrets: a token is
   only *named* (a `SecretRef`: keychain entry + environment variable) and fetched at build time
   through the `SecretGetter` the factory receives.
2. Write its factory: `def build(settings: MySettings, secrets: SecretGetter) -> TrainingBackend`
   (import the heavy backend module inside it, so reading settings stays cheap).
3. Describe it with one `BackendKind(kind, title, description, settings_model, factory, local,
   cost_model)` called `ENTRY` in a light module of its package (e.g.
   `core/backends/kohya/entry.py`), and add that module's path to `_ENTRY_MODULES` below.

The CLI (`--backend` choices), Settings (`Settings.backends`, migration, the page), the Train
wizard's backend step, the job service (rebuilding a job's backend) and the estimates
(`local` → no cost; `cost_model` → money from the duration) all read this table.

Settings are stored as JSON-able dicts (`{"kind": "comfyui", "name": "comfyui", "url": …}`),
validated into the kind's model by `parse_settings`. Several backends of one kind can be
configured (two ComfyUI servers); `name` tells them apart.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from lora_studio.core.backends.base import TrainingBackend
from lora_studio.core.config.estimates.estimate import Estimate
from lora_studio.core.errors import ConfigError
from lora_studio.core.redact import is_secret_name
from lora_studio.core.secrets import get_secret

SecretGetter = Callable[[str, str | None], str | None]
CostModel = Callable[[Estimate], Estimate]

# One line per kind; the module holds `ENTRY: BackendKind`. Imported lazily (on first use) so the
# entry modules may import this one for `BackendKind` / `BackendSettings`.
_ENTRY_MODULES: tuple[str, ...] = (
    "lora_studio.core.backends.comfyui.entry",
    "lora_studio.core.backends.kohya.entry",
    "lora_studio.core.backends.replicate.entry",
)


class BackendSettings(BaseModel):
    """What every configured backend has: its kind and a name unique among configured ones."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    kind: str
    name: str = ""  # "" → the kind; "studio-gpu" for a second ComfyUI server

    @property
    def label(self) -> str:
        return self.name or self.kind

    def identity(self) -> str:
        """What tells two configured backends of one kind apart (a server address, a folder)."""
        return self.label


class SecretRef(BaseModel):
    """Names a secret (keychain entry + environment variable); never holds it."""

    model_config = ConfigDict(extra="forbid")

    secret: str
    env: str | None = None
    header: str = "Authorization"
    scheme: str | None = None
    query_param: str | None = None
    optional: bool = False  # not set → send none instead of refusing


@dataclass(frozen=True)
class BackendKind:
    """One engine kind: what the app shows and how it builds, configures and prices it."""

    kind: str
    title: str  # "ComfyUI server"
    description: str  # one sentence for the wizard
    settings_model: type[BackendSettings]
    factory: Callable[[Any, SecretGetter], TrainingBackend]
    local: bool  # the artist's own machine: no money per run
    cost_model: CostModel | None = None  # duration (s) → money (USD); None when free

    def default_settings(self) -> BackendSettings:
        return self.settings_model.model_validate({"kind": self.kind})


_KINDS: dict[str, BackendKind] | None = None


def _load() -> dict[str, BackendKind]:
    global _KINDS
    if _KINDS is None:
        kinds: dict[str, BackendKind] = {}
        for module in _ENTRY_MODULES:
            entry: BackendKind = importlib.import_module(module).ENTRY
            kinds[entry.kind] = entry
        _KINDS = kinds
    return _KINDS


def register_backend(entry: BackendKind) -> None:
    """Add a kind at run time (tests, plug-ins); built-in kinds are listed in `_ENTRY_MODULES`."""
    _load()[entry.kind] = entry


def backend_kinds() -> tuple[BackendKind, ...]:
    return tuple(_load().values())


def kind_names() -> tuple[str, ...]:
    return tuple(_load())


def get_kind(kind: str) -> BackendKind:
    entry = _load().get(kind)
    if entry is None:
        known = ", ".join(_load()) or "none"
        raise ConfigError(f"Unknown training backend “{kind}” (this version offers: {known}).")
    return entry


def parse_settings(settings: Mapping[str, Any] | BackendSettings) -> BackendSettings:
    """Validate plain settings into the kind's model; ConfigError says which field is wrong."""
    if isinstance(settings, BackendSettings):
        return settings
    entry = get_kind(str(settings.get("kind") or ""))
    try:
        return entry.settings_model.model_validate(dict(settings))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"The {entry.title} settings are not valid: {problems}.") from exc


def build_backend(
    settings: Mapping[str, Any] | BackendSettings, *, secret_getter: SecretGetter = get_secret
) -> TrainingBackend:
    """Build the backend the settings describe; ConfigError explains what is wrong."""
    parsed = parse_settings(settings)
    return get_kind(parsed.kind).factory(parsed, secret_getter)


def http_credentials(
    kind_title: str,
    extra_headers: Mapping[str, str],
    token: SecretRef | None,
    secret_getter: SecretGetter,
) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query parameters for an HTTP backend, the token fetched from the secret store.

    Extra headers that look like credentials are refused: tokens are never kept in settings.
    """
    headers = {str(k): str(v) for k, v in extra_headers.items()}
    for name in headers:
        if is_secret_name(name, anywhere=True):
            raise ConfigError(
                f"The header “{name}” looks like it carries a credential. Tokens are not kept in "
                "settings: set the server's access token in Settings → Backends instead (it is "
                "stored in the system keychain)."
            )
    params: dict[str, str] = {}
    if token is None:
        return headers, params
    value = secret_getter(token.secret, token.env) if token.secret else None
    if not value and token.optional:
        return headers, params  # a token the artist may set; none is set, send none
    if not value:
        raise ConfigError(
            f"No access token is stored for this {kind_title} (“{token.secret}”). Enter it in "
            f"Settings → Backends, or set {token.env or 'its environment variable'}."
        )
    if token.query_param:
        params[token.query_param] = value
    else:
        headers[token.header] = f"{token.scheme} {value}" if token.scheme else value
    return headers, params


__all__ = [
    "BackendKind",
    "BackendSettings",
    "CostModel",
    "SecretGetter",
    "SecretRef",
    "backend_kinds",
    "build_backend",
    "get_kind",
    "http_credentials",
    "kind_names",
    "parse_settings",
    "register_backend",
]
