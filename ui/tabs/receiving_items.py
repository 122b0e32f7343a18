"""Create the catalogue items a delivery brings: one row per new item of the chosen manifest
lines, with the brand the store knows filled in, the shelf price to type (a zero price needs
a tick: it is listed as "no price yet" in the catalogue) and an optional SKU."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QWidget

from backoffice.services import catalogue
from backoffice.services.actor import Permission
from backoffice.services.catalogue import NO_PRICE, ItemsCreated, NewItem, NewItemProposal
from ui.context import AppContext
from ui.tabs.receiving_dialogs import ServiceDialog

_ITEM, _CATEGORY, _LINES, _COST, _BRAND, _PRICE, _SKU = range(7)
_EDITABLE = (_BRAND, _PRICE, _SKU)


class CreateItemsDialog(ServiceDialog):
    def __init__(self, ctx: AppContext, manifest_id: int, proposals: list[NewItemProposal], parent: QWidget) -> None:
        super().__init__("Create items from the manifest", "Create items", parent)
        self.ctx, self.manifest_id, self.proposals = ctx, manifest_id, proposals
        self.resize(900, 160 + 28 * min(len(proposals), 12))
        may_price = ctx.actor.can(Permission.SET_PRICES)
        self.table = QTableWidget(len(proposals), 7)
        self.table.setObjectName("newItems")
        self.table.setHorizontalHeaderLabels(["Item", "Category", "Lines", "Unit cost", "Brand", "Shelf price", "SKU"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(_ITEM, QHeaderView.ResizeMode.Stretch)
        for row, proposal in enumerate(proposals):
            for column, text in (
                (_ITEM, proposal.item_name),
                (_CATEGORY, proposal.category),
                (_LINES, str(proposal.lines)),
                (_COST, f"{proposal.unit_cost:.2f}"),
                (_BRAND, proposal.brand),
                (_PRICE, ""),
                (_SKU, ""),
            ):
                cell = QTableWidgetItem(text)
                editable = column in _EDITABLE and (column != _PRICE or may_price)
                if not editable:
                    cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, cell)
        self.no_price = QCheckBox(f"Items left without a price go into the catalogue with “{NO_PRICE}”")
        self.no_price.setObjectName("noPriceYet")
        hint = (
            "Type each shelf price (e.g. 24.99). The brand is filled in when the name starts with one the store "
            "carries; an empty SKU gets one made up."
            if may_price
            else f"Your role ({ctx.actor.role.value}) may not set prices: the items are created with “{NO_PRICE}” "
            "and a manager prices them in the Catalogue tab."
        )
        if not may_price:
            self.no_price.setChecked(True)
            self.no_price.setEnabled(False)
        note = QLabel(hint)
        note.setWordWrap(True)
        self.form.addRow(note)
        self.form.addRow(self.table)
        self.form.addRow(self.no_price)

    def new_items(self) -> list[NewItem]:
        def text(row: int, column: int) -> str:
            cell = self.table.item(row, column)
            return cell.text().strip() if cell is not None else ""

        return [
            NewItem(p.tag, text(row, _PRICE) or None, text(row, _SKU), text(row, _BRAND))
            for row, p in enumerate(self.proposals)
        ]

    def submit(self) -> Callable[[], ItemsCreated]:
        db, actor, manifest_id = self.ctx.db, self.ctx.actor, self.manifest_id
        wanted, no_price_ok = self.new_items(), self.no_price.isChecked()
        return lambda: catalogue.create_items_from_lines(db, actor, manifest_id, wanted, no_price_ok=no_price_ok)
