"""User directories and resource lookup — the only module that decides where files live.

`core/` never imports it: the composition roots (app.py, the CLI commands) pass these folders in.

`LORA_STUDIO_HOME` (or `--data-dir`, which sets it) redirects every user directory under one folder
(config/, data/, cache/, logs/) so tests and portable installs never touch the real ones. Otherwise
the platform's conventions apply (platformdirs).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

HOME_ENV = "LORA_STUDIO_HOME"
_APP = "lora-studio"
GUIDE_NAME = "artists-guide.md"


def set_home(directory: str | os.PathLike[str]) -> None:
    """Redirect all user directories under `directory` for this process and its children."""
    os.environ[HOME_ENV] = str(Path(directory).expanduser().resolve())


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return Path(value) if value else None


def _ensure(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from lora_studio.core.errors import StorageError  # paths is imported by core: no cycle

        where = f" (set by {HOME_ENV} or --data-dir)" if _home() else ""
        raise StorageError(
            f"LoRA Studio cannot create its folder {path}{where}: {exc.strerror or exc}. Make it "
            f"writable, or choose another folder with --data-dir DIR or {HOME_ENV}.",
            detail=str(exc),
        ) from exc
    return path


def config_dir() -> Path:
    """Settings and user presets."""
    home = _home()
    return _ensure(home / "config" if home else Path(platformdirs.user_config_dir(_APP)))


def data_dir() -> Path:
    """Job store and other durable application data."""
    home = _home()
    return _ensure(home / "data" if home else Path(platformdirs.user_data_dir(_APP)))


def cache_dir() -> Path:
    """Disposable caches (may be deleted at any time)."""
    home = _home()
    return _ensure(home / "cache" if home else Path(platformdirs.user_cache_dir(_APP)))


def log_dir() -> Path:
    """Rotating log files."""
    home = _home()
    return _ensure(home / "logs" if home else Path(platformdirs.user_log_dir(_APP)))


def output_dir() -> Path:
    """Default folder for trained LoRAs: visible to the artist (Documents), not hidden app data."""
    home = _home()
    return _ensure(
        home / "loras" if home else Path(platformdirs.user_documents_dir()) / "LoRA Studio"
    )


def datasets_dir() -> Path:
    """Default folder for new datasets ("New dataset", "Copy into a new dataset"): visible to
    the artist beside their pictures. Created when the first dataset is made, not here."""
    home = _home()
    return home / "datasets" if home else Path(platformdirs.user_pictures_dir()) / "LoRA Studio"


def job_store_file() -> Path:
    """The job history (SQLite) the app and every CLI command share; its locks sit beside it."""
    return data_dir() / "jobs.sqlite3"


def thumbnail_cache_dir() -> Path:
    """Thumbnails of datasets whose own sidecar folder cannot be written (read-only media)."""
    return cache_dir() / "thumbnails"


def backend_work_dir(kind: str) -> Path:
    """Where a backend that runs on this computer (kohya) keeps its runs unless told otherwise."""
    return data_dir() / kind


def log_file() -> Path:
    return log_dir() / "lora-studio.log"


def resource_dir() -> Path:
    """The `resources/` folder: in a frozen bundle, inside the installed package (a wheel, where
    setup.py copies it), or beside the package in a source tree / editable install."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    package = Path(__file__).resolve().parent
    candidates = []
    if frozen_root:
        candidates.append(Path(frozen_root) / "resources")
    candidates += [package / "resources", package.parent / "resources"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "LoRA Studio's resources folder is missing; reinstall the application "
        f"(looked in: {', '.join(str(c) for c in candidates)})"
    )


def docs_dir() -> Path:
    """The documentation (artist's guide, architecture and protocol notes): `resources/docs/` in a
    wheel or bundle, the top-level `docs/` folder in a source tree."""
    candidates = [resource_dir() / "docs", Path(__file__).resolve().parent.parent / "docs"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "LoRA Studio's documentation folder is missing; reinstall the application "
        f"(looked in: {', '.join(str(c) for c in candidates)})"
    )


def guide_file() -> Path:
    """The artist's guide the Help menu opens."""
    return docs_dir() / GUIDE_NAME


def resource(*parts: str) -> Path:
    """Path of one resource file, e.g. resource('icons', 'lora-studio.svg')."""
    return resource_dir().joinpath(*parts)
