"""The Train wizard's sentences about a dataset and the doctor's findings (pure functions)."""

from __future__ import annotations

from pathlib import Path

from lora_studio.core.config.presets import get_preset
from lora_studio.core.dataset import Finding, Kind, Severity
from lora_studio.core.training.dataset_input import load_training_dataset
from lora_studio.viewmodels.train.parameters_step_vm import output_name_for, parameter_fields
from lora_studio.viewmodels.train.summaries import (
    EMPTY_SUMMARY,
    caption_callout,
    describe_skipped,
    findings_warning,
    kind_label,
    skipped_warning,
    summarise_findings,
)
from tests.dataset_fixtures import truncate_to_half, write_picture


def finding(name: str, kind: Kind, severity: Severity) -> Finding:
    return Finding(Path(f"/d/{name}"), kind, severity, f"{name}: {kind.value}")


def test_findings_are_counted_by_kind_worst_first() -> None:
    findings = [
        finding("b.png", Kind.MISSING_CAPTION, Severity.WARNING),
        finding("a.png", Kind.MISSING_CAPTION, Severity.WARNING),
        finding("c.png", Kind.EMPTY_CAPTION, Severity.WARNING),
        finding("x.txt", Kind.ORPHAN_CAPTION, Severity.INFO),
        finding("z.jpg", Kind.NOT_AN_IMAGE, Severity.ERROR),
    ]
    summary = summarise_findings(findings, examples=3)
    assert summary.counts == (
        ("Not an image", "error", 1),
        ("Missing caption", "warning", 2),
        ("Empty caption", "warning", 1),
        ("Orphan caption", "info", 1),
    )
    assert summary.examples == (
        "z.jpg: not_an_image",
        "a.png: missing_caption",
        "b.png: missing_caption",
    )
    assert summary.problems == 4 and summary.missing_captions == 3
    assert summary.needs_acknowledgement
    assert findings_warning(summary) == (
        "Captions check: 4 problems — Not an image ×1, Missing caption ×2, Empty caption ×1."
    )


def test_information_alone_needs_no_decision() -> None:
    summary = summarise_findings([finding("x.txt", Kind.ORPHAN_CAPTION, Severity.INFO)])
    assert not summary.needs_acknowledgement and findings_warning(summary) == ""
    assert not EMPTY_SUMMARY.needs_acknowledgement


def test_caption_callout_says_how_many_and_what_to_do() -> None:
    assert caption_callout(0, 10) == ""
    assert caption_callout(3, 10).startswith("3 of the 10 images have no caption. ComfyUI")
    assert caption_callout(2, 2).startswith("None of the 2 images has a caption.")
    assert "Re-check" in caption_callout(1, 5)


def test_skipped_pictures_in_a_list_and_on_one_line(tmp_path: Path) -> None:
    for i in range(2):
        write_picture(tmp_path / f"ok{i}.jpg", i, (320, 240))
    config = get_preset("fast", tmp_path / "cfg").config
    assert describe_skipped(load_training_dataset(tmp_path, config)) == ""
    for i in range(5):
        truncate_to_half(write_picture(tmp_path / f"r{i}.jpg", 10 + i, (320, 240)))
    dataset = load_training_dataset(tmp_path, config)
    notice = (
        "5 of 7 pictures cannot be decoded and are left out: r0.jpg, r1.jpg, r2.jpg, r3.jpg, "
        "r4.jpg. The doctor on the Dataset page says what is wrong with each and moves them to "
        "the trash."
    )
    assert skipped_warning(dataset) == notice
    lines = describe_skipped(dataset).split("\n")
    assert lines[0] == notice
    assert lines[1].startswith("• r0.jpg is truncated") and lines[-1] == "… and 2 more"
    assert "lora-studio" not in describe_skipped(dataset)  # no terminal command for the GUI


def test_labels_and_names() -> None:
    assert kind_label("exif_rotation") == "Rotated by EXIF"
    assert kind_label("something_new") == "Something new"
    assert output_name_for(Path("/x/My cat: pics")) == "My_cat_pics"
    assert output_name_for(Path("/x/...")) == "my_lora"
    names = [spec.name for spec in parameter_fields()]
    assert names[:3] == ["base_model", "trigger_word", "output_name"]
    assert {spec.name for spec in parameter_fields() if spec.optional} == {"max_steps"}
