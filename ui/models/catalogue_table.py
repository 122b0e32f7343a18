"""The catalogue's items, one row each, with a column enum the tab and its tests name columns
by. A few thousand SKUs fit in memory; filtering happens in the service's query."""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import Qt

from backoffice.services.catalogue import ItemRow
from ui.models.simple_table import Col, Index, RowTableModel

NO_PRICE_COLOUR = "#c62828"


class Column(enum.IntEnum):
    SKU = 0
    NAME = 1
    BRAND = 2
    CATEGORY = 3
    STRAIN = 4
    UNIT = 5
    PRICE = 6
    FLOOR_PAR = 7
    VENDOR = 8
    PRICE_CHANGED = 9


COLUMNS: dict[Column, Col[ItemRow]] = {
    Column.SKU: Col(
        "SKU",
        lambda r: r.sku,
        tooltip=lambda r: "archived" if r.archived_at else None,
        colour=lambda r: "#9e9e9e" if r.archived_at else None,
    ),
    Column.NAME: Col("Name", lambda r: r.name),
    Column.BRAND: Col("Brand", lambda r: r.brand),
    Column.CATEGORY: Col("Category", lambda r: r.category),
    Column.STRAIN: Col("Strain", lambda r: r.strain),
    Column.UNIT: Col("Unit", lambda r: r.unit),
    Column.PRICE: Col(
        "Shelf price",
        lambda r: r.price,
        colour=lambda r: NO_PRICE_COLOUR if r.price == 0 else None,
        tooltip=lambda r: "No shelf price yet: set one before its shelf label" if r.price == 0 else None,
    ),
    Column.FLOOR_PAR: Col("Floor par", lambda r: r.floor_par),
    Column.VENDOR: Col("Vendor", lambda r: r.vendor),
    Column.PRICE_CHANGED: Col("Price changed", lambda r: r.price_changed_at),
}


class CatalogueModel(RowTableModel[ItemRow]):
    def __init__(self) -> None:
        super().__init__([COLUMNS[column] for column in Column])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and index.isValid()
            and index.column() == Column.PRICE
            and 0 <= index.row() < len(self.rows)
        ):
            return self.rows[index.row()].price_text  # "no price yet" rather than 0; sorted by the amount
        return super().data(index, role)

    def row_of_sku(self, sku: str) -> int | None:
        return next((n for n, row in enumerate(self.rows) if row.sku == sku), None)
