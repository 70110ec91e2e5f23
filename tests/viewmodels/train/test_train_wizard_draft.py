"""The Train wizard keeps its draft: folder, preset and typed settings survive closing the window
(docs/architecture.md §6.1), and a broken draft file is set aside, not fatal."""

from __future__ import annotations

import json
from pathlib import Path

from lora_studio.core.config.wizard_draft import DRAFT_FILE_NAME, load_draft
from tests.viewmodels.train.train_helpers import DEAD_URL, wait_idle, write_dataset


def test_draft_survives_closing_and_reopening(
    service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    service = service_for(DEAD_URL)
    wizard, _ = wizard_for(service)
    folder = write_dataset(tmp_path / "set", count=2)
    wizard.set_dataset_folder(str(folder))
    wait_idle(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.parameters.loaded, timeout=5000)
    wizard.parameters.select_preset("sd15")
    wizard.parameters.set_field("rank", "24")
    wizard.parameters.set_field("trigger_word", "ohwx")
    wizard.shutdown()  # closing the window writes a pending draft at once

    draft = load_draft(tmp_path / "config")
    assert draft.folder == str(folder) and draft.preset == "sd15"
    assert draft.edits["rank"] == "24" and draft.edits["trigger_word"] == "ohwx"

    reopened, _ = wizard_for(service)
    wait_idle(qtbot, reopened)
    qtbot.waitUntil(lambda: reopened.parameters.loaded and reopened.dataset.is_ready, timeout=5000)
    assert reopened.dataset.folder == str(folder)
    assert reopened.parameters.selected_preset == "sd15"
    assert reopened.parameters.config.rank == 24
    assert reopened.parameters.config.trigger_word == "ohwx"


def test_draft_is_saved_shortly_after_an_edit(
    service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(DEAD_URL))
    qtbot.waitUntil(lambda: wizard.parameters.loaded, timeout=5000)
    wizard.parameters.set_field("rank", "40")
    path = tmp_path / "config" / DRAFT_FILE_NAME
    qtbot.waitUntil(lambda: path.exists() and '"40"' in path.read_text(), timeout=5000)


def test_broken_draft_is_set_aside(service_for, wizard_for, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config"
    config.mkdir()
    (config / DRAFT_FILE_NAME).write_text("{not json")
    wizard, _ = wizard_for(service_for(DEAD_URL))
    qtbot.waitUntil(lambda: wizard.parameters.loaded, timeout=5000)
    assert wizard.dataset.folder == ""
    assert (config / (DRAFT_FILE_NAME + ".broken")).read_text() == "{not json"
    json.dumps(load_draft(config).model_dump())  # a fresh, empty draft


def test_edit_as_new_fills_the_wizard_from_a_job(
    service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The Jobs page's "Edit as new": dataset, preset and the job's settings, ready to change."""
    wizard, _ = wizard_for(service_for(DEAD_URL))
    qtbot.waitUntil(lambda: wizard.parameters.loaded, timeout=5000)
    folder = write_dataset(tmp_path / "old job set", count=2)
    config = {
        "rank": 12,
        "trigger_word": "zxq",
        "output_name": "old_run",
        "shuffle_caption": True,
        "sample_prompts": ["zxq portrait", "zxq in the rain"],
    }
    wizard.load_job(str(folder), "sd15", config)
    wait_idle(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.dataset.is_ready, timeout=5000)
    assert wizard.dataset.folder == str(folder)
    assert wizard.parameters.selected_preset == "sd15"
    assert wizard.parameters.config.rank == 12
    assert wizard.parameters.config.trigger_word == "zxq"
    assert wizard.parameters.config.sample_prompts == ["zxq portrait", "zxq in the rain"]
