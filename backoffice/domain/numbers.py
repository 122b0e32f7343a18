"""Exact Decimal parsing for quantities and money as they appear in files and forms."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from backoffice.errors import ValidationError

CENT = Decimal("0.01")
QTY_PLACES = Decimal("0.0001")
_CLEAN = re.compile(r"[\s$€£,]")


def parse_decimal(value: object, *, what: str = "number") -> Decimal:
    """Parse ``12``, ``3.5``, ``"$1,234.56"``, ``"(4.00)"`` (accounting negative) exactly.

    Floats from JSON go through ``repr`` so 453.59 stays 453.59, not its binary neighbour.
    """
    if isinstance(value, bool) or value is None:
        raise ValidationError(f"{what} is missing or not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        negative = text.startswith("(") and text.endswith(")")
        text = _CLEAN.sub("", text.strip("()"))
        if not text:
            raise ValidationError(f"{what} is empty")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValidationError(f"{what} {value!r} is not a number") from None
        if negative:
            result = -result
    else:
        raise ValidationError(f"{what} {value!r} is not a number")
    if not result.is_finite():
        raise ValidationError(f"{what} {value!r} is not a finite number")
    return result


def to_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_quantity(value: Decimal, *, what: str = "quantity") -> Decimal:
    """Quantities are kept to 4 decimal places; more precision than that is an input error."""
    quantized = value.quantize(QTY_PLACES)
    if quantized != value:
        raise ValidationError(f"{what} {value} has more than 4 decimal places")
    return quantized
