"""kohya's console output, as recorded from real sd-scripts runs, read by `KohyaOutput`."""

from __future__ import annotations

import json

import pytest

from lora_studio.core.backends.progress import KohyaOutput, SegmentSplitter, parse_bar
from lora_studio.core.jobs import Checkpoint, Loss, Progress
from tests.fakes.recordings import KOHYA_FIXTURES


def replay(run: str, chunk: int | None = None) -> tuple[KohyaOutput, list[object]]:
    parser, events = KohyaOutput(), []
    for line in (KOHYA_FIXTURES / run / "events.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["stream"] not in ("stdout", "stderr"):
            continue
        text = event["text"]
        pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)] if chunk else [text]
        for piece in pieces:  # any chunking of the pipe gives the same result
            events += parser.feed(event["stream"], piece)
    return parser, events + parser.flush()


@pytest.mark.parametrize("chunk", [None, 7])
def test_a_successful_run_reads_total_steps_losses_and_checkpoints(chunk: int | None) -> None:
    parser, events = replay("I_epochs_simple", chunk)
    assert parser.total == 16 and parser.epochs == 2 and parser.model_saved
    steps = [e.step for e in events if isinstance(e, Progress)]
    assert steps[-1] == 16 and steps == sorted(steps)
    losses = [(e.step, e.value) for e in events if isinstance(e, Loss)]
    assert [s for s, _ in losses] == list(range(1, 17))
    assert losses[:4] == [(1, 1.19), (2, 1.09), (3, 1.02), (4, 1.1)]
    checkpoints = [(e.step, e.epoch) for e in events if isinstance(e, Checkpoint)]
    assert (3, None) in checkpoints and (None, 1) in checkpoints and len(checkpoints) == 6
    assert parser.final_file and parser.final_file.endswith("lstok_test.safetensors")


def test_rich_logging_glued_to_bars_still_gives_every_step() -> None:
    parser, events = replay("A_rich")
    assert [e.step for e in events if isinstance(e, Loss)] == [1, 2, 3, 4, 5, 6]
    assert parser.model_saved and parser.nan_at is None


@pytest.mark.parametrize(
    ("run", "words"),
    [
        ("D_fail_norepeat", "No data found"),
        ("E_fail_corrupt", "UnidentifiedImageError"),
        ("J_sigint_rich", "KeyboardInterrupt"),
        ("O_fail_badarg", "unrecognized arguments"),
    ],
)
def test_failures_are_summarised_in_kohyas_words(run: str, words: str) -> None:
    parser, _ = replay(run)
    assert words in parser.error_summary()
    assert parser.no_data == (run == "D_fail_norepeat")


def test_bar_parsing_and_splitting() -> None:
    bar, glued = parse_bar(
        "steps:  33%|███▎      | 2/6 [00:04<00:08,  2.06s/it, avr_loss=1.09]  INFO x"
    )
    assert (bar.n, bar.total, bar.postfix["avr_loss"]) == (2, 6, "1.09")
    assert bar.rate == pytest.approx(1 / 2.06) and bar.eta == 8.0 and glued.strip() == "INFO x"
    splitter = SegmentSplitter()
    assert splitter.feed("\rsteps: a\rsteps: b") == ["steps: a"]
    assert splitter.tail == "steps: b" and splitter.feed("\n") == ["steps: b"]
    nan = KohyaOutput()
    nan.feed("stderr", "\rsteps:  50%|█| 3/6 [00:04<00:04,  1.6s/it, avr_loss=nan]\r")
    assert nan.nan_at == 3
