"""Core: job identifiers that sort by creation time and are safe in file names.

Shape: ``YYYYmmdd-HHMMSS-mmm-xxxxxx`` in UTC — date, time, milliseconds and six random lowercase
base32 characters, e.g. ``20250301-142233-087-k4m2qz``. Sorting the strings sorts the jobs by
creation time; within one process ids are strictly increasing even when two are made in the same
millisecond (the clock is bumped by 1 ms, like a monotonic ULID), so "newest first" never shuffles.
An explicitly given time is used as is.
"""

from __future__ import annotations

import re
import secrets
import threading
from datetime import UTC, datetime

_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base32, lowercase: no 0/1/8/9 confusion
_RANDOM_CHARS = 6

# Any id we accept (also hand-made ones in tests or imports) must be usable as a file or folder
# name on Windows, macOS and Linux: no separators, no leading dot, bounded length.
SAFE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")

_lock = threading.Lock()
_last_ms: int = 0


def _random_suffix() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_CHARS))


def new_job_id(now: datetime | None = None) -> str:
    """Return a fresh job id for `now` (UTC; defaults to the current time)."""
    global _last_ms
    if now is not None:
        # An explicit time (an imported or back-dated job) is taken as given.
        ms = int(now.astimezone(UTC).timestamp() * 1000)
    else:
        ms = int(datetime.now(UTC).timestamp() * 1000)
        with _lock:
            # Keep ids strictly increasing in this process even if the wall clock steps back or
            # two ids are made within the same millisecond.
            if ms <= _last_ms:
                ms = _last_ms + 1
            _last_ms = ms
    stamp = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{stamp:%Y%m%d-%H%M%S}-{ms % 1000:03d}-{_random_suffix()}"


def is_safe_job_id(value: str) -> bool:
    """True when `value` can be used as a job id (and therefore as a file name)."""
    return bool(SAFE_ID_PATTERN.match(value))
