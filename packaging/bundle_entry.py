"""Entry script of the PyInstaller bundle: one program, two launchers.

`lora-studio` (console) and `lora-studio-gui` (windowed on Windows/macOS: no console window) are
the same frozen program; the launcher's name picks `cli.main` or `cli.gui_main`, exactly like the
two entry points of the wheel. `freeze_support()` comes first so that a frozen child process
started by `multiprocessing` (on Windows and macOS: spawn) runs its task instead of the app.
"""

import multiprocessing
import sys
from pathlib import Path

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from lora_studio.cli import gui_main, main

    launcher = Path(sys.argv[0]).stem  # the name it was started by, symlinks included
    sys.exit(gui_main() if launcher.endswith("-gui") else main())
