"""View: the tag-frequency table with a filter field and one-click actions on the selected tag
(remove everywhere, rename, make trigger), bound to a TagsViewModel.

Renaming asks for the new name in a non-modal input dialog (`open()`, never `exec()`).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.captions.tag_table_model import SORT_ROLE, TAG_ROLE
from lora_studio.viewmodels.captions.tags_vm import TagsViewModel
from lora_studio.views.icons import set_icon


class TagTableWidget(QWidget):
    """Filter, table and action buttons of the dataset's tags."""

    def __init__(self, view_model: TagsViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        self.dialog: QInputDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.summary_label = QLabel(self)
        self.summary_label.setEnabled(False)
        layout.addWidget(self.summary_label)
        self.filter_field = QLineEdit(self)
        self.filter_field.setPlaceholderText("Filter tags…")
        self.filter_field.setClearButtonEnabled(True)
        layout.addWidget(self.filter_field)

        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(view_model.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(0)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)

        buttons = QHBoxLayout()
        self.remove_button = QPushButton("Remove everywhere", self)
        self.remove_button.setToolTip("Remove the selected tag from every caption (one undo step)")
        self.rename_button = QPushButton("Rename…", self)
        self.rename_button.setToolTip("Rename the selected tag in every caption")
        self.trigger_button = QPushButton("Make trigger", self)
        self.trigger_button.setToolTip(
            "Use the selected tag as the trigger word: first in every caption"
        )
        set_icon(self.remove_button, "mdi6.tag-remove-outline")
        set_icon(self.rename_button, "mdi6.rename-box")
        set_icon(self.trigger_button, "mdi6.star-outline")
        for button in (self.remove_button, self.rename_button, self.trigger_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.notice_label = QLabel(self)
        self.notice_label.setWordWrap(True)
        layout.addWidget(self.notice_label)
        self._bind()

    def _bind(self) -> None:
        vm = self._vm
        self.filter_field.textChanged.connect(self.proxy.setFilterFixedString)
        self.remove_button.clicked.connect(lambda: self._act(vm.remove_everywhere))
        self.rename_button.clicked.connect(lambda: self._act(vm.request_rename))
        self.trigger_button.clicked.connect(lambda: self._act(vm.make_trigger))
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu_requested)
        vm.summary_changed.connect(self.summary_label.setText)
        vm.notice_changed.connect(self.notice_label.setText)
        vm.busy_changed.connect(self._update_buttons)
        vm.rename_requested.connect(self._on_vm_rename_requested)
        self.summary_label.setText(vm.summary)
        self._update_buttons()

    def selected_tag(self) -> str:
        rows = self.table.selectionModel().selectedRows()
        return str(rows[0].data(TAG_ROLE)) if rows else ""

    def select_tag(self, tag: str) -> None:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(TAG_ROLE) == tag:
                self.table.selectRow(row)
                return

    def _act(self, action: object) -> None:
        tag = self.selected_tag()
        if tag:
            action(tag)  # type: ignore[operator]

    def _update_buttons(self, *_args: object) -> None:
        enabled = bool(self.selected_tag()) and not self._vm.busy
        for button in (self.remove_button, self.rename_button, self.trigger_button):
            button.setEnabled(enabled)

    def _on_table_context_menu_requested(self, point: QPoint) -> None:
        index: QModelIndex = self.table.indexAt(point)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        menu = QMenu(self)
        menu.addAction("Remove everywhere", lambda: self._act(self._vm.remove_everywhere))
        menu.addAction("Rename…", lambda: self._act(self._vm.request_rename))
        menu.addAction("Make trigger", lambda: self._act(self._vm.make_trigger))
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.table.viewport().mapToGlobal(point))

    def _on_vm_rename_requested(self, tag: str) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename tag")
        dialog.setLabelText(f"Rename “{tag}” in every caption to:")
        dialog.setTextValue(tag)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda new: self._vm.rename(tag, new))
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
