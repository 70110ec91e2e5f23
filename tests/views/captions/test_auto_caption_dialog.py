"""The auto-caption dialog on the Captions page: non-modal, rows follow the provider, a template run
from the Start button fills the status list and the summary, the page's run strip shows a run
while it goes on, and reopening the dialog finds the state of the run."""

from __future__ import annotations

from lora_studio.views.captions.auto_caption_dialog import AutoCaptionDialog
from tests.fakes.caption_dataset import caption_of


def test_template_run_from_the_dialog(qtbot, caption_dataset, pages) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    built = pages(root)
    page = built.captions_page
    assert page.auto_button.isEnabled()
    page.auto_button.click()
    dialog = page.auto_dialog
    assert isinstance(dialog, AutoCaptionDialog) and dialog.isVisible()
    assert not dialog.isModal()  # the artist can keep editing captions meanwhile
    assert dialog.provider_combo.currentData() == "template"
    assert dialog.template_field.isVisible() and not dialog.url_field.isVisible()
    assert not dialog.prompt_edit.isVisible() and not dialog.status_list.isVisible()
    assert not dialog.preset_help.isVisible()
    assert dialog.estimate_label.text().startswith("2 pictures.")

    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findData("openai"))
    assert dialog.url_field.isVisible() and dialog.key_row.isVisible()
    assert dialog.prompt_edit.isVisible() and not dialog.template_field.isVisible()
    # Which prompt style suits which model family is said beside the choice.
    assert dialog.preset_help.isVisible() and "Flux" in dialog.preset_help.text()
    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findData("template"))

    dialog.template_field.setText("{name}")
    dialog.trigger_field.setText("sks")
    with qtbot.waitSignal(built.captions_vm.auto_caption.finished, timeout=10_000):
        dialog.start_button.click()
    # "img_003" is a counter, not words: {name} adds nothing (core template's name_words).
    assert caption_of(root, "img_003.jpg") == "sks"
    assert dialog.status_list.isVisible() and dialog.status_list.model().rowCount() == 8
    assert dialog.summary_label.text().startswith("Done: 2 captioned")
    assert dialog.start_button.isEnabled() and not dialog.cancel_button.isVisible()
    assert not page.run_strip.isVisible()

    dialog.close_button.click()
    assert page.auto_dialog is None
    page.auto_button.click()
    again = page.auto_dialog
    assert again is not None and again is not dialog
    assert again.summary_label.text().startswith("Done: 2 captioned")
    again.close()


def test_cancel_button_stops_a_run_against_the_fake_server(qtbot, caption_dataset, pages) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes.fake_caption_servers import FakeCaptionServer

    root = caption_dataset()
    built = pages(root)
    page = built.captions_page
    auto = built.captions_vm.auto_caption
    with FakeCaptionServer(latency=0.4, caption_text="a cat on a sofa") as fake:
        page.auto_button.click()
        dialog = page.auto_dialog
        dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findData("ollama"))
        dialog.url_field.setText(fake.ollama_url)
        dialog.url_field.editingFinished.emit()
        dialog.refresh_button.click()
        qtbot.waitUntil(lambda: dialog.model_combo.count() > 0, timeout=10_000)
        assert dialog.models_status.text().startswith("✔")
        dialog.model_combo.setCurrentText("qwen2.5vl:7b")
        dialog.mode_combo.setCurrentIndex(dialog.mode_combo.findData("overwrite"))
        dialog.concurrency_spin.setValue(2)
        dialog.start_button.click()
        assert auto.running and dialog.cancel_button.isVisible()
        assert not dialog.settings_box.isEnabled() and page.run_strip.isVisible()
        qtbot.waitUntil(lambda: auto.progress_value >= 2, timeout=10_000)
        with qtbot.waitSignal(auto.finished, timeout=10_000) as finished:
            dialog.cancel_button.click()
        assert finished.args == [False]
    assert dialog.summary_label.text().startswith("Cancelled:")
    assert not page.run_strip.isVisible() and dialog.settings_box.isEnabled()
    written = [n for n in range(8) if caption_of(root, f"img_{n:03d}.jpg") == "a cat on a sofa"]
    assert 2 <= len(written) < 8
    dialog.close()
