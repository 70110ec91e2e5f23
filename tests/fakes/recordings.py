"""Where the recorded engine traffic lives: `tests/fixtures/`, inside the repository.

Every test and fake reads recordings through these paths, so a fresh clone with nothing beside it
tests itself (`tests/test_self_contained.py` keeps it that way).
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
COMFYUI_FIXTURES = FIXTURES / "comfyui-0.3.64"
KOHYA_FIXTURES = FIXTURES / "kohya-sd-scripts"
