"""What goes on one label: plain data, filled by the caller from an item and its package."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from backoffice.domain.enums import LabState
from backoffice.domain.tags import tag_problem
from backoffice.errors import ValidationError

# Categories whose potency is stated per unit (mg), not as a share of weight (%).
_DOSED_WORDS = ("edible", "capsule", "beverage", "gummies", "gummy", "chocolate")


@dataclass(frozen=True)
class LabelData:
    """One label. ``barcode_value`` is the package tag on bin/package labels, the SKU on shelf labels."""

    product_name: str
    barcode_value: str
    brand: str = ""
    strain: str = ""
    category: str = ""
    thc_percent: Decimal | None = None
    cbd_percent: Decimal | None = None
    total_thc_percent: Decimal | None = None
    thc_mg_per_unit: Decimal | None = None
    cbd_mg_per_unit: Decimal | None = None
    tag: str = ""
    sku: str = ""
    price: Decimal | None = None
    packaged_date: date | None = None
    expiration_date: date | None = None
    lab_state: str = ""
    bin: str = ""  # where the package is shelved in its room (bin labels)

    def __post_init__(self) -> None:
        if not self.barcode_value:
            raise ValidationError(f"label for {self.product_name!r} has no barcode value (tag or SKU)")
        # Code 128 encodes ASCII only; say so here rather than fail half-way through a print run.
        if not (self.barcode_value.isascii() and self.barcode_value.isprintable()):
            raise ValidationError(
                f"barcode value {self.barcode_value!r} has characters a Code 128 barcode cannot carry"
            )
        if self.tag and (problem := tag_problem(self.tag)):
            raise ValidationError(f"label for {self.product_name!r}: {self.tag!r} is not a METRC tag: {problem}")
        if self.price is not None and self.price < 0:
            raise ValidationError(f"label for {self.product_name!r}: price {self.price} is negative")

    @property
    def lab_ok(self) -> bool:
        """Lab results allow this product on the floor; otherwise printing needs a manager's confirmation."""
        return LabState.parse(self.lab_state).sellable

    @property
    def dosed(self) -> bool:
        """Potency is printed in mg per unit (edibles, capsules) rather than percent (flower, concentrates)."""
        if self.thc_mg_per_unit is not None or self.cbd_mg_per_unit is not None:
            return True
        category = self.category.lower()
        return any(word in category for word in _DOSED_WORDS)

    @property
    def reference(self) -> str:
        """How a person finds this label's product again: the tag, else the SKU, else the barcode."""
        return self.tag or self.sku or self.barcode_value


def needing_lab_confirmation(labels: Iterable[LabelData]) -> list[LabelData]:
    """The labels whose lab results do not clear them for sale."""
    return [label for label in labels if not label.lab_ok]
