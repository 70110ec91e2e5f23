"""The Dataset page's import summary names failures and pictures imported with a warning."""

from __future__ import annotations

from pathlib import Path

from lora_studio.core.dataset import ImportReport
from lora_studio.core.dataset.importer import ImportedFile, ImportProblem
from lora_studio.viewmodels.dataset.core_adapter import import_problem_text


def test_failures_and_warnings_are_both_named() -> None:
    report = ImportReport(
        imported=(ImportedFile("a.jpg", Path("/d/a.jpg")),),
        failed=(ImportProblem("pipe.jpg", "pipe.jpg is a device, pipe or socket."),),
        skipped=(),
        warnings=(ImportProblem("a.jpg", "a.jpg: a.jpg is truncated."),),
    )
    text = import_problem_text(report)
    assert "1 file could not be imported: pipe.jpg" in text
    assert "1 file was imported but needs a look: a.jpg: a.jpg is truncated." in text
    assert import_problem_text(ImportReport((), (), ())) == ""
