"""`lora-studio --self-test`: build the whole GUI offscreen, every page shown once, and check what
it needs from disk (icons, presets, the artist's guide); optionally save one PNG per page. The
answer is the exit code (0 healthy) and one line per problem — CI and the bundle run it.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from lora_studio import paths
from lora_studio.app import app_icon, build_services, build_window, create_application
from lora_studio.logging_setup import route_qt_messages, setup_logging

log = logging.getLogger(__name__)


def self_test(screenshot_dir: Path | None = None) -> int:
    """Build the whole GUI without showing it to anyone; optionally save one PNG per page."""
    try:
        return _self_test(screenshot_dir)
    except Exception as exc:  # any failure is the verdict, reported in one line
        log.exception("self-test failed")
        print(f"self-test: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _self_test(screenshot_dir: Path | None) -> int:
    setup_logging(paths.log_file())
    route_qt_messages()
    app = create_application()
    services = build_services()
    problems: list[str] = []
    if app_icon().isNull():
        problems.append("the application icon could not be loaded from resources/icons")
    problems.extend(_check_presets())
    try:
        paths.guide_file().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"the artist's guide (Help menu) cannot be read: {exc}")
    window = build_window(app, services)
    window.show()
    app.processEvents()
    if screenshot_dir is not None:
        try:
            screenshot_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problems.append(f"cannot create the screenshot folder {screenshot_dir}: {exc.strerror}")
            screenshot_dir = None
    for index, key in enumerate(window.page_keys()):
        window.show_page(key)
        app.processEvents()
        if screenshot_dir is not None:
            target = screenshot_dir / f"{index + 1:02d}-{key}.png"
            if not window.grab().save(str(target)):
                problems.append(f"could not save the screenshot {target}")
    window.close()
    app.processEvents()
    services.executor.shutdown(wait=True)
    services.job_store.close()
    if problems:
        for problem in problems:
            print(f"self-test: {problem}", file=sys.stderr)
        return 1
    print(f"self-test: OK ({len(window.page_keys())} pages)")
    return 0


def _check_presets() -> list[str]:
    try:
        from lora_studio.core.config import presets
    except ImportError:
        return []
    try:
        loaded = presets.all_presets(paths.config_dir())
    except Exception as exc:  # report any failure as a self-test problem
        return [f"presets could not be loaded: {exc}"]
    return [] if loaded else ["no presets were found"]
