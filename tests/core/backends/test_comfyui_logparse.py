"""The tqdm parser against the console lines a real ComfyUI 0.3.64 sent (fixture replay)."""

from __future__ import annotations

import json

import pytest

from lora_studio.core.backends.progress.comfyui import (
    TqdmUpdate,
    TrainingLogTracker,
    parse_tqdm,
    split_console_chunks,
)
from tests.fakes.fake_comfyui_engine import fixture_lines, tqdm_line


def recorded_log_texts() -> list[str]:
    texts = []
    for line in fixture_lines("ws_train_success_with_logs.jsonl"):
        msg = line.get("msg") or {}
        if msg.get("type") == "logs":
            texts.extend(entry["m"] for entry in msg["data"]["entries"])
    return texts


def recorded_final_losses() -> list[float]:
    for line in fixture_lines("ws_train_success_with_logs.jsonl"):
        msg = line.get("msg") or {}
        if msg.get("type") == "executed" and "text" in (msg["data"]["output"] or {}):
            return json.loads(msg["data"]["output"]["text"][0])["loss"]
    raise AssertionError("fixture has no PreviewAny output")


def test_parses_the_example_line_from_the_brief() -> None:
    line = "Training LoRA:  50%|█████     | 3/6 [00:01<00:01,  2.23it/s, loss=2.1912]"
    assert parse_tqdm(line) == TqdmUpdate(n=3, total=6, rate=2.23, loss=2.1912)


def test_first_bar_has_no_rate_and_no_loss() -> None:
    assert parse_tqdm("\rTraining LoRA:   0%|          | 0/6 [00:00<?, ?it/s]") == TqdmUpdate(
        0, 6, None, None
    )


def test_seconds_per_iteration_becomes_a_rate() -> None:
    update = parse_tqdm("Training LoRA:  10%|█         | 27/270 [01:55<16:41,  4.12s/it, loss=0.1]")
    assert update is not None
    assert update.rate == pytest.approx(1 / 4.12)
    assert (update.n, update.total, update.loss) == (27, 270, 0.1)


def test_other_console_lines_are_not_bars() -> None:
    assert parse_tqdm("Requested to load BaseModel") is None
    assert parse_tqdm("Prompt executed in 4.32 seconds") is None


def test_carriage_returns_split_redraws() -> None:
    chunk = "\rTraining LoRA:  17%|█▋        | 1/6 [00:00<00:02,  2.19it/s, loss=1.1780]\rdone\n"
    assert list(split_console_chunks(chunk)) == [
        "Training LoRA:  17%|█▋        | 1/6 [00:00<00:02,  2.19it/s, loss=1.1780]",
        "done",
    ]


def test_recorded_run_gives_every_step_and_the_same_losses_as_previewany() -> None:
    tracker = TrainingLogTracker()
    steps, losses = [], []
    for text in recorded_log_texts():
        for line in split_console_chunks(text):
            update = parse_tqdm(line)
            if update is None:
                continue
            step, loss = tracker.feed(update)
            if step is not None:
                steps.append(step)
            if loss is not None:
                losses.append(loss)
    assert steps == [1, 2, 3, 4, 5, 6]
    final = recorded_final_losses()
    assert [s for s, _ in losses] == [1, 2, 3, 4, 5, 6]
    # The bar shows 4 decimals; the final PreviewAny list is exact.
    assert [v for _, v in losses] == pytest.approx(final, abs=1e-4)
    assert tracker.rate == pytest.approx(2.25)


def test_gradient_accumulation_counts_optimizer_steps() -> None:
    tracker = TrainingLogTracker(grad_accumulation=2)
    seen = [tracker.feed(TqdmUpdate(n, 8, 4.0, 0.5 + n)) for n in range(1, 9)]
    assert [s for s, _ in seen if s is not None] == [1, 2, 3, 4]
    assert [loss for _, loss in seen if loss is not None] == [
        (1, 2.5),
        (2, 4.5),
        (3, 6.5),
        (4, 8.5),
    ]
    assert tracker.rate == 2.0


def test_fake_generates_bars_the_parser_reads() -> None:
    """The fake server's generated lines follow the recorded format."""
    assert parse_tqdm(tqdm_line(3, 6, 1.35, 2.1912)) == TqdmUpdate(
        3, 6, pytest.approx(2.22, 0.01), 2.1912
    )
    slow = parse_tqdm(tqdm_line(2, 10, 9.0, 0.5))
    assert slow is not None and slow.rate == pytest.approx(2 / 9, rel=0.01)
