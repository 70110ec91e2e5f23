"""The real GUI entry point: start on a qasync loop, close the window, exit 0 with a quiet stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from lora_studio import app as app_module
from lora_studio.views.main_window import MainWindow

def close_main_window():
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if not windows:
        QTimer.singleShot(50, close_main_window)
        return
    windows[0].show_page("settings")
    windows[0].resize(900, 640)
    QTimer.singleShot(100, windows[0].close)

application = app_module.create_application()
QTimer.singleShot(200, close_main_window)
sys.exit(app_module.run_gui())
"""


def _run(home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LORA_STUDIO_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60
    )


def test_closing_the_window_exits_cleanly_and_remembers_layout(tmp_path: Path) -> None:
    result = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    assert "Event loop stopped" not in result.stdout + result.stderr
    state = (tmp_path / "config" / "window-state.ini").read_text()
    assert "page=settings" in state and "geometry=" in state
    log_text = (tmp_path / "logs" / "lora-studio.log").read_text()
    assert "exiting with 0" in log_text
