"""No message says "image(s)", "job(s)" or "file(s)": counts go through core.plurals.plural (issue 11,
"plurals right"). Walks every string literal of the package with `ast` (f-string parts included,
docstrings left out)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import lora_studio

PACKAGE = Path(lora_studio.__file__).parent
LAZY_PLURAL = re.compile(r"[A-Za-z]\(s\)")  # "image(s)", "file(s)"; not "http(s)" (below)


def test_no_message_writes_a_plural_in_parentheses() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            ):
                text = node.value.replace("http(s)", "")
                if LAZY_PLURAL.search(text):
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}")
    assert not found, "use core.plurals.plural():\n" + "\n".join(found)
