"""View: the Train wizard's Dataset step — choose the folder; see its images, folders with their
repeats, and the pictures the trainer will leave out."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.train.dataset_step_vm import DatasetStepViewModel
from lora_studio.views.train.common import WARNING_COLOR, heading, set_color, wrapped
from lora_studio.views.widgets.error_banner import ErrorBanner


class DatasetStepWidget(QWidget):
    """Folder button and what the trainer will see, bound to a DatasetStepViewModel."""

    def __init__(
        self,
        view_model: DatasetStepViewModel,
        choose_folder: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._vm = view_model
        self._choose_folder = choose_folder  # the wizard's: a new folder restarts the wizard
        self._dialog: QFileDialog | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Which images should the LoRA learn from?", self))
        layout.addWidget(
            wrapped(
                "Choose the dataset folder: pictures with a .txt caption of the same name beside "
                "each. Sub-folders named like 10_ohwx repeat their pictures 10 times.",
                self,
                selectable=False,
            )
        )
        self.error_banner = ErrorBanner(self)
        self.error_banner.bind(view_model)
        layout.addWidget(self.error_banner)

        row = QHBoxLayout()
        self.choose_button = QPushButton("Choose folder…", self)
        self.choose_button.setToolTip("Pick the folder that holds your training images")
        self.choose_button.clicked.connect(self._on_choose_clicked)
        row.addWidget(self.choose_button)
        self.folder_label = wrapped(view_model.folder or "No folder chosen yet.", self)
        self.folder_label.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        row.addWidget(self.folder_label, 1)
        layout.addLayout(row)

        box = QGroupBox("What the trainer will see", self)
        form = QFormLayout(box)
        self.count_label = QLabel("", box)
        form.addRow("Images", self.count_label)
        self.folders_label = wrapped("", box)
        form.addRow("Folders", self.folders_label)
        self.skipped_label = wrapped("", box)
        set_color(self.skipped_label, WARNING_COLOR)
        form.addRow(self.skipped_label)
        layout.addWidget(box)
        layout.addStretch(1)

        view_model.folder_changed.connect(
            lambda text: self.folder_label.setText(text or "No folder chosen yet.")
        )
        view_model.image_count_changed.connect(self._on_vm_image_count_changed)
        view_model.busy_changed.connect(self._on_vm_busy_changed)
        view_model.folders_text_changed.connect(
            lambda text: self.folders_label.setText(text or "—")
        )
        view_model.skipped_text_changed.connect(self._on_vm_skipped_text_changed)
        view_model.progress_text_changed.connect(self._on_vm_progress_text_changed)
        self._on_vm_image_count_changed(view_model.image_count)
        self.folders_label.setText(view_model.folders_text or "—")
        self._on_vm_skipped_text_changed(view_model.skipped_text)
        self._on_vm_busy_changed(view_model.busy)

    def _on_choose_clicked(self) -> None:
        dialog = QFileDialog(self, "Choose the dataset folder", self._vm.folder)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self._choose_folder)
        self._dialog = dialog  # keep it alive while it is open
        dialog.open()

    def _on_vm_image_count_changed(self, count: int) -> None:
        self.count_label.setText(f"{count:,}" if count else "—")

    def _on_vm_busy_changed(self, busy: bool) -> None:
        self.choose_button.setDisabled(busy)
        if busy:
            self.count_label.setText(self._vm.progress_text or "Reading the folder…")
        else:
            self._on_vm_image_count_changed(self._vm.image_count)

    def _on_vm_progress_text_changed(self, text: str) -> None:
        if self._vm.busy and text:
            self.count_label.setText(text)

    def _on_vm_skipped_text_changed(self, text: str) -> None:
        self.skipped_label.setText(text)
        self.skipped_label.setVisible(bool(text))
