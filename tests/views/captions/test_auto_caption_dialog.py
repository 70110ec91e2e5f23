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
    assert dialog.estimate_label.text().startswith("2 pictures.")

    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findData("openai"))
    assert dialog.url_field.isVisible() and dialog.key_row.isVisible()
    assert dialog.prompt_edit.isVisible() and not dialog.template_field.isVisible()
    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findData("template"))

    dialog.template_field.setText("{name}")
    dialog.trigger_field.setText("sks")
    with qtbot.waitSignal(built.captions_vm.auto_caption.finished, timeout=10_000):
        dialog.start_button.click()
    assert caption_of(root, "img_003.jpg") == "sks, img 003"
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
