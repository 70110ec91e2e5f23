"""Core: API tokens from the OS keychain (keyring) or the environment — never from files.

Lookup order: environment variable (e.g. REPLICATE_API_TOKEN) then keychain entry
(service "lora-studio", user = the secret's name). Writing goes to the keychain only.
"""

from __future__ import annotations

import logging
import os

from lora_studio.core.errors import ConfigError
from lora_studio.core.redact import register_secret

log = logging.getLogger(__name__)
KEYRING_SERVICE = "lora-studio"


def get_secret(name: str, env_var: str | None = None) -> str | None:
    """Return the secret called `name`, or None when it is not set anywhere."""
    if env_var and os.environ.get(env_var):
        value = os.environ[env_var]
        register_secret(value)  # masked in every message from now on
        return value
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            stored = keyring.get_password(KEYRING_SERVICE, name)
            register_secret(stored)
            return stored
        except KeyringError as exc:
            log.info("Keychain unavailable while reading %s: %s", name, type(exc).__name__)
            return None
    except ImportError:
        return None


def set_secret(name: str, value: str) -> None:
    """Store a secret in the OS keychain; explains what to do when no keychain is available."""
    try:
        import keyring
        from keyring.errors import KeyringError

        keyring.set_password(KEYRING_SERVICE, name, value)
    except (ImportError, KeyringError, RuntimeError) as exc:
        raise ConfigError(
            f"No system keychain is available to store {name}. Set it as an environment "
            "variable instead; LoRA Studio never writes tokens to files.",
            detail=type(exc).__name__,
        ) from exc
