"""Auto-caption from the view-model: the template provider (no server) writes the missing captions
as one undo step with a status per picture; the provider, address and model are remembered in the
settings; an Ollama-compatible fake server lists models, captions, and is cancelled mid-run."""

from __future__ import annotations

from lora_studio.core.config.settings import Settings, load_settings, save_settings
from lora_studio.viewmodels.captions.status_model import STATUS_ROLE, ImageStatus
from tests.fakes.caption_dataset import caption_of


def test_template_run_fills_missing_captions_as_one_undo_step(
    qtbot, qtmodeltester, caption_dataset, open_captions
) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    dataset, captions = open_captions(root)
    auto = captions.auto_caption
    dataset.set_trigger_word("ohwx")
    captions.prepare_auto_caption([])
    assert auto.provider == "template" and not auto.needs_url and auto.uses_template
    assert auto.trigger == "ohwx"
    assert auto.estimate_text.startswith("2 pictures.")  # only the two without a caption
    auto.set_template("{trigger}, photo of {name}")
    with qtbot.waitSignal(auto.finished, timeout=10_000) as finished:
        auto.start()
    assert finished.args == [True]
    assert caption_of(root, "img_003.jpg") == "ohwx, photo of img 003"
    assert caption_of(root, "img_007.jpg") == "ohwx, photo of img 007"
    assert caption_of(root, "img_000.jpg") == "ohwx, red hair, smiling, outdoors"  # kept
    model = auto.status_model
    qtmodeltester.check(model, force_py=True)
    statuses = [model.index(r, 0).data(STATUS_ROLE) for r in range(model.rowCount())]
    assert statuses.count(ImageStatus.OK.value) == 2
    assert statuses.count(ImageStatus.SKIPPED.value) == 6
    assert auto.summary.startswith("Done: 2 captioned, 6 skipped")
    # The session, the grid and the editor follow the run.
    assert captions.session.caption(root / "img_003.jpg") == "ohwx, photo of img 003"
    assert dataset.grid.row(root / "img_003.jpg").caption == "ohwx, photo of img 003"
    qtbot.waitUntil(lambda: captions.session.can_undo, timeout=5000)
    with qtbot.waitSignal(captions.session.captions_changed, timeout=5000):
        captions.undo()
    assert caption_of(root, "img_003.jpg") is None and caption_of(root, "img_007.jpg") is None


def test_a_bad_template_is_a_sentence_not_a_run(qtbot, caption_dataset, open_captions) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset(4)
    _dataset, captions = open_captions(root)
    auto = captions.auto_caption
    captions.prepare_auto_caption([])
    auto.set_template("{trigger}, {nonsense}")
    auto.start()
    assert not auto.running
    assert "unknown placeholder {nonsense}" in auto.error


def test_provider_url_and_model_are_remembered(qtbot, qloop, executor, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from lora_studio.viewmodels.captions.auto_caption_vm import AutoCaptionViewModel
    from lora_studio.viewmodels.captions.session import CaptionSession

    settings = Settings()
    saved: list[Settings] = []

    def save(snapshot: Settings) -> None:
        save_settings(tmp_path, snapshot)
        saved.append(snapshot)

    session = CaptionSession(executor)
    auto = AutoCaptionViewModel(session, executor, settings=settings, save_settings=save)
    auto.set_provider("openai")
    assert auto.needs_key and auto.url == "https://api.openai.com/v1"
    auto.set_url("http://127.0.0.1:1234/v1")
    auto.set_model("qwen2.5-vl-7b")
    qtbot.waitUntil(lambda: len(saved) >= 3, timeout=5000)
    loaded = load_settings(tmp_path)
    assert loaded.caption_provider == "openai"
    assert loaded.caption_urls["openai"] == "http://127.0.0.1:1234/v1"
    assert loaded.caption_models["openai"] == "qwen2.5-vl-7b"
    # A new view-model (the next start) comes back to the same choices.
    again = AutoCaptionViewModel(session, executor, settings=loaded, save_settings=save)
    assert (again.provider, again.url, again.model) == (
        "openai",
        "http://127.0.0.1:1234/v1",
        "qwen2.5-vl-7b",
    )
