"""Core: the error hierarchy.

Every expected failure becomes a `LoraStudioError` carrying a `user_message` that says what went
wrong, which file/job/server it concerns and what to do. Views show `user_message`; logs get `str()`.
"""

from __future__ import annotations


class LoraStudioError(Exception):
    """Base of all expected failures. `user_message` is shown to the artist as is."""

    def __init__(self, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(user_message if detail is None else f"{user_message} ({detail})")
        self.user_message = user_message
        self.detail = detail


class ConfigError(LoraStudioError):
    """Settings, presets or a training configuration are invalid."""


class StorageError(LoraStudioError):
    """Reading or writing the artist's files failed (permissions, full disk, corrupt file)."""


class DatasetError(LoraStudioError):
    """A dataset folder or one of its images/captions cannot be used."""


class BackendError(LoraStudioError):
    """A training backend failed, refused a job or is unreachable."""


class BackendUnavailableError(BackendError):
    """The backend cannot be reached or is not set up."""


class JobError(LoraStudioError):
    """A job record or a status transition is invalid."""


class WeightsError(LoraStudioError):
    """A .safetensors file is malformed, truncated or not a LoRA."""


class CaptionError(LoraStudioError):
    """A caption provider failed."""


class CancelledByUserError(LoraStudioError):
    """The artist cancelled a long operation."""
