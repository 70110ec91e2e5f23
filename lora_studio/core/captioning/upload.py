"""Core/captioning: prepare a picture for upload to a vision model — smaller, re-encoded, no EXIF.

Why: a 12 MP phone photo is 3–6 MB and carries EXIF (GPS position, camera serial, time); vision
models look at ~0.5–1.5 MP anyway (OpenAI "low" detail is 512 px, LLaVA 336–672 px, Qwen2.5-VL
resizes to its own grid). So every image is decoded with JPEG draft scaling (libjpeg decodes at
1/2, 1/4… directly, the main speed-up on big photos), EXIF-rotated so the model sees it upright,
flattened to RGB, downscaled so its longer side is at most `max_side` (and at least 90 % of it
when the photo is bigger, so JPEG draft scaling can skip most of the decoding), and written as a
fresh JPEG without any EXIF/XMP/ICC metadata. Runs on a worker thread (the runner uses an executor).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image

from lora_studio.core.dataset.formats import describe_image_error, open_image
from lora_studio.core.dataset.imaging import apply_orientation, exif_orientation, to_rgb
from lora_studio.core.errors import CaptionError

DEFAULT_MAX_SIDE = 1024
JPEG_QUALITY = 90
DRAFT_SLACK = 0.9


@dataclass(frozen=True, slots=True)
class UploadImage:
    """An encoded picture ready to send: JPEG bytes without metadata, and its size."""

    data: bytes
    width: int
    height: int
    mime: str = "image/jpeg"
    encoded: str = ""  # base64 of `data`, made on the worker thread (not the event loop)

    def base64(self) -> str:
        return self.encoded or base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{self.base64()}"


def prepare_upload(path: Path, max_side: int = DEFAULT_MAX_SIDE) -> UploadImage:
    """Decode, orient, downscale and re-encode `path`; CaptionError naming the file on failure."""
    max_side = max(64, int(max_side))
    try:
        with open_image(path) as image:
            orientation = exif_orientation(image)
            if image.format == "JPEG":
                # draft() picks the smallest DCT scale (1/2, 1/4, 1/8) whose result still covers
                # the request on both sides: ask for the final size, not a max_side square, or
                # a 3:2 photo would be decoded at full size.
                # Accepting 90 % of max_side lets a 4000×3000 photo decode at 1/4 (1000×750)
                # instead of 1/2 (2000×1500): four times less work, and no model notices.
                width, height = image.size
                scale = min(1.0, DRAFT_SLACK * max_side / max(width, height))
                image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
            image.load()
            picture = to_rgb(image)
        picture = apply_orientation(picture, orientation)
        if max(picture.size) > max_side:
            # Shrinking by less than 2x after draft scaling: Pillow's box filter averages the
            # covered area (no aliasing) at ~1/3 of Lanczos' cost; a captioning model cannot
            # tell them apart.
            picture.thumbnail((max_side, max_side), Image.Resampling.BOX)
        out = BytesIO()
        # No exif=, icc_profile= or xmp= arguments: Pillow writes none of them then.
        picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False)
        data = out.getvalue()
        return UploadImage(
            data, picture.width, picture.height, encoded=base64.b64encode(data).decode("ascii")
        )
    except CaptionError:
        raise
    except Exception as exc:  # Pillow raises many types for damaged files
        raise CaptionError(describe_image_error(exc, Path(path)), detail=repr(exc)) from exc
