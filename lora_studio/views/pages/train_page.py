"""View: the Train page — the training wizard (docs/architecture.md §6.1) in a stacked widget, with a step
indicator above and Back / Next (Start on the last step) below.

Bound to a TrainWizardViewModel: the page shows `step`, enables Next from `can_advance` and says
why it is off (`advance_hint`). All state lives in the view-model, so leaving the page and coming
back finds every step as it was.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.train import TrainWizardViewModel
from lora_studio.views.icons import set_icon
from lora_studio.views.style import PAGE_MARGINS, make_primary, page_header
from lora_studio.views.train.backend_step import BackendStepWidget
from lora_studio.views.train.captions_step import CaptionsStepWidget
from lora_studio.views.train.dataset_step import DatasetStepWidget
from lora_studio.views.train.parameters_step import ParametersStepWidget
from lora_studio.views.train.review_step import ReviewStepWidget
from lora_studio.views.train.step_indicator import StepIndicator


class TrainPage(QWidget):
    """The wizard's page: indicator, one widget per step, and the Back / Next / Start footer."""

    def __init__(self, view_model: TrainWizardViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*PAGE_MARGINS)
        header, _actions = page_header(
            "Train",
            "Turn a dataset into a LoRA: check the pictures, choose a preset and where it trains, "
            "review the estimate, start.",
            self,
        )
        layout.addLayout(header)
        self.indicator = StepIndicator(view_model.step_titles, self)
        layout.addWidget(self.indicator)
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)

        self.stack = QStackedWidget(self)
        self.steps: list[QWidget] = [
            DatasetStepWidget(view_model.dataset, view_model.set_dataset_folder, self.stack),
            CaptionsStepWidget(view_model.dataset, self.stack),
            ParametersStepWidget(view_model.parameters, self.stack),
            BackendStepWidget(view_model.backend, view_model.check_backend, self.stack),
            ReviewStepWidget(view_model.review, self.stack),
        ]
        for widget in self.steps:
            self.stack.addWidget(widget)
        layout.addWidget(self.stack, 1)

        footer = QHBoxLayout()
        self.hint_label = QLabel("", self)
        self.hint_label.setWordWrap(True)
        self.hint_label.setEnabled(False)  # muted: it explains, it does not alarm
        footer.addWidget(self.hint_label, 1)
        self.back_button = QPushButton("‹ Back", self)
        self.back_button.setToolTip("The previous step; nothing you entered is lost")
        self.back_button.clicked.connect(view_model.back)
        footer.addWidget(self.back_button)
        self.next_button = make_primary(QPushButton("Next ›", self))
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(view_model.next)
        footer.addWidget(self.next_button)
        self.start_button = make_primary(QPushButton("Start training", self))
        set_icon(self.start_button, "train.start", primary=True)
        self.start_button.setToolTip("Submit the job; follow it on the Jobs page")
        self.start_button.clicked.connect(view_model.start)
        footer.addWidget(self.start_button)
        layout.addLayout(footer)

        view_model.step_changed.connect(self._on_vm_step_changed)
        view_model.can_advance_changed.connect(self.next_button.setEnabled)
        view_model.can_go_back_changed.connect(self.back_button.setEnabled)
        view_model.advance_hint_changed.connect(self.hint_label.setText)
        view_model.review.can_start_changed.connect(self.start_button.setEnabled)
        self._on_vm_step_changed(view_model.step)
        self.next_button.setEnabled(view_model.can_advance)
        self.back_button.setEnabled(view_model.can_go_back)
        self.hint_label.setText(view_model.advance_hint)
        self.start_button.setEnabled(view_model.review.can_start)

    def _on_vm_step_changed(self, step: int) -> None:
        self.stack.setCurrentIndex(step)
        self.indicator.set_current(step)
        last = step == len(self.steps) - 1
        self.next_button.setVisible(not last)
        self.start_button.setVisible(last)
