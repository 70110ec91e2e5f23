"""View-model helper for the Train wizard: the shared `viewmodels.background` under its old name
(every view-model runs background work the same way, with one error path)."""

from __future__ import annotations

from lora_studio.viewmodels.background import BackgroundWork, has_running_loop

__all__ = ["BackgroundWork", "has_running_loop"]
