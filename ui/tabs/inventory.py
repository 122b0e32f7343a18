"""Inventory browser: every package, filtered as you type, with its history beside it."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
)

from backoffice.domain.enums import PackageStatus
from backoffice.services import inventory
from backoffice.services.changes import Changes
from backoffice.services.inventory import ActiveSearch, PackageRow
from ui.commands import QueryRunner
from ui.context import AppContext
from ui.models.package_table import Column, PackageTableModel
from ui.tabs.base import ScanFeedback, Tab
from ui.widgets.instruction_panel import InstructionPanel
from ui.widgets.package_detail import PackageDetail


class InventoryTab(Tab):
    SEARCH_LOAD_DELAY_MS = 1500  # build the in-memory search once start-up is over
    SHOW_SCANNED_DELAY_MS = 16  # a scanned package's row follows its answer by about one frame

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.filter = QLineEdit()
        self.filter.setObjectName("inventoryFilter")
        self.filter.setPlaceholderText("Filter by tag, SKU, name, brand, category or location…")
        self.filter.setClearButtonEnabled(True)
        self.include_finished = QCheckBox("Include finished packages")
        self.count_label = QLabel()
        self.model = PackageTableModel(ctx.db, lambda: ctx.actor if ctx.signed_in else None)
        self.view = QTableView()
        self.view.setObjectName("inventoryTable")
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(Column.ITEM, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform rows: cheap layout
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(Column.ITEM, QHeaderView.ResizeMode.Stretch)
        for col, width in (
            (Column.BRAND, 150),
            (Column.CATEGORY, 190),
            (Column.TAG, 210),
            (Column.QUANTITY, 70),
            (Column.UNIT, 60),
            (Column.LOCATION, 150),
            (Column.EXPIRES, 95),
            (Column.LAB, 105),
        ):
            self.view.setColumnWidth(col, width)
        self.detail = PackageDetail(ctx.db, lambda: ctx.actor)

        self.panel = InstructionPanel(
            "Scan a tag anywhere in this window to find its package, or type in the filter to narrow the list."
        )
        search = QHBoxLayout()
        search.addWidget(self.filter, 1)
        search.addWidget(self.include_finished)
        search.addWidget(self.count_label)
        top = QHBoxLayout()
        top.addLayout(search, 3)
        top.addWidget(self.panel, 2)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("inventorySplitter")
        splitter.addWidget(self.view)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        # a keystroke schedules one query; keys typed within the interval share it
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(30)
        self._debounce.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(self._debounce.start)
        self.include_finished.toggled.connect(self.apply_filter)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self._search_loader = QueryRunner(self)
        # after changes (a scan session writes many), one reload once they settle
        self._reload_search = QTimer(self)
        self._reload_search.setSingleShot(True)
        self._reload_search.setInterval(2000)
        self._reload_search.timeout.connect(self._load_search)
        self._scanned_row: PackageRow | None = None
        self._scanned = QTimer(self)
        self._scanned.setSingleShot(True)
        self._scanned.setInterval(self.SHOW_SCANNED_DELAY_MS)
        self._scanned.timeout.connect(self._show_scanned)
        self._first_page = QueryRunner(self)
        self._loaded = False  # packages are read as the signed-in user: the first load waits for sign-in
        ctx.user_changed.connect(self._user_changed)

    def _user_changed(self) -> None:
        """Packages are read as the signed-in user. When the first person signs in, the first page
        is read off the GUI thread (the window appears meanwhile: sorting a large store's packages
        takes SQLite tens of milliseconds), and the in-memory search is built once start-up is over
        (built during it, it would compete with the window for the interpreter)."""
        if self.ctx.signed_in and not self._loaded:
            self._loaded = True
            model, resets = self.model, self.model.resets
            self._first_page.run(
                lambda job: model.fetch(0, model.PAGE), lambda rows: self._first_page_loaded(rows, resets)
            )
            QTimer.singleShot(self.SEARCH_LOAD_DELAY_MS, self._load_search)

    def _first_page_loaded(self, rows: list[PackageRow], resets: int) -> None:
        if self.model.resets == resets:  # not when the person has asked for another list (or order) meanwhile
            self.model.show_first_page(rows)
            self._show_count()

    def _load_search(self) -> None:
        if not self.ctx.signed_in:
            return
        db, actor = self.ctx.db, self.ctx.actor
        self._search_loader.run(lambda job: ActiveSearch.load(db, actor), self._search_loaded)

    def _search_loaded(self, search: ActiveSearch) -> None:
        self.model.active_search = search
        if not self.model.include_finished:
            current = self._current_tag()
            self.apply_filter()
            if current:
                self.select_tag(current)

    def apply_filter(self) -> None:
        self._debounce.stop()
        self.model.set_filter(self.filter.text(), self.include_finished.isChecked())
        self._show_count()

    def _show_count(self) -> None:
        shown = len(self.model.rows)
        more = "+" if self.model.canFetchMore() else ""
        self.count_label.setText(f"{shown:,}{more} packages")

    def refresh(self, changes: Changes) -> None:
        if changes & Changes.INVENTORY:
            self.model.active_search = None  # stale: use the database until the new one is loaded
            self._reload_search.start()
            current = self._current_tag()
            self.apply_filter()
            if current:
                self.select_tag(current)

    def _current_tag(self) -> str | None:
        index = self.view.currentIndex()
        return self.model.rows[index.row()].tag if index.isValid() else None

    def _current_changed(self) -> None:
        index = self.view.currentIndex()
        self.detail.show_package(self.model.rows[index.row()] if index.isValid() else None)

    def select_tag(self, tag: str) -> bool:
        row = self.model.row_of_tag(tag)
        if row is None:
            return False
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    @property
    def showing_scan(self) -> bool:
        """A scanned package's row or history is still to be shown (they follow the answer)."""
        return self._scanned.isActive() or self.detail.history_pending

    def handle_scan(self, code: str) -> ScanFeedback | None:
        """The answer comes from the look-up alone; its row is selected (scrolling the table
        repaints all of it) a frame later, so the answer is on screen first."""
        search = self.model.active_search
        pkg = (search.find(code) if search else None) or inventory.find_by_tag(self.ctx.db, self.ctx.actor, code)
        if pkg is None:
            return ScanFeedback(
                False, f"Tag {code} is not in this store's inventory. Check the label, or receive its manifest first."
            )
        self._scanned_row = pkg
        self._scanned.start()
        return ScanFeedback(
            True,
            f"{pkg.item} — {pkg.quantity.normalize():f} {pkg.unit.value} in {pkg.location} ({pkg.status.value.replace('_', ' ')})",
        )

    def _show_scanned(self) -> None:
        """Select the scanned package's row; when the list does not show it, filter to its tag."""
        pkg, self._scanned_row = self._scanned_row, None
        if pkg is None:
            return
        if self._debounce.isActive():  # keys typed before the scan: their list first, or it would replace the row
            self.apply_filter()
        if self.select_tag(pkg.tag):
            return
        self.filter.blockSignals(True)
        self.filter.setText(pkg.tag)
        self.filter.blockSignals(False)
        self.include_finished.blockSignals(True)
        self.include_finished.setChecked(self.include_finished.isChecked() or pkg.status is PackageStatus.FINISHED)
        self.include_finished.blockSignals(False)
        self.apply_filter()
        self.select_tag(pkg.tag)
