"""View: the row of filter, sort and training-target controls above the dataset grid, bound to a
DatasetViewModel (which owns the filter state and applies it to its proxy model)."""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from lora_studio.viewmodels.dataset.dataset_vm import RESOLUTIONS, DatasetViewModel
from lora_studio.viewmodels.dataset.rows import BADGE_LABELS, Badge, SortKey
from lora_studio.viewmodels.dataset.stats_vm import DatasetStats
from lora_studio.viewmodels.models.dataset_filter_proxy import StatusFilter
from lora_studio.views.dataset.thumbnail_delegate import BADGE_STYLE, badge_tooltip

TEXT_FILTER_DELAY_MS = 200  # refilter after typing pauses, not on every keystroke
STATUS_CHOICES: list[tuple[str, str]] = [
    ("All pictures", StatusFilter.ALL.value),
    ("Any problem", StatusFilter.ANY_PROBLEM.value),
    ("No problems", StatusFilter.NO_PROBLEM.value),
    *[(f"{BADGE_STYLE[b][0]}  {BADGE_LABELS[b]}", b.value) for b in Badge],
]
SORT_CHOICES = [
    ("Name", SortKey.NAME.value),
    ("File size", SortKey.SIZE.value),
    ("Date", SortKey.DATE.value),
]


class FilterBar(QWidget):
    def __init__(self, view_model: DatasetViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter by caption or file name")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip(
            "Shows pictures whose caption or name contains every word typed (Ctrl+F)."
        )
        layout.addWidget(self.search, 2)

        self.tag = QLineEdit(self)
        self.tag.setPlaceholderText("Tag")
        self.tag.setClearButtonEnabled(True)
        self.tag.setToolTip("Shows pictures whose caption has exactly this tag.")
        self._tags = QStringListModel(self)
        completer = QCompleter(self._tags, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.tag.setCompleter(completer)
        layout.addWidget(self.tag, 1)

        self.status = QComboBox(self)
        for label, value in STATUS_CHOICES:
            self.status.addItem(label, value)
        self.status.setToolTip("Show pictures by problem badge:\n" + badge_tooltip())
        layout.addWidget(self.status)

        layout.addWidget(QLabel("Sort", self))
        self.sort = QComboBox(self)
        for label, value in SORT_CHOICES:
            self.sort.addItem(label, value)
        layout.addWidget(self.sort)
        self.order = QToolButton(self)
        self.order.setCheckable(True)
        self.order.setText("↑")
        self.order.setToolTip("Ascending / descending")
        layout.addWidget(self.order)

        layout.addSpacing(12)
        layout.addWidget(QLabel("Train at", self))
        self.resolution = QComboBox(self)
        for value in RESOLUTIONS:
            self.resolution.addItem(f"{value} px", value)
        self.resolution.setToolTip(
            "Training resolution: decides 'too small' badges, buckets and crops."
        )
        layout.addWidget(self.resolution)
        self.trigger = QLineEdit(self)
        self.trigger.setPlaceholderText("Trigger word")
        self.trigger.setToolTip(
            "The word your LoRA will respond to; the doctor checks captions for it."
        )
        self.trigger.setMaximumWidth(140)
        layout.addWidget(self.trigger)

        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(TEXT_FILTER_DELAY_MS)
        self._bind()

    def _bind(self) -> None:
        vm = self._vm
        self.search.textChanged.connect(lambda _text: self._text_timer.start())
        grid = vm.grid
        self._text_timer.timeout.connect(lambda: grid.set_text_filter(self.search.text()))
        self.tag.textChanged.connect(grid.set_tag_filter)
        self.status.currentIndexChanged.connect(
            lambda _i: grid.set_status_filter(self.status.currentData())
        )
        self.sort.currentIndexChanged.connect(self._on_sort_changed)
        self.order.toggled.connect(self._on_sort_changed)
        self.resolution.currentIndexChanged.connect(
            lambda _i: vm.set_resolution(self.resolution.currentData())
        )
        self.trigger.editingFinished.connect(lambda: vm.set_trigger_word(self.trigger.text()))
        grid.text_filter_changed.connect(self._show_text_filter)
        grid.tag_filter_changed.connect(self._show_tag_filter)
        grid.status_filter_changed.connect(self._show_status_filter)
        vm.resolution_changed.connect(self._show_resolution)
        vm.trigger_word_changed.connect(self._show_trigger)
        vm.stats.stats_changed.connect(self._show_tags)
        self._show_resolution(vm.resolution)

    def flush_text_filter(self) -> None:
        """Apply a pending text filter now (tests, Enter key)."""
        if self._text_timer.isActive():
            self._text_timer.stop()
            self._vm.grid.set_text_filter(self.search.text())

    def _on_sort_changed(self, *_args: object) -> None:
        self.order.setText("↓" if self.order.isChecked() else "↑")
        self._vm.grid.sort_by(self.sort.currentData(), self.order.isChecked())

    def _show_text_filter(self, text: str) -> None:
        if text != self.search.text():
            self.search.setText(text)

    def _show_tag_filter(self, text: str) -> None:
        if text != self.tag.text().strip():
            self.tag.setText(text)

    def _show_status_filter(self, value: str) -> None:
        index = self.status.findData(value)
        if index >= 0 and index != self.status.currentIndex():
            self.status.setCurrentIndex(index)

    def _show_resolution(self, value: int) -> None:
        index = self.resolution.findData(value)
        if index >= 0 and index != self.resolution.currentIndex():
            self.resolution.setCurrentIndex(index)

    def _show_trigger(self, text: str) -> None:
        if text != self.trigger.text().strip():
            self.trigger.setText(text)

    def _show_tags(self, stats: DatasetStats) -> None:
        self._tags.setStringList([tag for tag, _ in stats.top_tags])
