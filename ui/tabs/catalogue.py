"""Catalogue tab: the items the store carries, searched and filtered by brand, category and
vendor; managers and purchasing add, edit and archive items and import a shelf price list
(associates read). Items with no shelf price yet stand out, and can be listed alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from backoffice.services import catalogue
from backoffice.services.actor import Permission
from backoffice.services.catalogue import Facets, ItemRow, ItemSaved, PricesImported
from backoffice.services.changes import Changes
from ui import messages
from ui.commands import Job, QueryRunner, run_command
from ui.context import AppContext
from ui.models.catalogue_table import CatalogueModel, Column
from ui.tabs.base import Tab
from ui.tabs.catalogue_dialogs import ItemDialog
from ui.widgets.table_view import RowTableView

_ALL = ""
SEARCH_DELAY_MS = 250


class CatalogueTab(Tab):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.search = QLineEdit()
        self.search.setObjectName("catalogueSearch")
        self.search.setPlaceholderText("Search SKU, name, brand or strain…")
        self.search.setClearButtonEnabled(True)
        self.brand, self.category, self.vendor = QComboBox(), QComboBox(), QComboBox()
        for box, name in (
            (self.brand, "catalogueBrand"),
            (self.category, "catalogueCategory"),
            (self.vendor, "catalogueVendor"),
        ):
            box.setObjectName(name)
            box.setMinimumContentsLength(14)
        self.archived = QCheckBox("Archived too")
        self.no_price = QCheckBox("No price yet only")
        self.new_button = QPushButton("New item…")
        self.edit_button = QPushButton("Edit…")
        self.archive_button = QPushButton("Archive")
        self.import_button = QPushButton("Import price list…")
        self.count_label = QLabel()
        self.model = CatalogueModel()
        self.view = RowTableView(self.model, stretch_column=Column.NAME)
        self.view.setObjectName("catalogueItems")
        self.view.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
        for column, width in (
            (Column.SKU, 110),
            (Column.BRAND, 150),
            (Column.CATEGORY, 170),
            (Column.STRAIN, 120),
            (Column.UNIT, 70),
            (Column.PRICE, 95),
            (Column.FLOOR_PAR, 75),
            (Column.VENDOR, 170),
        ):
            self.view.setColumnWidth(column, width)

        filters = QHBoxLayout()
        filters.addWidget(self.search, 2)
        for label, box in (("Brand", self.brand), ("Category", self.category), ("Vendor", self.vendor)):
            filters.addWidget(QLabel(label))
            filters.addWidget(box, 1)
        filters.addWidget(self.archived)
        filters.addWidget(self.no_price)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.edit_button, self.archive_button, self.import_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(buttons)
        layout.addWidget(self.view, 1)

        self._typing = QTimer(self)  # search once typing pauses, not on every key
        self._typing.setSingleShot(True)
        self._typing.setInterval(SEARCH_DELAY_MS)
        self._typing.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _: self._typing.start())
        for box in (self.brand, self.category, self.vendor):
            box.currentIndexChanged.connect(lambda _: self.reload())
        self.archived.toggled.connect(lambda _: self.reload())
        self.no_price.toggled.connect(lambda _: self.reload())
        self.new_button.clicked.connect(lambda: self.edit(None))
        self.edit_button.clicked.connect(lambda: self.edit(self.current()))
        self.view.doubleClicked.connect(lambda _: self.edit(self.current()))
        self.archive_button.clicked.connect(self.toggle_archived)
        self.import_button.clicked.connect(self.choose_price_list)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self.loader = QueryRunner(self)
        self.facets = Facets([], [], [])
        self._loaded = self._stale = False
        ctx.user_changed.connect(self._signed_in)
        self._enable()

    # --- loading ------------------------------------------------------------------------------

    def _signed_in(self) -> None:
        self._enable()
        if self._loaded and self.ctx.signed_in:
            self.reload(facets=True)

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt API) — load on first view, not at start-up
        super().showEvent(event)
        if (not self._loaded or self._stale) and self.ctx.signed_in:
            self._loaded, self._stale = True, False
            self.reload(facets=True)

    def refresh(self, changes: Changes) -> None:
        if not self._loaded or not changes & (Changes.INVENTORY | Changes.LABELS):
            return
        if self.isVisible():
            self.reload(facets=True)
        else:
            self._stale = True

    def reload(self, *, facets: bool = False) -> None:
        """The items the search and filters select, read off the GUI thread (the newest ask wins)."""
        if not self.ctx.signed_in or not self.ctx.actor.can(Permission.VIEW_INVENTORY):
            return
        db, actor = self.ctx.db, self.ctx.actor
        search, brand = self.search.text(), str(self.brand.currentData() or _ALL)
        category, vendor = str(self.category.currentData() or _ALL), str(self.vendor.currentData() or _ALL)
        archived, no_price = self.archived.isChecked(), self.no_price.isChecked()

        def load(job: Job) -> tuple[list[ItemRow], Facets | None]:
            rows = catalogue.list_items(
                db,
                actor,
                search=search,
                brand=brand,
                category=category,
                vendor=vendor,
                archived=archived,
                no_price_only=no_price,
            )
            return rows, catalogue.facets(db, actor) if facets else None

        self.loader.run(load, self._show)

    def _show(self, loaded: tuple[list[ItemRow], Facets | None]) -> None:
        rows, facets = loaded
        keep = self.current()
        if facets is not None:
            self._set_facets(facets)
        self.model.set_rows(rows)
        unpriced = sum(1 for row in rows if row.price == 0)
        self.count_label.setText(f"{len(rows)} item(s)" + (f" · {unpriced} with no price yet" if unpriced else ""))
        if keep is not None:
            self.select_sku(keep.sku)
        self._enable()

    def _set_facets(self, facets: Facets) -> None:
        self.facets = facets
        for box, values, everything in (
            (self.brand, facets.brands, "All brands"),
            (self.category, facets.categories, "All categories"),
            (self.vendor, facets.vendors, "All vendors"),
        ):
            chosen = box.currentData()
            box.blockSignals(True)
            box.clear()
            box.addItem(everything, _ALL)
            for value in values:
                box.addItem(value, value)
            box.setCurrentIndex(max(box.findData(chosen), 0) if chosen else 0)
            box.blockSignals(False)

    def current(self) -> ItemRow | None:
        row = self.view.current_row()
        return row if isinstance(row, ItemRow) else None

    def select_sku(self, sku: str) -> None:
        row = self.model.row_of_sku(sku)
        if row is not None:
            self.view.setCurrentIndex(self.view.proxy.mapFromSource(self.model.index(row, 0)))

    def _enable(self) -> None:
        signed_in = self.ctx.signed_in
        may_edit = signed_in and self.ctx.actor.can(Permission.EDIT_CATALOGUE)
        item = self.current()
        why = "" if may_edit else "Managers and purchasing edit the catalogue."
        for button in (self.new_button, self.edit_button, self.archive_button):
            button.setToolTip(why)
        self.new_button.setEnabled(may_edit)
        self.edit_button.setEnabled(may_edit and item is not None)
        self.archive_button.setEnabled(may_edit and item is not None)
        self.archive_button.setText("Restore" if item is not None and item.archived_at else "Archive")
        may_price = signed_in and self.ctx.actor.can(Permission.SET_PRICES)
        self.import_button.setEnabled(may_price)
        self.import_button.setToolTip("" if may_price else "Managers and purchasing set shelf prices.")

    # --- changing -----------------------------------------------------------------------------

    def edit(self, item: ItemRow | None) -> None:
        if not self.ctx.actor.can(Permission.EDIT_CATALOGUE):
            return
        dialog = ItemDialog(self.ctx, self.facets, item, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.saved is not None:
            self._saved(dialog.saved)

    def _saved(self, saved: ItemSaved) -> None:
        messages.ok(saved.message)
        QTimer.singleShot(0, lambda: self.select_sku(saved.item.sku))  # after the reload the change asked for

    def toggle_archived(self) -> None:
        item = self.current()
        if item is None:
            return
        db, actor, archive = self.ctx.db, self.ctx.actor, item.archived_at is None
        run_command(
            self,
            self.ctx,
            lambda job: catalogue.set_archived(db, actor, item.sku, archive),
            lambda saved: messages.ok(saved.message),
        )

    def choose_price_list(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a shelf price list", str(Path.home()), "Price list (*.csv);;All files (*)"
        )
        if path:
            self.import_price_list(Path(path))

    def import_price_list(self, path: Path) -> None:
        db, actor = self.ctx.db, self.ctx.actor

        def imported(result: PricesImported) -> None:
            messages.ok(
                f"{result.file}: {result.lines} line(s), {len(result.changed)} price(s) changed. Their shelf "
                "labels are listed in the Labels tab under “price changed”."
            )

        run_command(
            self,
            self.ctx,
            lambda job: catalogue.import_prices(db, actor, path),
            imported,
            progress=f"Importing {path.name}",
        )
