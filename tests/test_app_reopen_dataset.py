"""Start-up reopens the dataset the artist had open last time; opening one remembers it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

SCRIPT = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from lora_studio import app as app_module
from lora_studio.views.main_window import MainWindow
from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel

tries = [0]

def check():
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    vms = [vm for w in windows for vm in getattr(w, "view_models", []) if isinstance(vm, DatasetViewModel)]
    tries[0] += 1
    if vms and vms[0].image_count or tries[0] > 200:
        print("OPEN", vms[0].folder if vms else "", vms[0].image_count if vms else -1, flush=True)
        windows[0].close()
        return
    QTimer.singleShot(50, check)

application = app_module.create_application()
QTimer.singleShot(100, check)
sys.exit(app_module.run_gui())
"""


def test_the_last_dataset_is_reopened_at_start(tmp_path: Path) -> None:
    home = tmp_path / "home"
    dataset = tmp_path / "anna"
    dataset.mkdir()
    for i in range(2):
        Image.new("RGB", (64, 64), (i * 90, 30, 60)).save(dataset / f"p{i}.jpg")
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(
        json.dumps({"schema_version": 2, "last_dataset_dir": str(dataset)}), encoding="utf-8"
    )
    env = dict(os.environ, LORA_STUDIO_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=90
    )
    assert result.returncode == 0, result.stderr
    # Closing while the page still checks the pictures leaves no warning behind.
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert f"OPEN {dataset} 2" in result.stdout
    saved = json.loads((home / "config" / "settings.json").read_text(encoding="utf-8"))
    assert saved["last_dataset_dir"] == str(dataset)
    assert saved["recent_datasets"][0] == str(dataset)
