"""Every page of the real window starts the same way (issue 11, "consistent headings, spacing"):
a title (the page's name), one line saying what the page is for, and the same page margins."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel

from lora_studio.views.style import PAGE_MARGINS


def test_every_page_has_a_title_a_line_and_the_same_margins(qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    from lora_studio import app as app_module

    services = app_module.build_services()
    window = app_module.build_window(QApplication.instance(), services)
    qtbot.addWidget(window)
    try:
        window.show()
        for spec in window.pages:
            page = spec.widget
            titles = [
                label for label in page.findChildren(QLabel) if label.objectName() == "PageTitle"
            ]
            lines = [
                label for label in page.findChildren(QLabel) if label.objectName() == "PageLine"
            ]
            assert [t.text() for t in titles] == [spec.title], spec.key
            assert len(lines) == 1 and len(lines[0].text()) > 20, spec.key
            margins = page.layout().contentsMargins()
            assert (margins.left(), margins.top(), margins.right()) == PAGE_MARGINS[:3], spec.key
    finally:
        window.close()
        services.executor.shutdown(wait=True, cancel_futures=True)
        services.job_store.close()
