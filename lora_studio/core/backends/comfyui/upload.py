"""Core/ComfyUI: prepare the dataset images and upload them with their captions.

Where: `POST /upload/image` into `input/lorastudio/<job>` — one request per image and one per
`.txt` caption with the same stem (the endpoint accepts any file, docs/protocols.md §1.6).

Resizing — the choice and why: LoRA Studio resizes every image itself with Pillow, in an executor
thread, and never relies on the loader's `resize_method`:
- the 0.3.64 loader needs all images at one size, and its own options are poor for training
  data: `Crop` cuts from the top-left corner (heads get cut off) and `Pad` actually stretches;
  so each image is centre-cropped to `resolution × resolution` (ImageOps.fit, LANCZOS) and the
  loader runs with `resize_method: "None"`;
- the newer loader feeds a trainer that accepts mixed sizes, so with bucketing enabled each image
  keeps its aspect ratio at about `resolution²` pixels with sides in `bucket_reso_steps`
  multiples (like kohya's buckets); without bucketing the same square crop is used;
- either way the trainer sees the resolution the artist chose instead of 12-megapixel originals,
  and uploads are small (JPEG quality 95, EXIF rotation applied, transparency on white).
Files are renamed `img_0001.jpg` / `img_0001.txt` so odd characters in the artist's file names
cannot upset the server or the caption pairing.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from PIL import Image, ImageOps

from lora_studio.core.backends.base import DatasetItem, DatasetSummary
from lora_studio.core.backends.comfyui.client import ComfyClient
from lora_studio.core.dataset.formats import TooManyPixelsError, open_image
from lora_studio.core.errors import BackendError, DatasetError


@dataclass(frozen=True)
class ResizeRule:
    resolution: int
    keep_aspect: bool = False
    step: int = 64
    min_side: int = 256
    max_side: int = 2048

    def target(self, width: int, height: int) -> tuple[int, int]:
        if not self.keep_aspect:
            return self.resolution, self.resolution
        area = self.resolution * self.resolution
        aspect = width / height
        w = math.sqrt(area * aspect)
        h = area / w
        step = max(8, self.step)

        def snap(value: float) -> int:
            value = min(max(value, self.min_side), self.max_side)
            return max(step, int(value // step) * step)

        return snap(w), snap(h)


@dataclass(frozen=True)
class PreparedImage:
    stem: str
    jpeg: bytes
    caption: bytes
    size: tuple[int, int]


def prepare_image(item: DatasetItem, index: int, rule: ResizeRule) -> PreparedImage:
    """Load, orient, resize and encode one image (blocking: run it in an executor)."""
    caption = item.caption.strip()
    if not caption:
        raise DatasetError(
            f"{item.image.name} has no caption. ComfyUI's trainer needs a caption for every "
            "image; write one (or remove the image) and try again."
        )
    try:
        with open_image(item.image) as opened:  # what the scan and the checks opened
            opened.draft("RGB", (rule.resolution, rule.resolution))  # fast JPEG downscale
            image = ImageOps.exif_transpose(opened)
            if image.mode in ("RGBA", "LA", "P"):
                image = image.convert("RGBA")
                background = Image.new("RGBA", image.size, (255, 255, 255, 255))
                image = Image.alpha_composite(background, image)
            image = image.convert("RGB")
            size = rule.target(*image.size)
            image = ImageOps.fit(image, size, Image.Resampling.LANCZOS, centering=(0.5, 0.5))
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=95)
    except (OSError, ValueError, Image.DecompressionBombError, TooManyPixelsError) as exc:
        raise DatasetError(f"{item.image.name} could not be read as an image: {exc}") from exc
    return PreparedImage(f"img_{index:04d}", buffer.getvalue(), caption.encode("utf-8"), size)


async def upload_dataset(
    client: ComfyClient,
    dataset: DatasetSummary,
    subfolder: str,
    rule: ResizeRule,
    *,
    concurrency: int = 2,
    executor: Executor | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Prepare and upload every image + caption; returns the number of images uploaded."""
    if not dataset.items:
        raise DatasetError("The dataset has no images to train on.")
    loop = asyncio.get_running_loop()
    pending = iter(enumerate(dataset.items, start=1))
    done = 0

    async def worker() -> None:
        nonlocal done
        for index, item in pending:
            prepared = await loop.run_in_executor(executor, prepare_image, item, index, rule)
            for name, data, kind in (
                (f"{prepared.stem}.jpg", prepared.jpeg, "image/jpeg"),
                (f"{prepared.stem}.txt", prepared.caption, "text/plain"),
            ):
                stored = await client.upload(subfolder, name, data, kind)
                if stored != name:  # a renamed file would break the image/caption pairing
                    raise BackendError(
                        f"{client.where} stored {name} as {stored}; the caption pairing would "
                        "break, so the upload was stopped."
                    )
            done += 1
            if on_progress is not None:
                on_progress(done, len(dataset.items))

    tasks = [asyncio.ensure_future(worker()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        # The first failure is the one to report; stop the other workers quietly.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return done
