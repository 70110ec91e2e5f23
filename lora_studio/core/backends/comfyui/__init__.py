"""Core/ComfyUI: the backend for ComfyUI's native LoRA trainer (HTTP + websocket).

Modules: `client` (HTTP routes), `ws` (websocket session), `nodes` (node discovery), `graph`
(training graph), `params`/`validate` (config → trainer inputs and issues), `upload` (dataset),
`follow` (one prompt → events), `cancel`, `state` (re-attach record),
`backend` (`ComfyUIBackend`).
"""

from lora_studio.core.backends.comfyui.backend import ComfyUIBackend, ComfyUIOptions
from lora_studio.core.backends.comfyui.follow import FollowTimings

__all__ = ["ComfyUIBackend", "ComfyUIOptions", "FollowTimings"]
