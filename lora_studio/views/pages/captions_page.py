"""View: the Captions page — a filmstrip of the dataset, a large preview, the caption editor (text
and tag chips) and the tag-frequency table, with previous/next keys, undo/redo, the batch dialog
and auto-caption; bound to a CaptionsViewModel.

Keys (while the page has focus): Alt+← / Alt+→, Ctrl+[ / Ctrl+], Page Up / Page Down for the
previous and next picture; Ctrl+J the next picture without a caption (as in taggui); Ctrl+F the
tag table's filter; Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y) undo and redo in the caption history,
which survives a restart. Dialogs open with `open()`; nothing here touches the disk.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.captions.captions_vm import CaptionsViewModel
from lora_studio.viewmodels.models.thumbnail_grid_model import GridRole
from lora_studio.views.captions.auto_caption_dialog import AutoCaptionDialog
from lora_studio.views.captions.batch_dialog import BatchDialog
from lora_studio.views.captions.caption_editor import CaptionEditorWidget
from lora_studio.views.captions.tag_table import TagTableWidget
from lora_studio.views.dataset.detail_pane import PreviewWidget
from lora_studio.views.dataset.thumbnail_delegate import ThumbnailDelegate
from lora_studio.views.icons import set_icon
from lora_studio.views.style import PAGE_MARGINS, SPACE, make_primary, page_header
from lora_studio.views.widgets.empty_state import EmptyState
from lora_studio.views.widgets.error_banner import ErrorBanner

PREVIOUS_KEYS = ("Alt+Left", "Ctrl+[", "PgUp")
NEXT_KEYS = ("Alt+Right", "Ctrl+]", "PgDown")
NEXT_UNCAPTIONED_KEYS = ("Ctrl+J",)


class CaptionsPage(QWidget):
    """The Captions page (see the module docstring)."""

    def __init__(
        self,
        view_model: CaptionsViewModel,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._vm = view_model
        self.dialog: QDialog | None = None
        self.auto_dialog: AutoCaptionDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*PAGE_MARGINS)
        layout.setSpacing(2 * SPACE)
        header, actions = page_header(
            "Captions",
            "What each picture teaches the LoRA: edit captions beside the picture; every change "
            "is saved at once and can be undone, even after a restart.",
            self,
        )
        self.auto_button = make_primary(QPushButton("Auto-caption…", self))
        set_icon(self.auto_button, "mdi6.auto-fix", primary=True)
        self.auto_button.setToolTip("Write captions with a template or a vision model")
        self.batch_button = QPushButton("Batch edit…", self)
        set_icon(self.batch_button, "mdi6.playlist-edit")
        self.batch_button.setToolTip(
            "Trigger word, prefix/suffix, find and replace, rename or remove tags (Ctrl+B)"
        )
        actions.addWidget(self.auto_button)
        actions.addWidget(self.batch_button)
        layout.addLayout(header)

        self.error_banner = ErrorBanner(self)
        self.error_banner.bind(view_model)
        layout.addWidget(self.error_banner)
        self.editor_banner = ErrorBanner(self)
        self.editor_banner.bind(view_model.editor)
        layout.addWidget(self.editor_banner)
        self.tags_banner = ErrorBanner(self)
        self.tags_banner.bind(view_model.tags)
        layout.addWidget(self.tags_banner)
        # A running auto-caption, also when its dialog is closed.
        self.run_strip = QWidget(self)
        strip = QHBoxLayout(self.run_strip)
        strip.setContentsMargins(0, 0, 0, 0)
        self.run_label = QLabel(self.run_strip)
        # Its text changes with every picture: a fixed size policy keeps that from re-laying out
        # (and repainting) the whole page each time.
        self.run_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.run_show_button = QPushButton("Show", self.run_strip)
        self.run_cancel_button = QPushButton("Cancel", self.run_strip)
        strip.addWidget(self.run_label, 1)
        strip.addWidget(self.run_show_button)
        strip.addWidget(self.run_cancel_button)
        self.run_strip.hide()
        layout.addWidget(self.run_strip)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self._build_empty_state())
        self.stack.addWidget(self._build_workspace())
        layout.addWidget(self.stack, 1)
        self._make_actions()
        self._bind()

    # -- building ----------------------------------------------------------------------------------
    def _build_empty_state(self) -> QWidget:
        """The same empty state as the Dataset page's: picture, title, a line, the next action."""
        holder = QWidget(self)
        box = QVBoxLayout(holder)
        box.addStretch(1)
        self.empty_state = EmptyState(holder)
        self.empty_state.set_content(
            "page.captions",
            "No dataset open",
            "Open a folder of pictures to caption them here, or make a new dataset on the "
            "Dataset page: both pages show the same folder.",
            [("Open folder…", "dataset.open", self._vm.request_open_folder)],
        )
        self.empty_state.setFixedWidth(520)  # wrapped text needs a width to take its height
        box.addWidget(self.empty_state, 0, Qt.AlignmentFlag.AlignHCenter)
        box.addStretch(2)
        self.open_button = self.empty_state.buttons[0]
        self.open_note = self.empty_state.note
        return holder

    def _build_workspace(self) -> QWidget:
        vm = self._vm
        workspace = QWidget(self)
        box = QVBoxLayout(workspace)
        box.setContentsMargins(0, 0, 0, 0)

        nav = QHBoxLayout()
        self.previous_button = QToolButton(workspace)
        self.next_button = QToolButton(workspace)
        self.uncaptioned_button = QToolButton(workspace)
        self.notice_label = QLabel(workspace)
        self.notice_label.setEnabled(False)  # the palette's quieter text: a remark, not an error
        self.notice_label.hide()
        self.position_label = QLabel(workspace)
        self.title_label = QLabel(workspace)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        self.undo_button = QToolButton(workspace)
        self.redo_button = QToolButton(workspace)
        nav.addWidget(self.previous_button)
        nav.addWidget(self.position_label)
        nav.addWidget(self.next_button)
        nav.addWidget(self.uncaptioned_button)
        nav.addSpacing(12)
        nav.addWidget(self.title_label)
        nav.addWidget(self.notice_label)
        nav.addStretch(1)
        nav.addWidget(self.undo_button)
        nav.addWidget(self.redo_button)
        box.addLayout(nav)

        splitter = QSplitter(Qt.Orientation.Horizontal, workspace)
        self.filmstrip = QListView(splitter)
        self.filmstrip.setObjectName("Filmstrip")
        self.filmstrip.setModel(vm.dataset.proxy)
        self.filmstrip.setItemDelegate(ThumbnailDelegate(self.filmstrip))
        self.filmstrip.setUniformItemSizes(True)
        self.filmstrip.setSpacing(2)
        self.filmstrip.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.filmstrip.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.filmstrip.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.filmstrip.setMinimumWidth(196)
        self.filmstrip.setMaximumWidth(214)
        self.filmstrip.setToolTip("")
        self.preview = PreviewWidget(splitter)
        self.preview.set_message("Pick a picture on the left.")
        side = QWidget(splitter)
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        self.editor = CaptionEditorWidget(vm.editor, parent=side)
        self.tag_table = TagTableWidget(vm.tags, side)
        self.tag_table.setMinimumHeight(180)
        # The editor takes what its text and chips need; the tag table gets the rest.
        column.addWidget(self.editor, 0)
        column.addWidget(self.tag_table, 1)
        splitter.addWidget(self.filmstrip)
        splitter.addWidget(self.preview)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setSizes([200, 560, 420])
        splitter.setChildrenCollapsible(False)
        box.addWidget(splitter, 1)
        return workspace

    def _make_actions(self) -> None:
        def action(text: str, keys: tuple[str, ...], slot: Callable[[], None], tip: str) -> QAction:
            act = QAction(text, self)
            act.setShortcuts([QKeySequence(k) for k in keys])
            # Only on this page: the Dataset page keeps its own Ctrl+Z (delete/fix undo).
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.setToolTip(tip)
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        vm = self._vm
        self.previous_action = action(
            "Previous", PREVIOUS_KEYS, vm.previous, "Previous picture (Alt+←, Ctrl+[, Page Up)"
        )
        self.next_action = action(
            "Next", NEXT_KEYS, vm.next, "Next picture (Alt+→, Ctrl+], Page Down)"
        )
        self.uncaptioned_action = action(
            "Next without caption",
            NEXT_UNCAPTIONED_KEYS,
            vm.next_uncaptioned,
            "The next picture that has no caption yet (Ctrl+J)",
        )
        self.undo_action = action("Undo", ("Ctrl+Z",), vm.undo, "Undo (Ctrl+Z)")
        self.redo_action = action("Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), vm.redo, "Redo")
        self.batch_action = action("Batch edit…", ("Ctrl+B",), vm.request_batch, "Batch edit")
        self.find_action = action(
            "Filter tags", ("Ctrl+F",), self._focus_tag_filter, "Filter the tag table (Ctrl+F)"
        )
        set_icon(self.previous_action, "mdi6.chevron-left")
        set_icon(self.next_action, "mdi6.chevron-right")
        set_icon(self.uncaptioned_action, "mdi6.comment-alert-outline")
        set_icon(self.undo_action, "mdi6.undo")
        set_icon(self.redo_action, "mdi6.redo")
        buttons = (
            self.previous_button,
            self.next_button,
            self.uncaptioned_button,
            self.undo_button,
            self.redo_button,
        )
        for button in buttons:
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.previous_button.setDefaultAction(self.previous_action)
        self.next_button.setDefaultAction(self.next_action)
        self.uncaptioned_button.setDefaultAction(self.uncaptioned_action)
        self.undo_button.setDefaultAction(self.undo_action)
        self.redo_button.setDefaultAction(self.redo_action)

    def _bind(self) -> None:
        vm = self._vm
        session = vm.session
        # Opening waits while the Dataset page imports, opens or fixes (they share the dataset).
        vm.dataset.idle_changed.connect(self._on_dataset_idle_changed)
        vm.dataset.busy_reason_changed.connect(self._on_dataset_idle_changed)
        self.batch_button.clicked.connect(vm.request_batch)
        self.auto_button.clicked.connect(vm.request_auto_caption)
        auto = vm.auto_caption
        auto.running_changed.connect(self.run_strip.setVisible)
        auto.progress_text_changed.connect(self.run_label.setText)
        self.run_show_button.clicked.connect(self._on_vm_auto_caption_requested)
        self.run_cancel_button.clicked.connect(auto.cancel)
        vm.batch_requested.connect(self._on_vm_batch_requested)
        vm.auto_caption_requested.connect(self._on_vm_auto_caption_requested)
        vm.has_dataset_changed.connect(self._on_vm_has_dataset_changed)
        vm.position_text_changed.connect(self.position_label.setText)
        vm.notice_changed.connect(self._on_vm_notice_changed)
        vm.can_previous_changed.connect(self.previous_action.setEnabled)
        vm.can_next_changed.connect(self.next_action.setEnabled)
        vm.editor.title_changed.connect(self.title_label.setText)
        session.can_undo_changed.connect(self._update_history)
        session.can_redo_changed.connect(self._update_history)
        session.undo_text_changed.connect(self._update_history)
        session.redo_text_changed.connect(self._update_history)
        detail = vm.dataset.detail
        detail.preview_changed.connect(self.preview.set_image)
        detail.path_changed.connect(self._on_vm_current_changed)
        self.filmstrip.selectionModel().currentChanged.connect(self._on_filmstrip_current_changed)
        self.preview.set_image(detail.preview)
        self.position_label.setText(vm.position_text)
        self.previous_action.setEnabled(vm.can_previous)
        self.next_action.setEnabled(vm.can_next)
        self.title_label.setText(vm.editor.title)
        self._on_vm_has_dataset_changed(vm.has_dataset)
        self._on_dataset_idle_changed()
        self._update_history()

    def refresh_icons(self) -> None:
        """Action icons in the palette's colours, again on a theme switch: actions are not
        widgets, so `refresh_themed` does not recolour them by itself."""
        for act in (
            self.previous_action,
            self.next_action,
            self.uncaptioned_action,
            self.undo_action,
            self.redo_action,
        ):
            name = act.property("icon_name")
            if isinstance(name, str):
                set_icon(act, name)

    def _focus_tag_filter(self) -> None:
        self.tag_table.filter_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.tag_table.filter_field.selectAll()

    # -- view-model → widgets ----------------------------------------------------------------------
    def _on_vm_has_dataset_changed(self, has: bool) -> None:
        self.stack.setCurrentIndex(1 if has else 0)
        self.batch_button.setEnabled(has)
        self.auto_button.setEnabled(has)

    def _on_vm_notice_changed(self, text: str) -> None:
        self.notice_label.setText(text)
        self.notice_label.setVisible(bool(text))

    def _on_dataset_idle_changed(self, *_args: object) -> None:
        dataset = self._vm.dataset
        self.empty_state.set_actions_enabled(dataset.idle, dataset.busy_reason)

    def _update_history(self, *_args: object) -> None:
        session = self._vm.session
        self.undo_action.setEnabled(session.can_undo)
        self.redo_action.setEnabled(session.can_redo)
        undo, redo = session.undo_text, session.redo_text
        self.undo_action.setToolTip(f"Undo “{undo}” (Ctrl+Z)" if undo else "Nothing to undo")
        self.redo_action.setToolTip(f"Redo “{redo}” (Ctrl+Shift+Z)" if redo else "Nothing to redo")

    def _on_vm_current_changed(self, path: str) -> None:
        if not path:
            self.preview.set_image(self._vm.dataset.detail.preview)
            return
        current = self.filmstrip.currentIndex()
        if current.isValid() and str(current.data(GridRole.PATH)) == path:
            return
        dataset = self._vm.dataset
        source = dataset.grid_model.row_for_path(Path(path))
        if source is None:
            return
        index = dataset.proxy.mapFromSource(dataset.grid_model.index(source, 0))
        if index.isValid():
            self.filmstrip.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.filmstrip.scrollTo(index)

    # -- user intent → view-model ------------------------------------------------------------------
    def selected_paths(self) -> list[str]:
        indexes = self.filmstrip.selectionModel().selectedIndexes()
        return [str(index.data(GridRole.PATH)) for index in sorted(indexes, key=lambda i: i.row())]

    def _on_filmstrip_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self._vm.select(str(current.data(GridRole.PATH)))

    def _on_vm_batch_requested(self) -> None:
        self._vm.prepare_batch(self.selected_paths())
        dialog = BatchDialog(self._vm.batch, self._vm.tags.tags(), self)
        self._show_dialog(dialog)

    def _on_vm_auto_caption_requested(self) -> None:
        if self.auto_dialog is not None:
            self.auto_dialog.raise_()
            self.auto_dialog.activateWindow()
            return
        self._vm.prepare_auto_caption(self.selected_paths())
        dialog = AutoCaptionDialog(self._vm.auto_caption, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: setattr(self, "auto_dialog", None))
        self.auto_dialog = dialog
        # Not modal: captions can be edited while a run goes on.
        dialog.setModal(False)
        dialog.show()

    def _show_dialog(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()  # non-blocking: the qasync loop keeps running
