"""The layer rules of docs/architecture.md §2, enforced by reading every module's imports with `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lora_studio"

# (package sub-path, forbidden import prefixes, why)
RULES = [
    (
        "core",
        (
            "PySide6",
            "shiboken6",
            "qasync",
            "pyqtgraph",
            "lora_studio.viewmodels",
            "lora_studio.views",
            "lora_studio.app",
        ),
        "core is pure Python: no Qt",
    ),
    (
        "core",
        ("lora_studio.paths",),
        "core holds no hidden user folders: app.py and the CLI pass them in",
    ),
    (
        "viewmodels",
        ("PySide6.QtWidgets", "pyqtgraph", "lora_studio.views"),
        "view-models use QtCore/QtGui only",
    ),
    (
        "views",
        ("httpx", "PIL", "lora_studio.core.backends", "sqlite3", "websockets", "aiohttp"),
        "views do no I/O",
    ),
]


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in imported_modules(path):
            if any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden):
                found.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return found


@pytest.mark.parametrize(
    ("layer", "forbidden", "why"), RULES, ids=["core-no-qt", "core-no-paths", "viewmodels", "views"]
)
def test_layer_imports(layer: str, forbidden: tuple[str, ...], why: str) -> None:
    assert (PACKAGE / layer).is_dir()
    assert violations(layer, forbidden) == [], why


def test_rule_detects_a_forbidden_import(tmp_path: Path) -> None:
    """The checker itself must catch `import PySide6` and `from PySide6.QtCore import X`."""
    bad = tmp_path / "bad.py"
    bad.write_text("import PySide6\nfrom PySide6.QtCore import QObject\nimport json\n")
    names = imported_modules(bad)
    forbidden = RULES[0][1]
    hits = [n for n in names if any(n == p or n.startswith(p + ".") for p in forbidden)]
    assert "PySide6" in hits and "PySide6.QtCore" in hits and "json" not in hits


def test_rule_detects_core_reaching_for_user_folders(tmp_path: Path) -> None:
    """Every spelling of importing lora_studio.paths is caught; other lora_studio modules are not."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from lora_studio import paths\nimport lora_studio.paths\n"
        "from lora_studio.paths import data_dir\nfrom lora_studio.core import errors\n"
    )
    forbidden = next(rule[1] for rule in RULES if rule[1] == ("lora_studio.paths",))
    names = imported_modules(bad)
    hits = [n for n in names if any(n == p or n.startswith(p + ".") for p in forbidden)]
    assert hits.count("lora_studio.paths") == 3
    assert "lora_studio.core.errors" not in hits
