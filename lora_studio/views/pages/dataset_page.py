"""View: the Dataset page — toolbar, filter bar, thumbnail grid with drop-to-import, and a side
panel with the detail pane, statistics and the dataset doctor, bound to a DatasetViewModel.

The page only wires widgets to the view-model: folder and file choosers are opened here (with
`open()`, never `exec()`), selections become `set_current`/`delete_paths` calls, and every long
operation's progress and Cancel come from the view-models through ProgressStrips.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lora_studio.core.plurals import plural
from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel
from lora_studio.viewmodels.models.thumbnail_grid_model import GridRole
from lora_studio.views.dataset.detail_pane import DetailPane
from lora_studio.views.dataset.doctor_panel import DoctorPanel
from lora_studio.views.dataset.filter_bar import FilterBar
from lora_studio.views.dataset.grid_view import DatasetGridView
from lora_studio.views.dataset.progress_strip import ProgressStrip
from lora_studio.views.dataset.stats_panel import StatsPanel
from lora_studio.views.icons import icon, set_icon
from lora_studio.views.style import PAGE_MARGINS, SPACE, make_primary, page_header
from lora_studio.views.widgets.empty_state import EmptyState
from lora_studio.views.widgets.error_banner import ErrorBanner

IMPORT_FILTER = (
    "Pictures, archives and videos (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff *.gif *.heic "
    "*.heif *.avif *.zip *.mp4 *.mov *.m4v *.mkv *.webm *.avi);;All files (*)"
)


class DatasetPage(QWidget):
    def __init__(self, view_model: DatasetViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        self.dialog: QFileDialog | None = None
        self.drop_choice: QMessageBox | None = None
        self.name_dialog: QInputDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*PAGE_MARGINS)
        layout.setSpacing(2 * SPACE)

        header, actions = page_header(
            "Dataset",
            "The pictures and captions you train on: check them, fix what the doctor finds.",
            self,
        )
        self.new_button = make_primary(QPushButton("New dataset…", self))
        set_icon(self.new_button, "dataset.new", primary=True)
        self.new_button.setToolTip(
            "Make a new dataset folder in your datasets location and import pictures into it"
        )
        self.open_button = QPushButton("Open folder…", self)
        set_icon(self.open_button, "dataset.open")
        self.open_button.setToolTip("Open a dataset folder (Ctrl+O)")
        self.import_button = QPushButton("Import…", self)
        set_icon(self.import_button, "dataset.import")
        self.import_button.setToolTip(
            "Copy pictures, zip archives or a whole folder into this dataset (Ctrl+I)"
        )
        self.import_menu = QMenu(self.import_button)
        self.import_files_action = self.import_menu.addAction("Pictures or zip archives…")
        self.import_folder_action = self.import_menu.addAction("A whole folder…")
        self.import_button.setMenu(self.import_menu)
        for button in (self.new_button, self.open_button, self.import_button):
            actions.addWidget(button)
        layout.addLayout(header)

        top = QHBoxLayout()
        top.setSpacing(2 * SPACE)
        self.delete_button = QToolButton(self)
        self.undo_button = QToolButton(self)
        self.folder_label = QLabel("No dataset open", self)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_note = QLabel(self)
        self.folder_note.setObjectName("FolderNote")
        self.folder_note.setWordWrap(True)
        top.addWidget(self.delete_button)
        top.addWidget(self.undo_button)
        top.addSpacing(2 * SPACE)
        folder_box = QVBoxLayout()
        folder_box.setSpacing(0)
        folder_box.addWidget(self.folder_label)
        folder_box.addWidget(self.folder_note)
        top.addLayout(folder_box, 1)
        layout.addLayout(top)

        self.filter_bar = FilterBar(view_model, self)
        layout.addWidget(self.filter_bar)
        self.error_banner = ErrorBanner(self)
        self.error_banner.bind(view_model)
        layout.addWidget(self.error_banner)
        self.progress = ProgressStrip(self)
        self.progress.bind(view_model)
        layout.addWidget(self.progress)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.grid = DatasetGridView(splitter)
        self.grid.setModel(view_model.proxy)
        # The empty grid offers the next step as buttons; drops still land on the grid around it.
        self.empty_state = EmptyState(self.grid.viewport())
        self.grid.viewport().installEventFilter(self)
        self.side = QTabWidget(splitter)
        self.detail = DetailPane(view_model.detail, self.side)
        self.stats = StatsPanel(view_model.stats, self.side)
        self.doctor = DoctorPanel(view_model.doctor, self.side)
        self.side.addTab(self.detail, "Details")
        self.side.addTab(self.stats, "Statistics")
        self.side.addTab(self.doctor, "Doctor")
        splitter.addWidget(self.grid)
        splitter.addWidget(self.side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([700, 480])
        layout.addWidget(splitter, 1)

        bottom = QHBoxLayout()
        self.count_label = QLabel(self)
        self.thumbnail_label = QLabel(self)
        self.stop_thumbnails = QToolButton(self)
        self.stop_thumbnails.setText("Stop")
        self.stop_thumbnails.setToolTip(
            "Stop making thumbnails in the background; visible ones still load."
        )
        for widget in (self.thumbnail_label, self.stop_thumbnails):
            # Shown and hidden with every fill: keeping their room keeps the grid's height, so
            # its 5,000 cells are not laid out again at the start and end of each fill.
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
        bottom.addWidget(self.count_label)
        bottom.addStretch(1)
        bottom.addWidget(self.thumbnail_label)
        bottom.addWidget(self.stop_thumbnails)
        layout.addLayout(bottom)

        self._make_actions()
        self._bind()

    # -- set-up ------------------------------------------------------------------------------------
    def _make_actions(self) -> None:
        def action(text: str, keys: QKeySequence | str, slot: object, tip: str) -> QAction:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(keys))
            # Only while focus is on this page: other pages keep their own Delete and Ctrl+Z.
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.setToolTip(tip)
            act.triggered.connect(slot)  # type: ignore[arg-type]
            self.addAction(act)
            return act

        self.open_action = action(
            "Open folder…", "Ctrl+O", self._vm.request_open_folder, "Open a dataset folder"
        )
        self.import_action = action("Import…", "Ctrl+I", self._vm.request_import, "Import pictures")
        self.delete_action = action(
            "Delete",
            QKeySequence.StandardKey.Delete,
            self._on_delete_triggered,
            "Move the selected pictures to the project trash (Delete)",
        )
        self.undo_action = action(
            "Undo",
            QKeySequence.StandardKey.Undo,
            self._vm.undo,
            "Undo the last delete or fix (Ctrl+Z)",
        )
        # taggui's "focus the filter box" key, under the name every program uses for Find.
        self.find_action = action(
            "Filter", "Ctrl+F", self._focus_filter, "Type to filter the pictures (Ctrl+F)"
        )
        self.refresh_icons()
        self.delete_button.setDefaultAction(self.delete_action)
        self.undo_button.setDefaultAction(self.undo_action)

    def _focus_filter(self) -> None:
        self.filter_bar.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_bar.search.selectAll()

    def _bind(self) -> None:
        vm = self._vm
        self.new_button.clicked.connect(vm.request_new_dataset)
        self.open_button.clicked.connect(vm.request_open_folder)
        self.import_files_action.triggered.connect(lambda: vm.request_import(folder=False))
        self.import_folder_action.triggered.connect(lambda: vm.request_import(folder=True))
        vm.folder_open_requested.connect(self._on_vm_folder_open_requested)
        vm.import_files_requested.connect(self._on_vm_import_files_requested)
        vm.import_folder_requested.connect(self._on_vm_import_folder_requested)
        vm.new_dataset_requested.connect(self._on_vm_new_dataset_requested)
        vm.drop_choice_requested.connect(self._on_vm_drop_choice_requested)
        vm.folder_changed.connect(self._show_folder)
        vm.folder_note_changed.connect(self.folder_note.setText)
        vm.image_count_changed.connect(self._show_counts)
        vm.grid.visible_count_changed.connect(self._show_counts)
        vm.undo_stack.can_undo_changed.connect(self.undo_action.setEnabled)
        vm.undo_stack.text_changed.connect(
            lambda text: self.undo_action.setToolTip(
                f"{text} (Ctrl+Z)" if text else "Undo (Ctrl+Z)"
            )
        )
        vm.idle_changed.connect(self._update_actions)
        vm.busy_reason_changed.connect(self._update_actions)
        vm.thumbnails_done_changed.connect(self._show_thumbnail_progress)
        vm.thumbnails_filling_changed.connect(self._show_thumbnail_progress)
        vm.reveal_requested.connect(self._on_vm_reveal_requested)
        self.grid.paths_dropped.connect(vm.import_sources)
        self.grid.selectionModel().currentChanged.connect(self._on_grid_current_changed)
        self.grid.selectionModel().selectionChanged.connect(self._update_actions)
        self.stop_thumbnails.clicked.connect(vm.stop_thumbnails)
        self.doctor.finding_activated.connect(self._on_doctor_finding_activated)
        self._show_folder(vm.folder)
        self._show_counts()
        self._show_thumbnail_progress()
        self.undo_action.setEnabled(vm.undo_stack.can_undo)
        self._update_actions()

    def refresh_icons(self) -> None:
        """Tab and action icons in the palette's colours (called again on a theme switch: neither
        tabs nor actions are widgets that `refresh_themed` recolours by themselves)."""
        for number, name in enumerate(("dataset.details", "dataset.stats", "dataset.doctor")):
            self.side.setTabIcon(number, icon(name))
        self.delete_action.setIcon(icon("dataset.delete"))
        self.undo_action.setIcon(icon("dataset.undo"))

    # -- view-model → widgets ----------------------------------------------------------------------
    def _show_folder(self, folder: str) -> None:
        self.folder_label.setText(folder or "No dataset open")
        self.folder_note.setText(self._vm.folder_note if folder else "")
        self._update_actions()
        self._show_empty_state()

    def _show_counts(self, *_args: object) -> None:
        total, shown = self._vm.image_count, self._vm.grid.visible_count
        text = plural(total, "picture")
        if shown != total:
            text += f" · {shown:,} shown"
        self.count_label.setText(text if self._vm.folder else "")
        self._show_empty_state()

    def _show_empty_state(self) -> None:
        """What the empty grid offers: start a dataset, fill an empty one, or clear filters."""
        vm = self._vm
        if not vm.folder:
            self.grid.set_empty_text("Drop pictures, a folder or zip archives here")
            self.empty_state.set_content(
                "page.dataset",
                "Start a dataset",
                "A dataset is a folder of pictures and their captions. Make a new one and import "
                "pictures into it, or open a folder you already have.",
                [
                    ("New dataset…", "dataset.new", vm.request_new_dataset),
                    ("Open folder…", "dataset.open", vm.request_open_folder),
                ],
            )
        elif vm.image_count == 0:
            self.grid.set_empty_text("Drop pictures, a folder or zip archives here")
            self.empty_state.set_content(
                "dataset.import",
                "This dataset has no pictures yet",
                "Import pictures, zip archives or a whole folder; they are copied in and the "
                "originals stay where they are.",
                [
                    ("Import pictures…", "dataset.import", lambda: vm.request_import(False)),
                    ("Import a folder…", "dataset.open", lambda: vm.request_import(True)),
                ],
            )
        elif vm.grid.visible_count == 0:
            self.grid.set_empty_text("")
            self.empty_state.set_content(
                "mdi6.filter-remove-outline",
                "No picture matches the filters",
                f"All {plural(vm.image_count, 'picture')} are hidden by the search or the filters.",
                [("Clear filters", "mdi6.filter-remove-outline", vm.grid.clear_filters)],
            )
        self.empty_state.setVisible(vm.grid.visible_count == 0 or not vm.folder)
        self._place_empty_state()

    def _place_empty_state(self) -> None:
        viewport = self.grid.viewport()
        width = min(520, max(200, viewport.width() - 64))
        self.empty_state.setFixedWidth(width)
        self.empty_state.adjustSize()
        x = (viewport.width() - width) // 2
        y = max(48, (viewport.height() - self.empty_state.height()) // 2)
        self.empty_state.move(x, y)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.grid.viewport() and event.type() == QEvent.Type.Resize:
            self._place_empty_state()
        return super().eventFilter(watched, event)

    def _show_thumbnail_progress(self, *_args: object) -> None:
        vm = self._vm
        filling = vm.thumbnails_filling
        self.thumbnail_label.setVisible(filling)
        self.stop_thumbnails.setVisible(filling)
        self.thumbnail_label.setText(
            f"Making thumbnails {vm.thumbnails_done:,} of {vm.thumbnails_total:,}"
        )

    def _update_actions(self, *_args: object) -> None:
        # Not only this page's own operation: the doctor's fixes change the dataset too.
        busy = not self._vm.idle
        self.empty_state.set_actions_enabled(not busy, self._vm.busy_reason)
        if self.empty_state.isVisible():
            self._place_empty_state()
        # Import works without an open dataset too: it asks for a new dataset's name first.
        self.import_action.setEnabled(not busy)
        self.import_button.setEnabled(not busy)
        self.new_button.setEnabled(not busy)
        self.delete_action.setEnabled(not busy and self.grid.selectionModel().hasSelection())
        self.open_action.setEnabled(not busy)
        self.open_button.setEnabled(not busy)

    def _on_vm_reveal_requested(self, path: str) -> None:
        source = self._vm.grid_model.row_for_path(Path(path))
        if source is None:
            return
        index = self._vm.proxy.mapFromSource(self._vm.grid_model.index(source, 0))
        if index.isValid():
            self.grid.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.grid.scrollTo(index)
            self.side.setCurrentWidget(self.detail)

    # -- user intent → view-model ------------------------------------------------------------------
    def selected_paths(self) -> list[str]:
        indexes = self.grid.selectionModel().selectedIndexes()
        return [str(index.data(GridRole.PATH)) for index in sorted(indexes, key=lambda i: i.row())]

    def _on_delete_triggered(self) -> None:
        self._vm.delete_paths(self.selected_paths())

    def _on_grid_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._vm.set_current(str(current.data(GridRole.PATH)) if current.isValid() else "")

    def _on_doctor_finding_activated(self, path: str) -> None:
        self._vm.reveal(path)

    def _on_vm_folder_open_requested(self, start: str) -> None:
        dialog = QFileDialog(self, "Open a dataset folder", start)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self._vm.open_folder)
        self._show_dialog(dialog)

    def _on_vm_import_files_requested(self, start: str) -> None:
        dialog = QFileDialog(self, "Import pictures or zip archives", start, IMPORT_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(self._vm.import_sources)
        self._show_dialog(dialog)

    def _on_vm_import_folder_requested(self, start: str) -> None:
        dialog = QFileDialog(self, "Import a whole folder", start)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda folder: self._vm.import_sources([folder]))
        self._show_dialog(dialog)

    def _on_vm_new_dataset_requested(self, location: str) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("New dataset")
        dialog.setLabelText(
            f"Name of the new dataset (a folder in {location}):\n"
            "for example the character, the style or the object it teaches."
        )
        dialog.setOkButtonText("Create")
        dialog.textValueSelected.connect(self._vm.create_dataset)
        dialog.rejected.connect(self._vm.discard_drop)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: setattr(self, "name_dialog", None))
        self.name_dialog = dialog
        dialog.open()

    def _on_vm_drop_choice_requested(self, folder: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Use this folder",
            f"How should LoRA Studio use {folder}?",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setInformativeText(
            "Copy into a new dataset: the pictures and captions are copied into your datasets "
            f"folder ({self._vm.datasets_dir}); the original folder is never changed.\n\n"
            "Work on this folder: deletes and fixes change it (what they replace is kept in its "
            "trash, and Undo brings it back)."
        )
        copy = box.addButton("Copy into a new dataset", QMessageBox.ButtonRole.AcceptRole)
        in_place = box.addButton("Work on this folder", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(copy)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            clicked = box.clickedButton()
            self.drop_choice = None
            if clicked is copy:
                self._vm.answer_drop(copy=True)
            elif clicked is in_place:
                self._vm.answer_drop(copy=False)
            else:
                self._vm.discard_drop()

        box.finished.connect(answered)
        self.drop_choice = box
        box.open()  # never exec(): a nested loop inside the qasync loop breaks running tasks

    def _show_dialog(self, dialog: QFileDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()  # non-blocking: the qasync loop keeps running
