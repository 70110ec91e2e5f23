"""Core: apply `key=value` text overrides (from `--set` or a form) to a `TrainingConfig`.

Values arrive as strings; pydantic does the parsing ("32" → 32, "1e-4" → 0.0001, "yes" → True)
and this module adds what text input needs on top: "none"/"null"/"" clear an optional field,
unknown keys are refused with the list of valid ones (and a "did you mean"), and every bad value
is reported at once instead of one per run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from lora_studio.core.config.issues import InvalidConfigError, Issue, issues_from_validation_error
from lora_studio.core.config.training_config import TrainingConfig, settable_fields

_EMPTY_WORDS = frozenset({"", "none", "null", "default"})


def _optional_fields() -> frozenset[str]:
    # Fields whose default is None: for them "none" or an empty value means "not set".
    return frozenset(
        name for name, info in TrainingConfig.model_fields.items() if info.default is None
    )


def _unknown_key_issue(key: str, valid: list[str]) -> Issue:
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return Issue(
        field=key,
        severity="error",
        message=f"is not a training setting.{hint} Valid settings: {', '.join(valid)}.",
    )


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """Split `key=value` strings (the `--set` arguments); a pair without `=` is refused."""
    result: dict[str, str] = {}
    bad = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            bad.append(
                Issue(
                    field=pair or "--set",
                    severity="error",
                    message="must look like key=value, for example rank=32.",
                )
            )
            continue
        result[key.strip()] = value.strip()
    if bad:
        raise InvalidConfigError(bad)
    return result


def apply_overrides(config: TrainingConfig, overrides: Mapping[str, Any]) -> TrainingConfig:
    """A new config with `overrides` applied; the original is left untouched.

    Raises InvalidConfigError listing every unknown key and every refused value.
    """
    valid = settable_fields()
    optional = _optional_fields()
    issues: list[Issue] = []
    updates: dict[str, Any] = {}
    for key, raw in overrides.items():
        if key not in valid:
            issues.append(_unknown_key_issue(key, valid))
            continue
        value = raw.strip() if isinstance(raw, str) else raw
        if isinstance(value, str) and key in optional and value.lower() in _EMPTY_WORDS:
            value = None
        updates[key] = value
    data = config.model_dump(mode="json")
    data.update(updates)
    try:
        updated = TrainingConfig.model_validate(data)
    except ValidationError as exc:
        issues.extend(issues_from_validation_error(exc))
    if issues:
        raise InvalidConfigError(issues)
    return updated


def fit_buckets_to_resolution(config: TrainingConfig) -> TrainingConfig:
    """The same config with bucket bounds that hold its resolution (min ≤ resolution ≤ max).

    For forms that let the artist change the resolution but not the bucket bounds (the Train
    wizard): the SDXL preset's smallest bucket side is 512, so a 256 px training would otherwise
    be refused over a setting the form does not show. Bounds already holding it are kept."""
    if not config.bucketing:
        return config
    step = config.bucket_reso_steps
    low = min(config.min_bucket_reso, max(64, config.resolution // step * step))
    high = max(config.max_bucket_reso, -(-config.resolution // step) * step)
    if (low, high) == (config.min_bucket_reso, config.max_bucket_reso):
        return config
    try:
        return apply_overrides(config, {"min_bucket_reso": low, "max_bucket_reso": high})
    except InvalidConfigError:
        return config  # an odd bucket step: validation names the bound to change
