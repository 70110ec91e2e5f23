"""Core: validation issues as sentences an artist can read.

One `Issue` type serves both pydantic's field-level errors (turned into sentences here) and the
cross-field rules of `validation.py`, so the wizard, the CLI and the backends show problems the same
way: `rank: must be between 4 and 128, got 256`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from lora_studio.core.errors import ConfigError

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One problem with a training configuration.

    `field` names the setting (or "config" for the whole thing); `message` is a sentence without
    the field name, so a form can show it beside the widget and `str(issue)` adds the name for logs
    and the command line.
    """

    field: str
    severity: Severity
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "severity": self.severity, "message": self.message}


def errors_only(issues: Iterable[Issue]) -> list[Issue]:
    return [issue for issue in issues if issue.is_error]


def warnings_only(issues: Iterable[Issue]) -> list[Issue]:
    return [issue for issue in issues if not issue.is_error]


class InvalidConfigError(ConfigError):
    """A configuration (or a value for one) was refused; `issues` holds every reason."""

    def __init__(self, issues: list[Issue], *, context: str = "") -> None:
        self.issues = issues
        lines = "; ".join(str(issue) for issue in issues) or "the configuration is invalid"
        prefix = f"{context}: " if context else ""
        super().__init__(f"{prefix}{lines}")


def _show(value: Any) -> str:
    # Strings get quotes so "got ''" and "got 'abc'" read clearly; numbers stay bare.
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _sentence(error: Any) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "value_error":
        message = str(error.get("msg", ""))
        return message.removeprefix("Value error, ")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number, got {_show(value)}"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number (for example 0.0001), got {_show(value)}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false, got {_show(value)}"
    if kind in ("enum", "literal_error"):
        return f"must be one of {ctx.get('expected', 'the listed values')}, got {_show(value)}"
    if kind in ("string_type", "string_too_long"):
        return "must be text" if kind == "string_type" else "is too long"
    if kind == "extra_forbidden":
        return "is not a setting LoRA Studio knows"
    if kind == "missing":
        return "is required"
    if kind in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt"))
        return f"must be at least {limit}, got {_show(value)}"
    if kind in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt"))
        return f"must be at most {limit}, got {_show(value)}"
    return str(error.get("msg", "is invalid"))


def issues_from_validation_error(exc: ValidationError) -> list[Issue]:
    """Turn pydantic's errors into `Issue`s: `rank: must be between 4 and 128, got 256`."""
    issues = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        field = ".".join(loc) if loc else "config"
        issues.append(Issue(field=field, severity="error", message=_sentence(error)))
    return issues
