"""View: the Jobs page — every job in one table (filter by status; select several to compare
their losses), and for the current one its progress, ETA, live loss chart, searchable and
copyable logs and sample images, with the actions: cancel, retry, duplicate and edit, inspect the
file, open its folder, delete the record. With no job yet the table offers the next step instead
(an empty state: "Train a dataset…", which asks the window for the Train page via
`train_requested`)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
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

from lora_studio.viewmodels.jobs_vm import STATUS_FILTERS, JobsViewModel
from lora_studio.viewmodels.message_bridge import MessageBridge
from lora_studio.viewmodels.models.jobs_table_model import JOB_ID_ROLE
from lora_studio.views.icons import set_icon
from lora_studio.views.jobs.dialogs import TextDialog, TrayNotifier, confirm
from lora_studio.views.jobs.samples_grid import SamplesGrid
from lora_studio.views.style import PAGE_MARGINS, page_header
from lora_studio.views.widgets.empty_state import EmptyState
from lora_studio.views.widgets.error_banner import ErrorBanner
from lora_studio.views.widgets.loss_plot import LossPlot


class JobsPage(QWidget):
    train_requested = Signal()  # the empty state's "Train a dataset…": show the Train page

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
        layout.setContentsMargins(*PAGE_MARGINS)
        header, actions = page_header(
            "Jobs", "Every training, live or finished: progress, loss, logs and results.", self
        )
        self.status_filter = QComboBox(self)
        for status in STATUS_FILTERS:
            self.status_filter.addItem(status.capitalize() if status else "All jobs", status)
        self.status_filter.setToolTip("Show only jobs in this state")
        self.status_filter.currentIndexChanged.connect(
            lambda _i: view_model.set_status_filter(self.status_filter.currentData())
        )
        actions.addWidget(self.status_filter)
        layout.addLayout(header)
        self.error_banner = ErrorBanner(self)
        self.error_banner.bind(view_model)
        layout.addWidget(self.error_banner)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.table = QTableView(splitter)
        self.table.setModel(view_model.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setToolTip("Ctrl-click other jobs to compare their loss curves")
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header_view = self.table.horizontalHeader()
        header_view.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header_view.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        view_model.model.modelReset.connect(self._restore_selection)
        # No jobs (or none in the chosen state): say so over the table, with the next step.
        self.empty_state = EmptyState(self.table.viewport())
        self.table.viewport().installEventFilter(self)
        for signal in (
            view_model.model.modelReset,
            view_model.model.rowsInserted,
            view_model.model.rowsRemoved,
        ):
            signal.connect(self._show_empty_state)
        view_model.status_filter_changed.connect(self._show_empty_state)
        view_model.selected_job_id_changed.connect(self._show_empty_state)

        detail = QWidget(splitter)
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 8, 0, 0)
        top = QHBoxLayout()
        self.summary_label = QLabel(view_model.summary, detail)
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.summary_label, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.cancel_button = self._button("Cancel", "mdi6.stop-circle-outline", detail, buttons)
        self.cancel_button.setToolTip("Stop this training; you are told first what can be stopped")
        self.cancel_button.clicked.connect(view_model.cancel_selected)
        self.retry_button = self._button("Retry", "mdi6.restart", detail, buttons)
        self.retry_button.setToolTip("Start the same training again, with the same settings")
        self.retry_button.clicked.connect(view_model.retry_selected)
        self.duplicate_button = self._button("Edit as new", "mdi6.content-copy", detail, buttons)
        self.duplicate_button.setToolTip("Open the Train wizard filled in with this job's settings")
        self.duplicate_button.clicked.connect(view_model.duplicate_selected)
        self.inspect_button = self._button(
            "Inspect file", "mdi6.file-search-outline", detail, buttons
        )
        self.inspect_button.setToolTip("Show what the trained LoRA file contains (rank, metadata…)")
        self.inspect_button.clicked.connect(view_model.inspect_selected)
        self.open_folder_button = self._button(
            "Open folder", "mdi6.folder-open-outline", detail, buttons
        )
        self.open_folder_button.setToolTip("Show the trained LoRA in your file manager")
        self.open_folder_button.clicked.connect(self._on_open_folder_clicked)
        self.delete_button = self._button("Delete", "mdi6.delete-outline", detail, buttons)
        self.delete_button.setToolTip("Delete this job's record (the LoRA files stay)")
        self.delete_button.clicked.connect(view_model.delete_selected)
        top.addLayout(buttons)
        detail_layout.addLayout(top)
        self.progress_bar = QProgressBar(detail)
        self.progress_bar.setRange(0, 100)
        self.progress_label = QLabel("", detail)
        detail_layout.addWidget(self.progress_bar)
        detail_layout.addWidget(self.progress_label)

        self.tabs = QTabWidget(detail)
        self.loss_plot = LossPlot(self.tabs)
        self.tabs.addTab(self.loss_plot, "Loss")
        self.tabs.addTab(self._build_logs_tab(self.tabs), "Logs")
        self.samples_grid = SamplesGrid(view_model, self.tabs)
        self.tabs.addTab(self.samples_grid, "Samples")
        detail_layout.addWidget(self.tabs, 1)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        self.detail = detail
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout.addWidget(splitter, 1)
        self.notifier = TrayNotifier(QGuiApplication.windowIcon(), self)
        self._bind(view_model)

    @staticmethod
    def _button(text: str, glyph: str, parent: QWidget, row: QHBoxLayout) -> QPushButton:
        button = QPushButton(text, parent)
        set_icon(button, glyph)  # recoloured with the theme
        row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        return button

    def _build_logs_tab(self, parent: QWidget) -> QWidget:
        logs_tab = QWidget(parent)
        logs_layout = QVBoxLayout(logs_tab)
        search_row = QHBoxLayout()
        self.log_search = QLineEdit(logs_tab)
        self.log_search.setPlaceholderText("Search the logs…")
        self.log_search.setClearButtonEnabled(True)
        self.log_search.textChanged.connect(self._vm.set_log_filter)
        search_row.addWidget(self.log_search, 1)
        self.copy_logs_button = QPushButton("Copy", logs_tab)
        self.copy_logs_button.clicked.connect(self._on_copy_logs_clicked)
        search_row.addWidget(self.copy_logs_button)
        logs_layout.addLayout(search_row)
        self.logs_view = QPlainTextEdit(logs_tab)
        self.logs_view.setReadOnly(True)
        self.logs_view.setMaximumBlockCount(20_000)  # a chatty backend must not grow it forever
        self.logs_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        logs_layout.addWidget(self.logs_view, 1)
        return logs_tab

    def _bind(self, vm: JobsViewModel) -> None:
        vm.summary_changed.connect(self.summary_label.setText)
        vm.progress_text_changed.connect(self.progress_label.setText)
        vm.percent_changed.connect(self._on_vm_percent_changed)
        vm.logs_text_changed.connect(self._on_vm_logs_changed)
        vm.logs_appended.connect(self._on_vm_logs_appended)
        vm.loss_changed.connect(self.loss_plot.set_data)
        vm.loss_appended.connect(self.loss_plot.append)
        vm.overlays_changed.connect(self.loss_plot.set_overlays)
        vm.can_cancel_changed.connect(self._update_buttons)
        vm.can_retry_changed.connect(self._update_buttons)
        vm.can_inspect_changed.connect(self._update_buttons)
        vm.busy_changed.connect(self._update_buttons)
        vm.output_folder_changed.connect(self._update_buttons)
        vm.selected_job_id_changed.connect(self._update_buttons)
        vm.selected_job_id_changed.connect(self._restore_selection)  # e.g. "show the new job"
        vm.cancel_requested.connect(self._on_vm_cancel_requested)
        vm.delete_requested.connect(self._on_vm_delete_requested)
        vm.cancel_finished.connect(self._on_vm_cancel_finished)
        vm.inspect_ready.connect(self._on_vm_inspect_ready)
        vm.promote_requested.connect(self._on_vm_promote_requested)
        vm.promote_finished.connect(self._on_vm_cancel_finished)
        vm.job_ended.connect(self.notifier.notify)
        self._update_buttons()
        self._on_vm_percent_changed(vm.percent)
        self._show_empty_state()

    # -- empty state ---------------------------------------------------------------------------

    def _show_empty_state(self, *_args: object) -> None:
        vm = self._vm
        empty = vm.model.rowCount() == 0
        if empty and vm.status_filter:
            self.empty_state.set_content(
                "page.jobs",
                f"No {vm.status_filter} jobs",
                "None of your trainings is in this state right now.",
                [("Show all jobs", "page.jobs", lambda: self.status_filter.setCurrentIndex(0))],
            )
        elif empty:
            self.empty_state.set_content(
                "page.jobs",
                "No trainings yet",
                "Trainings you start from the Train page show up here, live: progress, loss, "
                "logs, sample pictures, and the finished LoRA.",
                [("Train a dataset…", "train.start", self.train_requested.emit)],
            )
        self.empty_state.setVisible(empty)
        # Nothing to show below the table until there is a job at all.
        self.detail.setVisible(not (empty and not vm.status_filter and not vm.selected_job_id))
        self._place_empty_state()

    def _place_empty_state(self) -> None:
        viewport = self.table.viewport()
        width = min(520, max(200, viewport.width() - 64))
        self.empty_state.setFixedWidth(width)
        self.empty_state.adjustSize()
        x = (viewport.width() - width) // 2
        y = max(16, (viewport.height() - self.empty_state.height()) // 3)
        self.empty_state.move(x, y)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._place_empty_state()
        return super().eventFilter(watched, event)

    def _update_buttons(self, *_args: object) -> None:
        vm = self._vm
        self.cancel_button.setEnabled(vm.can_cancel and not vm.busy)
        self.retry_button.setEnabled(vm.can_retry and not vm.busy)
        self.duplicate_button.setEnabled(bool(vm.selected_job_id))
        self.inspect_button.setEnabled(vm.can_inspect)
        self.open_folder_button.setEnabled(bool(vm.output_folder))
        self.delete_button.setEnabled(bool(vm.selected_job_id) and not vm.can_cancel)

    # -- table ---------------------------------------------------------------------------------

    def _on_table_current_changed(self, current, _previous) -> None:  # type: ignore[no-untyped-def]
        self._vm.select(current.data(JOB_ID_ROLE) or "" if current.isValid() else "")

    def _on_table_selection_changed(self, *_args: object) -> None:
        rows = self.table.selectionModel().selectedRows()
        self._vm.set_compare([index.data(JOB_ID_ROLE) for index in rows])

    def _restore_selection(self, *_args: object) -> None:
        row = self._vm.model.row_of(self._vm.selected_job_id)
        if row >= 0 and self.table.currentIndex().row() != row:
            self.table.selectRow(row)

    # -- view-model → widgets ------------------------------------------------------------------

    def _on_vm_percent_changed(self, percent: int) -> None:
        if percent < 0:
            self.progress_bar.setRange(0, 0)  # running, amount unknown: busy indicator
        else:
            self.progress_bar.setRange(0, 100)
            self.progress_bar.setValue(percent)

    def _on_vm_logs_changed(self, text: str) -> None:
        bar = self.logs_view.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        self.logs_view.setPlainText(text)
        if at_bottom:
            bar.setValue(bar.maximum())

    def _on_vm_logs_appended(self, text: str) -> None:
        bar = self.logs_view.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        self.logs_view.appendPlainText(text)
        if at_bottom:
            bar.setValue(bar.maximum())

    def _on_vm_cancel_requested(self, job_id: str, question: str) -> None:
        confirm(
            self, "Cancel training", question, "Cancel job", lambda: self._vm.confirm_cancel(job_id)
        )

    def _on_vm_delete_requested(self, job_id: str, question: str) -> None:
        confirm(
            self, "Delete job record", question, "Delete", lambda: self._vm.confirm_delete(job_id)
        )

    def _on_vm_promote_requested(self, job_id: str, step: int, question: str) -> None:
        confirm(
            self,
            "Use this checkpoint",
            question,
            "Use it",
            lambda: self._vm.confirm_promote(job_id, step),
        )

    def _on_vm_inspect_ready(self, title: str, text: str) -> None:
        dialog = TextDialog(title, text, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

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
