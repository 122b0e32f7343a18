"""Exact Decimal parsing for quantities and money as they appear in files and forms.

Files write numbers in one of two conventions: ``1,234.56`` (decimal point, comma groups)
and ``1.234,56`` (decimal comma, point groups). A file's convention is detected from the
values that give it away (``1,5``, ``7,50``, ``1.234,56``) or set on its layout; a value
that only reads one way in the other convention is refused, never read as a different
number (``1,5`` is not fifteen).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from backoffice.errors import ValidationError

CENT = Decimal("0.01")
QTY_PLACES = Decimal("0.0001")
# no value a store keys or exports comes near this; beyond it Decimal arithmetic and the
# database columns overflow, so it is refused where it is read
ABSURD = Decimal("1e12")
_CURRENCY_AND_SPACES = re.compile(r"[\s\u00a0\u202f$€£'’]")
_GROUPED_ONLY = {",": re.compile(r"^\d{1,3}(,\d{3})+$"), ".": re.compile(r"^\d{1,3}(\.\d{3})+$")}


class NumberFormat(StrEnum):
    """How a file writes 1234.5: the value names the convention as a person sees it."""

    POINT = "1,234.56"
    COMMA = "1.234,56"

    @property
    def decimal(self) -> str:
        return "." if self is NumberFormat.POINT else ","

    @property
    def group(self) -> str:
        return "," if self is NumberFormat.POINT else "."

    @classmethod
    def parse(cls, text: str) -> NumberFormat:
        """``point``/``1,234.56`` or ``comma``/``1.234,56`` (the CLI's and settings' spelling)."""
        key = text.strip().casefold()
        for fmt in cls:
            if key in (fmt.value, fmt.name.casefold(), f"decimal-{fmt.name.casefold()}"):
                return fmt
        raise ValidationError(f"unknown number format {text!r}; use 'point' (1,234.56) or 'comma' (1.234,56)")


def _pattern(fmt: NumberFormat) -> re.Pattern[str]:
    group, decimal = re.escape(fmt.group), re.escape(fmt.decimal)
    return re.compile(rf"^(?=[\d{decimal}])(\d{{1,3}}({group}\d{{3}})+|\d*)({decimal}\d*)?([eE][+-]?\d+)?$")


_PATTERNS = {fmt: _pattern(fmt) for fmt in NumberFormat}


def _bare(text: str) -> tuple[str, bool]:
    """The digits and separators of ``text`` and whether it is negative: currency signs,
    spaces and apostrophes (Swiss groups) go; ``(4.00)`` and ``-4.00`` are negative."""
    text = _CURRENCY_AND_SPACES.sub("", text)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        text, negative = text[1:-1], True
    if text and text[0] in "+-":
        negative, text = negative != (text[0] == "-"), text[1:]
    return _CURRENCY_AND_SPACES.sub("", text), negative


def evidence(value: object) -> NumberFormat | None:
    """The convention a written value proves, if any: ``1,5`` → COMMA, ``1.5`` → POINT,
    ``1,234`` or ``12`` → None (it reads the same, or as a valid number, in both)."""
    if not isinstance(value, str):
        return None
    text, _ = _bare(value)
    point, comma = text.rfind("."), text.rfind(",")
    if point >= 0 and comma >= 0:
        return NumberFormat.POINT if point > comma else NumberFormat.COMMA
    for separator, fmt in ((",", NumberFormat.COMMA), (".", NumberFormat.POINT)):
        if separator in text:
            return None if _GROUPED_ONLY[separator].match(text) else fmt
    return None


def detect_number_format(values: Iterable[object]) -> NumberFormat | None:
    """The convention most of ``values`` prove (None when none proves one); values that
    prove the other are then refused one by one, naming their line."""
    votes = {NumberFormat.POINT: 0, NumberFormat.COMMA: 0}
    for value in values:
        if (found := evidence(value)) is not None:
            votes[found] += 1
    if not any(votes.values()):
        return None
    return max(votes, key=lambda fmt: (votes[fmt], fmt is NumberFormat.POINT))


def parse_decimal(value: object, *, what: str = "number", fmt: NumberFormat | None = None) -> Decimal:
    """Parse ``12``, ``3.5``, ``"$1,234.56"``, ``"(4.00)"`` (accounting negative) exactly.

    ``fmt`` is the file's convention; without one the decimal point is assumed and a value
    that reads only with a decimal comma (``1,5``) is refused as ambiguous. Floats from JSON
    and Excel go through ``repr`` so 453.59 stays 453.59, not its binary neighbour.
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
        result = _parse_text(value, what, fmt or NumberFormat.POINT, assumed=fmt is None)
    else:
        raise ValidationError(f"{what} {value!r} is not a number")
    if not result.is_finite():
        raise ValidationError(f"{what} {value!r} is not a finite number")
    if abs(result) >= ABSURD:
        raise ValidationError(f"{what} {_short(value)} is far too large to be a real figure")
    return result


def _parse_text(value: str, what: str, fmt: NumberFormat, *, assumed: bool) -> Decimal:
    text, negative = _bare(value.strip())
    if not text:
        raise ValidationError(f"{what} is empty")
    if not _PATTERNS[fmt].match(text):
        other = NumberFormat.COMMA if fmt is NumberFormat.POINT else NumberFormat.POINT
        if _PATTERNS[other].match(text):
            where = "numbers here are read" if assumed else "this file writes numbers"
            raise ValidationError(
                f"{what} {value.strip()!r} is ambiguous: it reads as a number only with a decimal "
                f"{other.decimal!r}, but {where} as {fmt.value}. Correct the value, or set the layout's "
                "number format"
            )
        raise ValidationError(f"{what} {_short(value)} is not a number")
    digits = text.replace(fmt.group, "").replace(fmt.decimal, ".")
    try:
        result = Decimal(digits)
    except InvalidOperation:
        raise ValidationError(f"{what} {_short(value)} is not a number") from None
    return -result if negative else result


def _short(value: object) -> str:
    text = repr(value.strip() if isinstance(value, str) else value)
    return text if len(text) <= 40 else text[:37] + "…'"


def check_range(value: Decimal, limit: Decimal, what: str) -> Decimal:
    """Refuse a value whose size is not a real one for ``what`` (less than ``limit`` either way)."""
    if abs(value) >= limit:
        shown = format(value, ".6g") if abs(value) >= ABSURD else format(value.normalize(), ",f")
        raise ValidationError(f"{what} {shown} is out of range: it must be less than {limit:,} either way")
    return value


def to_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(value: Decimal) -> str:
    """An amount as a person reads it: $1,234.50, and a refund as -$25.00 (not $-25.00)."""
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def to_quantity(value: Decimal, *, what: str = "quantity") -> Decimal:
    """Quantities are kept to 4 decimal places; more precision than that is an input error."""
    if abs(value) >= ABSURD:
        raise ValidationError(f"{what} {format(value, '.6g')} is far too large to be a real quantity")
    quantized = value.quantize(QTY_PLACES)
    if quantized != value:
        raise ValidationError(f"{what} {value} has more than 4 decimal places")
    return quantized
