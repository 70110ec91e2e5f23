"""Core/backends/kohya: the trainer's command as a person reads and reruns it.

The review shows it before the start (the run folder is not made yet, so its paths read
`<run folder>/…`), and every run keeps the exact one it ran in `command.sh`: a shell script that
starts the same training by hand, from the sd-scripts folder, with the same arguments. One flag
per line, quoted for a POSIX shell.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

RUN_FOLDER_PLACEHOLDER = "<run folder>"


def command_lines(program: Sequence[str], args: Sequence[str]) -> str:
    """`program` on the first line, then each `--flag [value]` on its own continued line."""
    lines = [shlex.join(program)]
    current: list[str] = []
    for arg in args:
        if arg.startswith("--") and current:
            lines.append(shlex.join(current))
            current = []
        current.append(arg)
    if current:
        lines.append(shlex.join(current))
    return " \\\n  ".join(lines)


def command_script(cwd: Path, program: Sequence[str], args: Sequence[str], about: str) -> str:
    """The text of `command.sh`: `about` as a comment, then cd into `cwd` and the command."""
    return (
        "#!/bin/sh\n"
        f"# {about}\n"
        "# Run it again by hand with: sh command.sh\n"
        f"cd {shlex.quote(str(cwd))} || exit 1\n"
        f"{command_lines(program, args)}\n"
    )
