"""Core/dataset: frames from video files, every N seconds (PyAV, an optional dependency).

PyAV (`pip install 'lora-studio[video]'`) bundles FFmpeg, so every common container and codec
works without a system FFmpeg. Without it, `extract_frames` raises DatasetError with that sentence.
Frames are decoded in order and the first frame at or after each multiple of `interval` seconds is
kept; `on_frame` receives each as an RGB Pillow image and decides where it goes (the importer
names, encodes and writes it atomically).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image

from lora_studio.core.dataset.concurrency import CancelToken, is_cancelled
from lora_studio.core.errors import DatasetError, LoraStudioError

PYAV_MISSING = (
    "Importing frames from videos needs the optional PyAV package. Install it with "
    "pip install 'lora-studio[video]' and try again."
)


def pyav_available() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _import_av() -> Any:
    try:
        import av
    except ImportError as exc:
        raise DatasetError(PYAV_MISSING) from exc
    return av


def extract_frames(
    source: Path | BinaryIO,
    label: str,
    on_frame: Callable[[Image.Image, float], None],
    *,
    interval: float = 2.0,
    max_frames: int = 1000,
    cancel: CancelToken | None = None,
) -> int:
    """Call `on_frame(image, seconds)` for one frame every `interval` s; returns the count."""
    if interval <= 0:
        raise DatasetError("The frame interval must be more than 0 seconds.")
    av = _import_av()
    count = 0
    try:
        container = av.open(source if not isinstance(source, Path) else str(source))
    except Exception as exc:  # PyAV raises its own error tree for unreadable media
        raise DatasetError(f"{label} is not a video LoRA Studio can read ({exc}).") from exc
    try:
        if not container.streams.video:
            raise DatasetError(f"{label} has no video track.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # let FFmpeg use both cores for decoding
        next_time = 0.0
        for frame in container.decode(stream):
            if is_cancelled(cancel) or count >= max_frames:
                break
            seconds = float(frame.time) if frame.time is not None else count * interval
            if seconds + 1e-6 < next_time:
                continue
            on_frame(frame.to_image().convert("RGB"), seconds)
            count += 1
            next_time = (int(seconds / interval) + 1) * interval
    except LoraStudioError:
        raise  # e.g. a full disk while writing a frame: the import must stop
    except Exception as exc:  # a damaged stream halfway: keep the frames we have, say so
        if count == 0:
            raise DatasetError(f"{label} could not be decoded ({exc}).") from exc
    finally:
        container.close()
    if count == 0:
        raise DatasetError(f"{label} has no frames that could be decoded.")
    return count
