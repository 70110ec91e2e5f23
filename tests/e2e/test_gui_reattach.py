"""The desktop app re-attaches at start-up: a job submitted by an earlier session and trained
while the app was closed is collected (downloaded, verified, stamped) by the GUI, which then
exits cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from lora_studio import paths
from lora_studio.core.jobs import JobStatus, JobStore
from lora_studio.core.weights import read_metadata
from tests.e2e.test_cli_train_comfyui import make_dataset
from tests.fakes.earlier_session import submit_without_following
from tests.fakes.fake_comfyui import FakeComfyUI

GUI_SCRIPT = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from lora_studio import app as app_module, paths
from lora_studio.core.jobs import JobStore
from lora_studio.views.main_window import MainWindow

store = JobStore(paths.job_store_file())
deadline = [100]  # × 100 ms

def poll():
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    deadline[0] -= 1
    if windows and (not store.unfinished() or deadline[0] <= 0):
        print("status-bar:", windows[0].statusBar().currentMessage(), flush=True)
        windows[0].show_page("jobs")
        QTimer.singleShot(300, windows[0].close)
        return
    QTimer.singleShot(100, poll)

application = app_module.create_application()
QTimer.singleShot(100, poll)
code = app_module.run_gui()
store.close()
sys.exit(code)
"""


def test_gui_collects_a_job_finished_while_it_was_closed(
    tmp_path: Path, isolated_home: Path
) -> None:
    with FakeComfyUI(tmp_path / "server", steps_per_second=500) as fake:
        folder = make_dataset(tmp_path / "ds", count=2)
        job = submit_without_following(fake.url, folder, max_steps=6, output_name="earlier_run")
        deadline = time.monotonic() + 30
        while (fake.pending or fake.running) and time.monotonic() < deadline:
            time.sleep(0.05)
        settings = isolated_home / "config" / "settings.json"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(json.dumps({"schema_version": 1, "comfyui_url": fake.url}))
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        result = subprocess.run(
            [sys.executable, "-c", GUI_SCRIPT], capture_output=True, text=True, env=env, timeout=90
        )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    with JobStore(paths.job_store_file()) as store:
        final = store.get(job.id)
    assert final.status is JobStatus.COMPLETED, final.error
    lora = Path(final.outputs[0])
    assert lora.parent == isolated_home / "loras" and lora.name == "earlier_run.safetensors"
    assert read_metadata(lora)["lorastudio.job_id"] == job.id
