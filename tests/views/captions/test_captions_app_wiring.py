"""The Captions page as app.py wires it into the main window: the Dataset detail pane carries the
same caption editor, the Train wizard's "Edit captions…" opens the Captions page on the wizard's
folder, and closing the window writes a caption typed a moment before (no autosave wait)."""

from __future__ import annotations

from tests.fakes.caption_dataset import caption_of


def test_wizard_link_detail_pane_and_save_on_close(qtbot, qloop, caption_dataset) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    from lora_studio import app as app_module
    from lora_studio.viewmodels.captions.captions_vm import CaptionsViewModel
    from lora_studio.viewmodels.train import TrainWizardViewModel
    from lora_studio.views.pages.captions_page import CaptionsPage
    from lora_studio.views.pages.dataset_page import DatasetPage
    from lora_studio.views.pages.train_page import TrainPage

    root = caption_dataset()
    application = QApplication.instance()
    services = app_module.build_services()
    window = app_module.build_window(application, services)
    qtbot.addWidget(window)
    models = window.view_models  # type: ignore[attr-defined]
    captions_vm = next(vm for vm in models if isinstance(vm, CaptionsViewModel))
    train_vm = next(vm for vm in models if isinstance(vm, TrainWizardViewModel))
    try:
        window.show()
        pages = {spec.key: spec.widget for spec in window.pages}
        captions_page, dataset_page, train_page = (
            pages["captions"],
            pages["dataset"],
            pages["train"],
        )
        assert isinstance(captions_page, CaptionsPage) and isinstance(dataset_page, DatasetPage)
        assert isinstance(train_page, TrainPage)
        editor_vm = captions_vm.editor
        # One editor view-model, two widgets: the Dataset detail pane's follows the same picture.
        assert dataset_page.detail.caption is not None
        assert captions_vm.dataset.detail.caption_editor is editor_vm

        # The wizard's captions step links to the Captions page, on the wizard's folder.
        train_vm.dataset.folder = str(root)
        step = train_page.steps[1]
        with qtbot.waitSignal(captions_vm.session.loaded_changed, timeout=10_000):
            step.captions_button.click()
        assert window.current_page_key() == "captions"
        assert captions_vm.session.folder == str(root)
        qtbot.waitUntil(lambda: not captions_vm.dataset.busy, timeout=10_000)

        # A caption typed just before closing is written when the window closes.
        captions_vm.select(str(root / "img_001.jpg"))
        assert editor_vm.title == "img_001.jpg"
        editor_vm.set_text("typed, then the window closed")
        assert caption_of(root, "img_001.jpg") == "ohwx, blue dress, standing, indoors"
        window.close()
        assert caption_of(root, "img_001.jpg") == "typed, then the window closed"
        assert (
            dataset_page.detail.caption.text_edit.toPlainText() == "typed, then the window closed"
        )
    finally:
        # As the app does at exit: background tasks end before the executor goes away.
        detail = captions_vm.dataset.detail
        qtbot.waitUntil(lambda: detail.task is None or detail.task.done(), timeout=5000)
        services.executor.shutdown(wait=True, cancel_futures=True)
        services.job_store.close()
