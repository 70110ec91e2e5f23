"""One-line summaries of metadata values (what `inspect` and the GUI show instead of raw JSON)."""

from __future__ import annotations

import json

from lora_studio.core.weights import summarize_metadata_value


def test_short_values_are_shown_as_is_on_one_line() -> None:
    assert summarize_metadata_value("ss_network_dim", "16") == "16"
    assert summarize_metadata_value("modelspec.description", "two\nlines") == "two lines"


def test_tag_frequency_lists_the_most_common_tags_over_all_folders() -> None:
    value = json.dumps({"10_a": {"cat": 3, "red": 1}, "5_b": {"cat": 2, "blue": 4}})
    assert (
        summarize_metadata_value("ss_tag_frequency", value)
        == "2 folders, 3 tags: cat (5), blue (4), red (1)"
    )
    assert summarize_metadata_value("ss_tag_frequency", "{}") == "0 folders, no tags"


def test_dataset_dirs() -> None:
    value = json.dumps({"10_cat": {"n_repeats": 10, "img_count": 20}})
    assert summarize_metadata_value("ss_dataset_dirs", value) == "10_cat (20 images × 10 repeats)"


def test_long_json_and_text_and_images() -> None:
    datasets = json.dumps([{"subsets": [{"image_dir": "/x" * 100}]}] * 2)
    assert summarize_metadata_value("ss_datasets", datasets) == "JSON list of 2 items"
    bucket = json.dumps({f"k{i}": "v" * 20 for i in range(9)})
    assert summarize_metadata_value("ss_bucket_info", bucket).startswith(
        "JSON object with 9 keys: k0, k1, k2, k3, k4, …"
    )
    text = "word " * 100
    summary = summarize_metadata_value("ss_training_comment", text, limit=40)
    assert summary.endswith("… (500 characters)") and len(summary) < 70
    thumbnail = "data:image/png;base64," + "A" * 40_000
    assert (
        summarize_metadata_value("modelspec.thumbnail", thumbnail) == "embedded image/png (29 KB)"
    )


def test_malformed_tag_frequency_falls_back_to_text() -> None:
    assert summarize_metadata_value("ss_tag_frequency", "not json") == "not json"
