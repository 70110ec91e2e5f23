"""View: the Jobs page — every job in one table, and for the selected one its progress, ETA,
live loss chart and searchable, copyable logs, with a Cancel button."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.jobs_vm import JobsViewModel
from lora_studio.viewmodels.message_bridge import MessageBridge
from lora_studio.viewmodels.models.jobs_table_model import JOB_ID_ROLE
from lora_studio.views.widgets.error_banner import ErrorBanner
from lora_studio.views.widgets.loss_plot import LossPlot


class JobsPage(QWidget):
    def __init__(
        self,
        view_model: JobsViewModel,
        bridge: MessageBridge | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._vm = view_model
        self._bridge = bridge
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.error_banner = ErrorBanner(self)
        self.error_banner.bind(view_model)
        layout.addWidget(self.error_banner)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.table = QTableView(splitter)
        self.table.setModel(view_model.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header_view = self.table.horizontalHeader()
        header_view.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header_view.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)
        view_model.model.modelReset.connect(self._restore_selection)

        detail = QWidget(splitter)
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 8, 0, 0)
        header = QHBoxLayout()
        self.summary_label = QLabel(view_model.summary, detail)
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        header.addWidget(self.summary_label, 1)
        self.cancel_button = QPushButton("Cancel job", detail)
        self.cancel_button.setToolTip("Stop this training; the backend says what it could stop")
        self.cancel_button.clicked.connect(view_model.cancel_selected)
        header.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignTop)
        self.open_folder_button = QPushButton("Open folder", detail)
        self.open_folder_button.setToolTip("Show the trained LoRA in your file manager")
        self.open_folder_button.clicked.connect(self._on_open_folder_clicked)
        self.open_folder_button.setEnabled(bool(view_model.output_folder))
        header.addWidget(self.open_folder_button, 0, Qt.AlignmentFlag.AlignTop)
        detail_layout.addLayout(header)
        self.progress_bar = QProgressBar(detail)
        self.progress_label = QLabel("", detail)
        detail_layout.addWidget(self.progress_bar)
        detail_layout.addWidget(self.progress_label)

        tabs = QTabWidget(detail)
        self.loss_plot = LossPlot(tabs)
        tabs.addTab(self.loss_plot, "Loss")
        logs_tab = QWidget(tabs)
        logs_layout = QVBoxLayout(logs_tab)
        search_row = QHBoxLayout()
        self.log_search = QLineEdit(logs_tab)
        self.log_search.setPlaceholderText("Search the logs…")
        self.log_search.setClearButtonEnabled(True)
        self.log_search.textChanged.connect(view_model.set_log_filter)
        search_row.addWidget(self.log_search, 1)
        self.copy_logs_button = QPushButton("Copy", logs_tab)
        self.copy_logs_button.clicked.connect(self._on_copy_logs_clicked)
        search_row.addWidget(self.copy_logs_button)
        logs_layout.addLayout(search_row)
        self.logs_view = QPlainTextEdit(logs_tab)
        self.logs_view.setReadOnly(True)
        self.logs_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        logs_layout.addWidget(self.logs_view, 1)
        tabs.addTab(logs_tab, "Logs")
        detail_layout.addWidget(tabs, 1)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout.addWidget(splitter, 1)

        view_model.summary_changed.connect(self.summary_label.setText)
        view_model.progress_text_changed.connect(self.progress_label.setText)
        view_model.percent_changed.connect(self._on_vm_percent_changed)
        view_model.logs_text_changed.connect(self._on_vm_logs_changed)
        view_model.loss_changed.connect(self.loss_plot.set_data)
        view_model.can_cancel_changed.connect(self.cancel_button.setEnabled)
        view_model.busy_changed.connect(lambda busy: self.cancel_button.setDisabled(busy))
        view_model.cancel_finished.connect(self._on_vm_cancel_finished)
        view_model.output_folder_changed.connect(
            lambda folder: self.open_folder_button.setEnabled(bool(folder))
        )
        self.cancel_button.setEnabled(view_model.can_cancel)
        self._on_vm_percent_changed(view_model.percent)

    def _on_table_current_changed(self, current, _previous) -> None:  # type: ignore[no-untyped-def]
        self._vm.select(current.data(JOB_ID_ROLE) or "" if current.isValid() else "")

    def _restore_selection(self) -> None:
        row = self._vm.model.row_of(self._vm.selected_job_id)
        if row >= 0:
            self.table.selectRow(row)

    def _on_vm_percent_changed(self, percent: int) -> None:
        if percent < 0:
            self.progress_bar.setRange(0, 0)  # unknown: busy indicator
        else:
            self.progress_bar.setRange(0, 100)
            self.progress_bar.setValue(percent)

    def _on_vm_logs_changed(self, text: str) -> None:
        at_bottom = (
            self.logs_view.verticalScrollBar().value()
            >= self.logs_view.verticalScrollBar().maximum() - 4
        )
        self.logs_view.setPlainText(text)
        if at_bottom:
            self.logs_view.verticalScrollBar().setValue(
                self.logs_view.verticalScrollBar().maximum()
            )

    def _on_open_folder_clicked(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(self._vm.output_folder))

    def _on_copy_logs_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.logs_view.toPlainText())

    def _on_vm_cancel_finished(self, message: str) -> None:
        if self._bridge is not None:
            self._bridge.info(message)

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        self._vm.start_auto_refresh()

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self._vm.stop_auto_refresh()
        super().hideEvent(event)
