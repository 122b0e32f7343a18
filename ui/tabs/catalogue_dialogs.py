"""The Catalogue tab's item dialog: a new item, or the fields of one to change. Brand, category
and vendor offer the values the store already uses; a price left at zero is "no price yet".
OK runs the catalogue service as a command; a refusal keeps the dialog open with its message."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.units import Unit
from backoffice.services import catalogue
from backoffice.services.actor import Permission
from backoffice.services.catalogue import NO_PRICE, Facets, ItemRow, ItemSaved
from ui.commands import run_command
from ui.context import AppContext

ERROR_COLOUR = "#c62828"


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _choices(values: list[str], current: str) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)  # a new brand or vendor is typed in
    box.addItems(values)
    box.setCurrentText(current)
    return box


class ItemDialog(QDialog):
    def __init__(self, ctx: AppContext, facets: Facets, item: ItemRow | None, parent: QWidget) -> None:
        super().__init__(parent)
        self.ctx, self.item = ctx, item
        self.setWindowTitle(f"Item {item.sku}" if item else "New item")
        self.resize(560, 0)
        self.sku = QLineEdit()
        self.sku.setPlaceholderText("empty: one is made up")
        self.name = QLineEdit(item.name if item else "")
        self.name.setObjectName("itemName")
        self.brand = _choices(facets.brands, item.brand if item else "")
        self.brand.setObjectName("itemBrand")
        self.category = _choices(facets.categories, item.category if item else "")
        self.strain = QLineEdit(item.strain if item else "")
        self.unit = QComboBox()
        self.unit.addItems([unit.value for unit in Unit])
        self.unit.setCurrentText(item.unit.value if item else Unit.EACH.value)
        self.price = QLineEdit(_plain(item.price) if item and item.price else "")
        self.price.setObjectName("itemPrice")
        self.price.setPlaceholderText(f"e.g. 24.99; empty: {NO_PRICE}")
        self.price.setEnabled(ctx.actor.can(Permission.SET_PRICES))
        self.floor_par = QLineEdit(_plain(item.floor_par) if item else "0")
        self.vendor = _choices(facets.vendors, item.vendor if item else "")
        form = QFormLayout()
        if item is None:
            form.addRow("SKU", self.sku)
        for label, widget in (
            ("Name", self.name),
            ("Brand", self.brand),
            ("Category", self.category),
            ("Strain", self.strain),
            ("Unit", self.unit),
            ("Shelf price", self.price),
            ("Floor par level", self.floor_par),
            ("Vendor", self.vendor),
        ):
            form.addRow(label, widget)
        self.error = QLabel()
        self.error.setObjectName("dialogError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOUR}")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.saved: ItemSaved | None = None

    def values(self) -> dict[str, object]:
        """The fields as typed; for an item being edited, only those that differ from it."""
        typed: dict[str, object] = {
            "name": self.name.text(),
            "brand": self.brand.currentText(),
            "category": self.category.currentText(),
            "strain": self.strain.text(),
            "unit": self.unit.currentText(),
            "floor_par": self.floor_par.text() or "0",
            "vendor": self.vendor.currentText(),
        }
        if self.price.isEnabled():
            typed["price"] = self.price.text() or "0"
        if self.item is None:
            return typed
        shown = {
            "name": self.item.name,
            "brand": self.item.brand,
            "category": self.item.category,
            "strain": self.item.strain,
            "unit": self.item.unit.value,
            "floor_par": _plain(self.item.floor_par),
            "vendor": self.item.vendor,
            "price": _plain(self.item.price) if self.item.price else "0",
        }
        return {name: value for name, value in typed.items() if str(value).strip() != shown[name]}

    def _save(self) -> None:
        db, actor, values, item, sku = self.ctx.db, self.ctx.actor, self.values(), self.item, self.sku.text()
        if item is not None and not values:
            self.reject()
            return

        def save() -> ItemSaved:
            if item is None:
                return catalogue.add_item(db, actor, values, sku=sku)
            return catalogue.update_item(db, actor, item.sku, values)

        def done(saved: ItemSaved) -> None:
            self.saved = saved
            self.accept()

        def refused(exc: BaseException) -> None:
            self.error.setText(str(exc))
            self.error.show()

        self.setEnabled(False)
        run_command(
            self, self.ctx, lambda job: save(), done, on_error=refused, on_settled=lambda: self.setEnabled(True)
        )
