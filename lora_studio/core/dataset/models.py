"""Core/dataset: the plain data a dataset scan produces (immutable, safe to share across threads).

`ImageEntry` describes one picture from its header and its caption file — enough for the grid to
lay out rows, sort, filter and show badges before a single pixel is decoded. `DatasetScan` is the
whole folder: entries sorted by relative path, captions without a picture, and problems met while
walking the folder (each a sentence naming the file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LAYOUT_KOHYA = "kohya"  # at least one `N_concept` subfolder: N repeats per picture
LAYOUT_FLAT = "flat"  # pictures directly in the folder (and plain subfolders)


@dataclass(frozen=True, slots=True)
class ImageEntry:
    """One picture of a dataset, read from its header (no pixel decoded)."""

    path: Path  # absolute
    rel_path: str  # POSIX path relative to the dataset folder, e.g. "10_ohwx/a.jpg"
    folder: str  # relative folder: "" for the top level, else e.g. "10_ohwx"
    concept: str | None  # "ohwx" for "10_ohwx"; the folder name for other subfolders; None at top
    repeats: int  # kohya repeats from the folder name; 1 elsewhere
    width: int  # as displayed, EXIF orientation applied (0 when unreadable)
    height: int
    format: str | None  # Pillow's format name: "JPEG", "PNG", …; None when unreadable
    mode: str | None  # Pillow mode from the header: "RGB", "CMYK", "P", "I;16", "RGBA", …
    file_size: int  # bytes
    mtime_ns: int
    caption: str | None  # caption text, None when there is no caption file
    caption_encoding: str | None  # "utf-8", "cp1252", …; None when there is no caption file
    orientation: int = 1  # EXIF orientation tag (1 = upright; 5–8 swap width and height)
    high_bit_depth: bool = False  # 16 bits per channel in the file
    has_transparency: bool = False  # alpha channel or a transparent palette entry
    animated: bool = False  # more than one frame (GIF/WebP/PNG); only the first is used
    error: str | None = None  # why the header could not be read; the sentence names the file
    error_kind: str | None = None  # finding kind for `error` ("not_an_image", "empty_file", …)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def caption_path(self) -> Path:
        return self.path.with_suffix(".txt")

    @property
    def has_caption(self) -> bool:
        return self.caption is not None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def mtime(self) -> float:
        return self.mtime_ns / 1e9

    @property
    def stored_size(self) -> tuple[int, int]:
        """Width and height as stored in the file, before EXIF rotation (what kohya sees)."""
        if self.orientation in (5, 6, 7, 8):
            return self.height, self.width
        return self.width, self.height

    @property
    def aspect_ratio(self) -> float:
        return self.width / self.height if self.height else 0.0


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """Something met while walking the folder that is not one picture's header."""

    path: Path
    kind: str  # a doctor finding kind, e.g. "symlink_loop", "caption_not_utf8"
    message: str


@dataclass(frozen=True)
class DatasetScan:
    """Everything a scan found. `entries` is sorted by `rel_path` (case-insensitive)."""

    root: Path
    layout: str
    entries: tuple[ImageEntry, ...]
    orphan_captions: tuple[Path, ...] = ()
    problems: tuple[ScanProblem, ...] = ()
    _index: dict[Path, ImageEntry] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update((entry.path, entry) for entry in self.entries)

    def get(self, path: Path) -> ImageEntry | None:
        return self._index.get(Path(path))

    @property
    def readable(self) -> tuple[ImageEntry, ...]:
        return tuple(entry for entry in self.entries if entry.ok)

    def __len__(self) -> int:
        return len(self.entries)
