"""Test helper: where view tests keep the screenshots they take so a person can look at them.

`LORA_STUDIO_TEST_SHOTS=DIR` keeps them in `DIR/<group>/`; otherwise they go to one fresh
temporary folder per test process — never a fixed path that concurrent runs would share.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path


@functools.cache
def _root() -> Path:
    chosen = os.environ.get("LORA_STUDIO_TEST_SHOTS")
    return Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="lora-studio-shots-"))


def shots_dir(group: str) -> Path:
    """The folder for one test module's screenshots (created)."""
    folder = _root() / group
    folder.mkdir(parents=True, exist_ok=True)
    return folder
