"""The kohya command as the artist sees it: the review's preview and the run's `command.sh` say
exactly what ran — `sh command.sh` starts the trainer with the very same arguments."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from lora_studio.core.backends.kohya.backend import KohyaBackend
from lora_studio.core.backends.kohya.command_text import command_lines
from lora_studio.core.backends.kohya.entry import KohyaSettings
from tests.core.backends.test_kohya_backend import FAKE, run_job, training_config
from tests.fakes.tiny_checkpoint import write_checkpoint


def test_one_flag_per_line_quoted_for_the_shell() -> None:
    text = command_lines(
        ["/opt/py thon/bin/python", "train_network.py"],
        ["--output_name", "it's mine", "--gradient_checkpointing", "--seed", "7"],
    )
    assert text.splitlines() == [
        "'/opt/py thon/bin/python' train_network.py \\",
        "  --output_name 'it'\"'\"'s mine' \\",
        "  --gradient_checkpointing \\",
        "  --seed 7",
    ]


def test_command_sh_reruns_the_same_arguments_and_the_preview_shows_them(tmp_path: Path) -> None:
    model = write_checkpoint(tmp_path / "models" / "sd15.safetensors")
    argv_file = tmp_path / "argv.json"
    final, _, _, backend = run_job(tmp_path, model, {"FAKE_KOHYA_ARGV": str(argv_file)})
    ran = json.loads(argv_file.read_text())
    run_dir = Path(final.backend_state["run_dir"])
    script = run_dir / "command.sh"
    assert f"LoRA Studio job {final.id}" in script.read_text()

    # By hand, as the script says: the same trainer, the same arguments.
    again = tmp_path / "argv-again.json"
    env = {**os.environ, "FAKE_KOHYA_ARGV": str(again), "FAKE_KOHYA_TIME_SCALE": "0"}
    subprocess.run(["sh", str(script)], env=env, capture_output=True, timeout=60, check=False)
    assert json.loads(again.read_text()) == ran

    # The review's preview: the same, with the run folder not made yet.
    preview = backend.command_preview(training_config(model))
    assert preview is not None
    cd_line, command = preview.split("\n", 1)
    assert shlex.split(cd_line) == ["cd", str(FAKE)]
    program, script_path, *args = shlex.split(command.replace("\\\n", " "))
    assert (program, Path(script_path).name) == (sys.executable, ran[0])
    assert args == [
        arg.replace(str(run_dir), "<run folder>").replace(final.id, "<id>") for arg in ran[1:]
    ]


def test_no_preview_when_sd_scripts_is_not_set_up(tmp_path: Path) -> None:
    model = write_checkpoint(tmp_path / "sd15.safetensors")
    settings = KohyaSettings(sd_scripts=str(tmp_path / "nowhere"), python=sys.executable)
    assert KohyaBackend(settings).command_preview(training_config(model)) is None
