"""Every "Settings → X" that a message sends the artist to names a heading the Settings page shows
(issue 11 walk: the wizard and the kohya errors said "Settings → Backends", a heading the page did
not have)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from PySide6.QtWidgets import QApplication, QGroupBox, QLabel

import lora_studio

PLACE = re.compile(r"Settings → ([A-Z][A-Za-z]+)")


def _places() -> set[str]:
    found: set[str] = set()
    for path in Path(lora_studio.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.update(PLACE.findall(node.value))
    return found


def test_settings_places_named_in_messages_are_headings_of_the_page(qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    from lora_studio import app as app_module

    places = _places()
    assert "Backends" in places and "Replicate" in places
    services = app_module.build_services()
    window = app_module.build_window(QApplication.instance(), services)
    qtbot.addWidget(window)
    try:
        window.show()
        window.show_page("settings")
        page = next(spec.widget for spec in window.pages if spec.key == "settings")
        headings = [box.title() for box in page.findChildren(QGroupBox) if box.isVisible()]
        headings += [
            label.text()
            for label in page.findChildren(QLabel)
            if label.isVisible() and label.font().bold()
        ]
        for place in places:
            assert any(h.startswith(place) for h in headings), (place, headings)
    finally:
        window.close()
        services.executor.shutdown(wait=True, cancel_futures=True)
        services.job_store.close()
