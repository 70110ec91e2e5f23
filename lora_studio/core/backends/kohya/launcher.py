"""Core/kohya: the tiny launcher between LoRA Studio and the trainer (run by the trainer's Python).

    python launcher.py RUN_DIR -- python train_network.py …

Standard library only: it runs under sd-scripts' own interpreter. It writes `RUN_DIR/launcher.pid`
first (so a run is findable even if LoRA Studio dies before it records the pid), starts the
trainer with SIGINT at its default (a launcher started in the background inherits it ignored, and
kohya would then train on after Ctrl-C), waits for it while ignoring SIGINT/SIGTERM itself (the
whole process group gets them; the trainer must be the one that reacts), and finally writes the
trainer's exit status to `RUN_DIR/exit_status` atomically. LoRA Studio — this process or one
started later — reads that file to learn how the run ended: the launcher outlives the app, the
log files stay readable, nothing depends on a pipe to a process that may be gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def _write_atomic(path: str, text: str) -> None:
    temp = path + ".tmp"
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: launcher.py RUN_DIR -- COMMAND …", file=sys.stderr)
        return 2
    run_dir, command = argv[0], argv[2:]
    _write_atomic(os.path.join(run_dir, "launcher.pid"), f"{os.getpid()}\n")
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # inherited by the trainer
    try:
        child = subprocess.Popen(command)
    except OSError as exc:
        print(f"Could not start {command[0]}: {exc}", file=sys.stderr)
        _write_atomic(os.path.join(run_dir, "exit_status"), "127\n")
        return 127
    _write_atomic(os.path.join(run_dir, "trainer.pid"), f"{child.pid}\n")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    code = child.wait()
    _write_atomic(os.path.join(run_dir, "exit_status"), f"{code}\n")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
