"""Fixtures for the Train page tests: the wizard fixtures of the view-model tests, and the page
itself shown at the size the screenshots use."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lora_studio.viewmodels.train.train_wizard_vm import TrainWizardViewModel
from lora_studio.views.pages.train_page import TrainPage
from tests.viewmodels.train.train_helpers import (
    executor,
    fake,
    service_for,
    wait_idle,
    wizard_for,
)

__all__ = ["executor", "fake", "service_for", "shown_train_page", "wizard_for"]


@pytest.fixture
def shown_train_page(qtbot) -> Callable[[TrainWizardViewModel], TrainPage]:  # type: ignore[no-untyped-def]
    """`shown_train_page(wizard)`: the Train page on `wizard`, 1100×760, shown, checks done."""

    def show(wizard: TrainWizardViewModel) -> TrainPage:
        page = TrainPage(wizard)
        qtbot.addWidget(page)
        page.resize(1100, 760)
        page.show()
        wait_idle(qtbot, wizard)
        return page

    return show
