"""Test helper: a small dataset of generated pictures (Pillow) with captions, and the
view-models of the Captions page built on it (a DatasetViewModel and a CaptionsViewModel)."""

from __future__ import annotations

from pathlib import Path

from tests.dataset_fixtures import write_picture

CAPTIONS = (
    "ohwx, red hair, smiling, outdoors",
    "ohwx, blue dress, standing, indoors",
    "red hair, portrait, close-up",
    None,  # no caption file
)


def make_caption_dataset(root: Path, count: int = 8) -> Path:
    """`count` pictures img_000.jpg…; captions cycle through CAPTIONS (every 4th has none)."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = write_picture(root / f"img_{i:03d}.jpg", i, (320 + 32 * (i % 3), 256))
        caption = CAPTIONS[i % len(CAPTIONS)]
        if caption is not None:
            image.with_suffix(".txt").write_text(caption, encoding="utf-8")
    return root


def caption_of(root: Path, name: str) -> str | None:
    path = (root / name).with_suffix(".txt")
    return path.read_text(encoding="utf-8") if path.exists() else None
