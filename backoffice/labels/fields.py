"""The printable text fields a template may place, each a function of the label data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from backoffice.domain.numbers import money_text, to_money
from backoffice.labels.model import LabelData

BARCODE = "barcode"  # the one field that is not text
_HUNDREDTH = Decimal("0.01")


def _number(value: Decimal) -> str:
    """22.10 → "22.1", 20 → "20": lab figures to at most two decimals, no trailing zeros."""
    rounded = value.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP).normalize()
    return f"{rounded:f}"


def _figure(value: Decimal | None, unit: str) -> str:
    return "n/a" if value is None else f"{_number(value)}{unit}"


def potency(label: LabelData) -> str:
    if label.dosed:
        return f"THC {_figure(label.thc_mg_per_unit, ' mg')} · CBD {_figure(label.cbd_mg_per_unit, ' mg')} per unit"
    return f"THC {_figure(label.thc_percent, '%')} · CBD {_figure(label.cbd_percent, '%')}"


def total_thc(label: LabelData) -> str:
    return f"Total THC {_figure(label.total_thc_percent, '%')}"


def price(label: LabelData) -> str:
    return "" if label.price is None else money_text(to_money(label.price))


def _day(prefix: str, day: date | None) -> str:
    return "" if day is None else f"{prefix} {day.isoformat()}"  # ISO: no month/day mix-ups


def dates(label: LabelData) -> str:
    parts = (_day("Pkg", label.packaged_date), _day("Exp", label.expiration_date))
    return "  ".join(p for p in parts if p)


def brand_strain(label: LabelData) -> str:
    return " · ".join(p for p in (label.brand, label.strain) if p)


TEXT_FIELDS: dict[str, Callable[[LabelData], str]] = {
    "product_name": lambda label: label.product_name,
    "brand": lambda label: label.brand,
    "strain": lambda label: label.strain,
    "brand_strain": brand_strain,
    "category": lambda label: label.category,
    "potency": potency,
    "total_thc": total_thc,
    "price": price,
    "tag": lambda label: label.tag,
    "sku": lambda label: f"SKU {label.sku}" if label.sku else "",
    "barcode_text": lambda label: label.barcode_value,  # human-readable line under the barcode
    "packaged": lambda label: _day("Pkg", label.packaged_date),
    "expires": lambda label: _day("Exp", label.expiration_date),
    "dates": dates,
    "bin": lambda label: f"Bin {label.bin}" if label.bin else "",
}
FIELD_NAMES = frozenset(TEXT_FIELDS) | {BARCODE}
