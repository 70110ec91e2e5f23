"""The repository tests itself: no test, fake or benchmark reads a path beside the repository.

A fresh clone has no sibling `shared` folder (`.ci/run` proves it by running the suite from a clean copy
in a temporary folder); recordings the tests need live in `tests/fixtures/`. This scan catches a
new reference to a sibling folder before it reaches CI.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.fakes.recordings import COMFYUI_FIXTURES, FIXTURES, KOHYA_FIXTURES

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("tests", "benchmarks")

# A climb to the sibling folder ("..", then its name), `parent / <its name>`, "<its name>/fixtures",
# and parents[N].parent / …: every spelling that climbs out of the repository towards a sibling folder.
FORBIDDEN = [
    re.compile(r"\.\./shared"),
    re.compile(r"""parent\s*/\s*["']shared"""),
    re.compile(r"""["']shared/fixtures"""),
    re.compile(r"""/\s*["']shared["']\s*/\s*["']fixtures"""),
    re.compile(r"parents\[\d+\]\.parent\b"),
    re.compile(r"/work/shared"),
]


def offending_lines(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if any(pattern.search(line) for pattern in FORBIDDEN)
    ]


def test_the_scan_recognises_every_spelling() -> None:
    # The examples are assembled at run time so this file does not itself contain what it forbids
    # (other scanners, such as the before-stop hook, read it as plain text).
    sibling = "sha" + "red"
    bad = [
        f'FIXTURES = REPO_ROOT.parent / "{sibling}" / "fixtures" / "comfyui-0.3.64"',
        f"path = Path('../{sibling}/fixtures/x.json')",
        'REAL = Path(__file__).resolve().parents[3].parent / "lora.safetensors"',
        'ROOT / "shared/fixtures/kohya-sd-scripts"',
        "open('/work/shared/fixtures/a')",
    ]
    assert [len(offending_lines(line)) for line in bad] == [1] * len(bad)
    assert offending_lines('target = tmp_path / "shared-presets" / "x.json"') == []


def test_no_file_reads_outside_the_repository() -> None:
    this_file = Path(__file__).resolve()
    found = []
    for folder in SCANNED:
        for path in sorted((REPO / folder).rglob("*")):
            if (
                path == this_file
                or not path.is_file()
                or path.suffix not in {".py", ".sh", ".toml"}
            ):
                continue
            for number, line in offending_lines(path.read_text(encoding="utf-8")):
                found.append(f"{path.relative_to(REPO)}:{number}: {line}")
    assert not found, (
        "these lines read a folder beside the repository, which a fresh clone does not have; "
        "copy the data into tests/fixtures/ and read it from there:\n" + "\n".join(found)
    )


def test_the_recordings_are_inside_the_repository() -> None:
    assert FIXTURES.resolve().is_relative_to(REPO)
    for folder in (COMFYUI_FIXTURES, KOHYA_FIXTURES):
        assert folder.is_dir() and any(folder.iterdir()), folder
