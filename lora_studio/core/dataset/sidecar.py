"""Core/dataset: the `.lorastudio/` sidecar folder inside a dataset, and its manifest.

Layout (created lazily — opening or scanning a dataset never writes anything):

    DATASET/.lorastudio/manifest.json      project settings (atomic JSON with schema_version)
    DATASET/.lorastudio/thumbnails/        disk cache of encoded thumbnails (disposable)
    DATASET/.lorastudio/decode.json        which pictures decode, by path+mtime+size (disposable;
                                           see decode_check.py)
    DATASET/.lorastudio/trash/<batch>/     deleted pictures + captions, restorable

Why it never breaks the kohya layout: kohya globs image extensions directly inside each
`N_concept` folder (no recursion), and skips top-level folders whose name does not start with a
repeat count — `.lorastudio` does not, and the leading dot hides it from file browsers, from
ComfyUI's folder loaders and from our own scan. Tools that zip or upload a dataset must skip
`SIDECAR_NAME` (use `is_sidecar_path`).

If the dataset folder is read-only the sidecar cannot exist: `writable()` says so, the thumbnail
cache falls back to the user cache dir, and trash/manifest writes raise StorageError naming the
folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from lora_studio.core.atomic_io import atomic_write_text
from lora_studio.core.errors import StorageError

SIDECAR_NAME = ".lorastudio"
MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA_VERSION = 1

_manifest_lock = threading.Lock()


def is_sidecar_path(path: Path, root: Path) -> bool:
    """True for the sidecar folder and anything below it."""
    try:
        relative = Path(path).absolute().relative_to(Path(root).absolute())
    except ValueError:
        return False
    return bool(relative.parts) and relative.parts[0] == SIDECAR_NAME


@dataclass(frozen=True)
class DatasetManifest:
    """Per-dataset settings LoRA Studio remembers. Unknown keys survive in `extra`."""

    schema_version: int = MANIFEST_SCHEMA_VERSION
    created_at: str = ""
    trigger_word: str | None = None
    resolution: int | None = None
    batch_size: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> DatasetManifest:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the manifest is not a JSON object")
        known = {"schema_version", "created_at", "trigger_word", "resolution", "batch_size"}
        extra = dict(data.get("extra") or {})
        extra.update({k: v for k, v in data.items() if k not in known and k != "extra"})
        return cls(
            schema_version=int(data.get("schema_version", MANIFEST_SCHEMA_VERSION)),
            created_at=str(data.get("created_at", "")),
            trigger_word=_optional_str(data.get("trigger_word")),
            resolution=_optional_int(data.get("resolution")),
            batch_size=_optional_int(data.get("batch_size")),
            extra=extra,
        )


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


class Sidecar:
    """Paths of one dataset's sidecar folder plus manifest load/save. Cheap to construct."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self.directory = self.root / SIDECAR_NAME
        self.manifest_path = self.directory / MANIFEST_NAME
        self.thumbnails_dir = self.directory / "thumbnails"
        self.trash_dir = self.directory / "trash"

    def ensure(self) -> Path:
        """Create the sidecar folder; StorageError if the dataset folder is not writable."""
        try:
            self.directory.mkdir(exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"Cannot create LoRA Studio's folder inside {self.root}: "
                f"{exc.strerror or exc}. Is the dataset folder read-only?",
                detail=str(exc),
            ) from exc
        return self.directory

    def writable(self) -> bool:
        """Whether the sidecar exists or could be created (without creating it)."""
        if self.directory.is_dir():
            return os.access(self.directory, os.W_OK)
        return os.access(self.root, os.W_OK)

    def load_manifest(self) -> DatasetManifest:
        """The saved manifest, or defaults. A damaged file is set aside, never overwritten."""
        try:
            text = self.manifest_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return DatasetManifest()
        except OSError as exc:
            raise StorageError(
                f"Could not read {self.manifest_path}: {exc.strerror or exc}.", detail=str(exc)
            ) from exc
        try:
            return DatasetManifest.from_json(text)
        except (ValueError, TypeError):
            aside = self.manifest_path.with_name(f"{MANIFEST_NAME}.damaged-{int(time.time())}")
            with contextlib.suppress(OSError):
                self.manifest_path.replace(aside)
            return DatasetManifest()

    def save_manifest(self, manifest: DatasetManifest) -> None:
        if not manifest.created_at:
            manifest = replace(manifest, created_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        self.ensure()
        atomic_write_text(self.manifest_path, manifest.to_json())

    def update_manifest(self, **changes: Any) -> DatasetManifest:
        """Load, change the given fields, save atomically; serialised within this process."""
        with _manifest_lock:
            manifest = replace(self.load_manifest(), **changes)
            self.save_manifest(manifest)
            return self.load_manifest()
