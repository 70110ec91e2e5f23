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
    auto.set_template("{trigger}, photo of {filename}")  # {name}: no counters
    with qtbot.waitSignal(auto.finished, timeout=10_000) as finished:
        auto.start()
    assert finished.args == [True]
    assert caption_of(root, "img_003.jpg") == "ohwx, photo of img_003"
    assert caption_of(root, "img_007.jpg") == "ohwx, photo of img_007"
    assert caption_of(root, "img_000.jpg") == "ohwx, red hair, smiling, outdoors"  # kept
    model = auto.status_model
    qtmodeltester.check(model, force_py=True)
    statuses = [model.index(r, 0).data(STATUS_ROLE) for r in range(model.rowCount())]
    assert statuses.count(ImageStatus.OK.value) == 2
    assert statuses.count(ImageStatus.SKIPPED.value) == 6
    assert auto.summary.startswith("Done: 2 captioned, 6 skipped")
    # The session, the grid and the editor follow the run.
    assert captions.session.caption(root / "img_003.jpg") == "ohwx, photo of img_003"
    assert dataset.grid.row(root / "img_003.jpg").caption == "ohwx, photo of img_003"
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
    # Saves are coalesced and ordered: the file ends with the newest choices.
    qtbot.waitUntil(
        lambda: load_settings(tmp_path).caption_models.get("openai") == "qwen2.5-vl-7b",
        timeout=5000,
    )
    qtbot.waitUntil(lambda: auto._settings_task.done(), timeout=5000)
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


def _ollama(auto, fake, model: str = "qwen2.5vl:7b") -> None:  # type: ignore[no-untyped-def]
    auto.set_provider("ollama")
    auto.set_url(fake.ollama_url)
    auto.set_model(model)


def test_ollama_fake_lists_models_and_captions(qtbot, caption_dataset, open_captions) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes.fake_caption_servers import FakeCaptionServer

    root = caption_dataset(4)
    _dataset, captions = open_captions(root)
    auto = captions.auto_caption
    with FakeCaptionServer(latency=0.05, caption_text="a woman with red hair") as fake:
        _ollama(auto, fake, model="")
        captions.prepare_auto_caption([])
        qtbot.waitUntil(
            lambda: auto.models_task is not None and auto.models_task.done(), timeout=10_000
        )
        assert auto.models_status.startswith("✔"), auto.models_status
        assert "qwen2.5vl:7b" in auto.models and auto.model == auto.models[0]
        auto.set_model("qwen2.5vl:7b")
        auto.set_mode("overwrite")
        auto.set_trigger("ohwx")
        with qtbot.waitSignal(auto.finished, timeout=20_000) as finished:
            auto.start()
        assert finished.args == [True], auto.error
        assert fake.max_in_flight <= auto.concurrency
    for name in ("img_000.jpg", "img_003.jpg"):
        assert caption_of(root, name) == "ohwx, a woman with red hair"
    assert auto.summary.startswith("Done: 4 captioned.")
    qtbot.waitUntil(lambda: captions.session.undo_text == "Auto-caption", timeout=5000)


def test_cancel_keeps_finished_captions_and_retry_failed_reruns_them(
    qtbot, caption_dataset, open_captions
) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes.fake_caption_servers import FakeCaptionServer

    root = caption_dataset(8)
    _dataset, captions = open_captions(root)
    auto = captions.auto_caption
    with FakeCaptionServer(latency=0.3, caption_text="a red sofa") as fake:
        _ollama(auto, fake)
        captions.prepare_auto_caption([])
        auto.set_mode("overwrite")
        auto.set_concurrency(2)
        done: list[object] = []
        auto.status_model.dataChanged.connect(lambda *_a: done.append(1))
        with qtbot.waitSignal(auto.finished, timeout=20_000) as finished:
            auto.start()
            qtbot.waitUntil(lambda: len(done) >= 2, timeout=10_000)
            auto.cancel()
        assert finished.args == [False]
        assert auto.summary.startswith("Cancelled:")
        written = [n for n in range(8) if caption_of(root, f"img_{n:03d}.jpg") == "a red sofa"]
        assert 2 <= len(written) < 8  # the finished ones are kept, the rest untouched
        assert caption_of(root, "img_007.jpg") in ("a red sofa", None)

        # A refused picture fails with the server's sentence; Retry failed runs it again. (The
        # requests cancelled above are still sleeping in the server: let them end first.)
        qtbot.waitUntil(lambda: fake._in_flight == 0, timeout=5000)
        fake.fail_next(1, status=400, body={"error": "image too small to see anything"})
        auto.set_concurrency(1)
        with qtbot.waitSignal(auto.finished, timeout=20_000):
            auto.start()
        failed = auto.status_model.paths_with(ImageStatus.FAILED)
        assert len(failed) == 1 and auto.can_retry
        model = auto.status_model
        rows = [model.index(r, 0) for r in range(model.rowCount())]
        reasons = [i.data() for i in rows if i.data(STATUS_ROLE) == ImageStatus.FAILED.value]
        assert "“image too small to see anything”" in reasons[0]
        with qtbot.waitSignal(auto.finished, timeout=20_000) as again:
            auto.retry_failed()
        assert again.args == [True] and not auto.can_retry
        assert caption_of(root, failed[0].name) == "a red sofa"
