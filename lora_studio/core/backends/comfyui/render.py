"""Core/ComfyUI: render test images with a LoRA — the sample grid's and `lora-studio render`'s
engine.

The graph is the one recorded on a real 0.3.64 server (docs/protocols.md §2.7,
`infer_with_lora_workflow.json`): CheckpointLoaderSimple → LoraLoaderModelOnly → CLIPTextEncode
(prompt, and an empty negative) → EmptyLatentImage → KSampler → VAEDecode → SaveImage. Without a
LoRA the loader is left out (the reference image). `lora_name` is a file in `models/loras` or
`output/loras` — both are LoRA folders, so a just-trained chunk file is usable at once.

A LoRA from elsewhere is put onto the server with the documented upload route: `POST
/upload/image` with `type=output` and `subfolder=loras` writes into `output/loras` (there is no
type check, §1.6). Servers refuse bodies over `/features` → `max_upload_size` (100 MB by
default); a bigger file has to be copied into `ComfyUI/models/loras` by hand, and the error says
so.

A render is short and rare, so completion is read from `/history/{id}` every half second rather
than through a websocket of its own; a prompt that vanished from queue and history (server
restart) fails with the reason instead of waiting forever.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lora_studio.core.backends.comfyui.client import ComfyClient
from lora_studio.core.errors import BackendError

SAVE_NODE = "8"
DEFAULT_MAX_UPLOAD = 100 * 1024 * 1024


@dataclass(frozen=True)
class RenderSettings:
    """How test images are made; the same for every checkpoint of a job so they compare."""

    base_model: str
    width: int = 512
    height: int = 512
    steps: int = 20
    cfg: float = 7.0
    sampler: str = "euler"
    scheduler: str = "normal"
    seed: int = 0
    strength: float = 1.0
    negative: str = ""


def render_graph(
    settings: RenderSettings, prompt: str, lora_name: str | None, prefix: str
) -> dict[str, Any]:
    """The API-format graph; `lora_name` None renders the base model alone (the reference)."""
    model: list[Any] = ["1", 0]
    graph: dict[str, Any] = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": settings.base_model}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": prompt}},
        "4": {
            "class_type": "CLIPTextEncode",
            "inputs": {"clip": ["1", 1], "text": settings.negative},
        },
        "5": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": settings.width, "height": settings.height, "batch_size": 1},
        },
    }
    if lora_name is not None:
        graph["2"] = {
            "class_type": "LoraLoaderModelOnly",
            "inputs": {
                "model": ["1", 0],
                "lora_name": lora_name,
                "strength_model": settings.strength,
            },
        }
        model = ["2", 0]
    graph["6"] = {
        "class_type": "KSampler",
        "inputs": {
            "model": model,
            "positive": ["3", 0],
            "negative": ["4", 0],
            "latent_image": ["5", 0],
            "seed": settings.seed,
            "steps": settings.steps,
            "cfg": settings.cfg,
            "sampler_name": settings.sampler,
            "scheduler": settings.scheduler,
            "denoise": 1.0,
        },
    }
    graph["7"] = {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}}
    graph[SAVE_NODE] = {
        "class_type": "SaveImage",
        "inputs": {"images": ["7", 0], "filename_prefix": prefix},
    }
    return graph


class ComfyRenderer:
    """Queues render graphs on one ComfyUI server and downloads the images."""

    def __init__(
        self,
        client: ComfyClient,
        client_id: str = "",
        *,
        poll_s: float = 0.5,
        timeout_s: float = 1800.0,
        lost_grace_s: float = 15.0,
    ) -> None:
        self.client = client
        self.client_id = client_id or f"lorastudio-render-{uuid.uuid4().hex[:8]}"
        self._poll_s, self._timeout_s, self._lost_grace_s = poll_s, timeout_s, lost_grace_s

    @staticmethod
    def checkpoints(backend_state: dict[str, Any]) -> list[tuple[int, str]]:
        """(step, LoRA file in output/loras) of every finished chunk of a ComfyUI job."""
        chunks = backend_state.get("chunks") or []
        return [
            (int(chunk["end_step"]), str(chunk["file"]))
            for chunk in chunks
            if isinstance(chunk, dict) and chunk.get("done") and chunk.get("file")
        ]

    async def loras(self) -> list[str]:
        """LoRA file names the server's LoraLoaderModelOnly accepts."""
        specs = await self.client.node_specs(["LoraLoaderModelOnly"])
        spec = specs.get("LoraLoaderModelOnly")
        if spec is None:
            raise BackendError(
                f"{self.client.where} has no LoraLoaderModelOnly node, so it cannot render with "
                "a LoRA. Update ComfyUI."
            )
        return list(spec.options("lora_name"))

    async def upload_lora(self, path: Path, name: str | None = None) -> str:
        """Put a local LoRA into the server's `output/loras` (as `name`, default its own file
        name); returns its name there."""
        size = (await asyncio.to_thread(path.stat)).st_size
        limit = await self._max_upload()
        if size > limit:
            raise BackendError(
                f"{path.name} is {size / 1e6:.0f} MB but {self.client.where} accepts uploads of "
                f"at most {limit / 1e6:.0f} MB. Copy it into ComfyUI/models/loras on the server "
                "by hand (or start ComfyUI with a larger --max-upload-size), then run this again."
            )
        data = await asyncio.to_thread(path.read_bytes)
        response = await self.client.http.request(
            "POST",
            "upload/image",
            files={"image": (name or path.name, data, "application/octet-stream")},
            data={"type": "output", "subfolder": "loras", "overwrite": "false"},
            action=f"the upload of {path.name}",
        )
        body = self.client.http.parse_json(response, "an upload")
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str):
            raise BackendError(f"{self.client.where} did not confirm the upload of {path.name}.")
        return name

    async def _max_upload(self) -> float:
        try:
            features = await self.client.http.get_json("features", action="reading its features")
        except BackendError:
            return DEFAULT_MAX_UPLOAD
        value = features.get("max_upload_size") if isinstance(features, dict) else None
        return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_MAX_UPLOAD

    async def render(
        self,
        settings: RenderSettings,
        prompt: str,
        lora_name: str | None,
        dest: Path,
        prefix: str = "lorastudio_samples/sample",
    ) -> Path:
        """Render one image and save it as `dest` (PNG); BackendError says what went wrong."""
        graph = render_graph(settings, prompt, lora_name, prefix)
        prompt_id = await self.client.queue_prompt(graph, self.client_id, str(uuid.uuid4()))
        entry = await self._wait(prompt_id)
        image = self._image_of(entry, prompt_id)
        dest.parent.mkdir(parents=True, exist_ok=True)
        return await self.client.download_output(
            image["filename"],
            str(image.get("subfolder") or ""),
            dest,
            str(image.get("type") or "output"),
        )

    async def _wait(self, prompt_id: str) -> dict[str, Any]:
        started = time.monotonic()
        missing_since: float | None = None
        while True:
            entry = await self.client.history(prompt_id)
            if entry is not None:
                return entry
            now = time.monotonic()
            if now - started > self._timeout_s:
                raise BackendError(
                    f"{self.client.where} did not finish a sample render within "
                    f"{self._timeout_s / 60:.0f} minutes; it is left in its queue."
                )
            queue = await self.client.queue()
            if queue.position(prompt_id) is None:
                missing_since = missing_since or now
                if now - missing_since > self._lost_grace_s:
                    raise BackendError(
                        f"{self.client.where} forgot the sample render (it was probably "
                        "restarted); run it again."
                    )
            else:
                missing_since = None
            await asyncio.sleep(self._poll_s)

    def _image_of(self, entry: dict[str, Any], prompt_id: str) -> dict[str, Any]:
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            messages = {m[0]: m[1] for m in status.get("messages") or [] if len(m) == 2}
            error = messages.get("execution_error") or {}
            raise BackendError(
                f"{self.client.where} could not render the sample: "
                f"{error.get('exception_type', 'error')}: {error.get('exception_message', '')}".strip()
            )
        images = ((entry.get("outputs") or {}).get(SAVE_NODE) or {}).get("images") or []
        if not images or not isinstance(images[0], dict) or "filename" not in images[0]:
            raise BackendError(
                f"{self.client.where} finished the render {prompt_id} but reported no image."
            )
        return images[0]
