"""An imported picture that needs a look is named as it now is in the dataset — never by the hidden
temporary file it was staged in (issue 11: "broken.jpg: .~ls18840-…part is truncated")."""

from __future__ import annotations

from pathlib import Path

from lora_studio.core.dataset import import_sources


def test_truncated_import_warning_names_the_imported_file(
    tmp_path: Path, dataset: Path, pictures
) -> None:  # type: ignore[no-untyped-def]
    pictures.jpeg(dataset / "broken.jpg", seed=5)  # the name is taken: the import is renamed
    whole = pictures.jpeg(tmp_path / "whole.jpg", size=(512, 384)).read_bytes()
    source = tmp_path / "in" / "broken.jpg"
    source.parent.mkdir()
    source.write_bytes(whole[: len(whole) // 2])
    report = import_sources(dataset, [source])
    assert [f.destination.name for f in report.imported] == ["broken_2.jpg"]
    [warning] = report.warnings
    assert warning.message.startswith("broken_2.jpg is truncated"), warning.message
    assert ".part" not in warning.message and ".~" not in warning.message
