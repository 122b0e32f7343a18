"""The elements of METRC's POST batches, and JSON that keeps Decimals exact.

Each element is a frozen dataclass with ``to_metrc()`` (METRC's field names, in METRC's
order) and ``from_metrc()`` (accepts an outbox payload dict, whose Decimals may be strings).
Floats are refused: a quantity that went through binary floating point is not the
quantity that was counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Self, TypeVar

from backoffice.domain.numbers import parse_decimal
from backoffice.domain.tags import validate_tag
from backoffice.domain.units import Unit, parse_unit
from backoffice.errors import ImportFileError, ValidationError
from backoffice.importers.json_file import load_json

NOTE_MAX = 200  # METRC caps adjustment notes at 200 characters
CUSTOMER_TYPES = ("Consumer", "Patient", "Caregiver", "ExternalPatient")


def _require_decimal(value: object, what: str) -> None:
    if not isinstance(value, Decimal):
        raise ValidationError(f"{what} must be a Decimal, not {type(value).__name__} ({value!r})")


def _field(data: Mapping[str, Any], name: str) -> Any:
    if data.get(name) in (None, ""):
        raise ValidationError(f"METRC element is missing {name}: {dict(data)!r}")
    return data[name]


def _parse_date(value: object, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValidationError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def _parse_local_datetime(value: object, what: str) -> datetime:
    try:
        result = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(f"{what} {value!r} is not a date and time (YYYY-MM-DDTHH:MM:SS)") from None
    if result.tzinfo is not None:
        raise ValidationError(f"{what} {value!r} has a UTC offset; METRC wants the facility's local time without one")
    return result


@dataclass(frozen=True)
class LocationChange:
    """``POST packages/v1/change/locations`` element."""

    label: str
    location: str
    move_date: date

    def __post_init__(self) -> None:
        validate_tag(self.label)
        if not self.location.strip():
            raise ValidationError(f"location change of {self.label} has no location")

    def to_metrc(self) -> dict[str, Any]:
        return {"Label": self.label, "Location": self.location, "MoveDate": self.move_date}

    @classmethod
    def from_metrc(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            validate_tag(_field(data, "Label")),
            str(_field(data, "Location")),
            _parse_date(_field(data, "MoveDate"), "MoveDate"),
        )


@dataclass(frozen=True)
class PackageAdjustment:
    """``POST packages/v1/adjust`` element; ``quantity`` is the signed change, not the new total."""

    label: str
    quantity: Decimal
    unit: Unit
    reason: str
    adjustment_date: date
    note: str = ""

    def __post_init__(self) -> None:
        validate_tag(self.label)
        _require_decimal(self.quantity, f"adjustment quantity of {self.label}")
        if len(self.note) > NOTE_MAX:
            raise ValidationError(
                f"adjustment note of {self.label} has {len(self.note)} characters; METRC allows {NOTE_MAX}"
            )

    def to_metrc(self) -> dict[str, Any]:
        return {
            "Label": self.label,
            "Quantity": self.quantity,
            "UnitOfMeasure": self.unit.value,
            "AdjustmentReason": self.reason,
            "AdjustmentDate": self.adjustment_date,
            "ReasonNote": self.note or None,
        }

    @classmethod
    def from_metrc(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            validate_tag(_field(data, "Label")),
            parse_decimal(_field(data, "Quantity"), what="Quantity"),
            parse_unit(str(_field(data, "UnitOfMeasure"))),
            str(_field(data, "AdjustmentReason")),
            _parse_date(_field(data, "AdjustmentDate"), "AdjustmentDate"),
            str(data.get("ReasonNote") or ""),
        )


@dataclass(frozen=True)
class SalesTransaction:
    package_label: str
    quantity: Decimal
    unit: Unit
    total_amount: Decimal

    def __post_init__(self) -> None:
        validate_tag(self.package_label)
        _require_decimal(self.quantity, f"sold quantity of {self.package_label}")
        _require_decimal(self.total_amount, f"total amount of {self.package_label}")

    def to_metrc(self) -> dict[str, Any]:
        return {
            "PackageLabel": self.package_label,
            "Quantity": self.quantity,
            "UnitOfMeasure": self.unit.value,
            "TotalAmount": self.total_amount,
        }

    @classmethod
    def from_metrc(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            validate_tag(_field(data, "PackageLabel")),
            parse_decimal(_field(data, "Quantity"), what="Quantity"),
            parse_unit(str(_field(data, "UnitOfMeasure"))),
            parse_decimal(_field(data, "TotalAmount"), what="TotalAmount"),
        )


@dataclass(frozen=True)
class SalesReceipt:
    """``POST sales/v1/receipts`` element; ``sales_datetime`` is facility-local, naive."""

    sales_datetime: datetime
    external_receipt_number: str
    transactions: tuple[SalesTransaction, ...]
    customer_type: str = "Consumer"

    def __post_init__(self) -> None:
        _parse_local_datetime(self.sales_datetime, f"SalesDateTime of receipt {self.external_receipt_number}")
        if not self.transactions:
            raise ValidationError(f"receipt {self.external_receipt_number} has no transactions")
        if self.customer_type not in CUSTOMER_TYPES:
            raise ValidationError(f"customer type {self.customer_type!r} is not one of {', '.join(CUSTOMER_TYPES)}")

    def to_metrc(self) -> dict[str, Any]:
        return {
            "SalesDateTime": self.sales_datetime,
            "SalesCustomerType": self.customer_type,
            "ExternalReceiptNumber": self.external_receipt_number,
            "Transactions": [t.to_metrc() for t in self.transactions],
        }

    @classmethod
    def from_metrc(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            _parse_local_datetime(_field(data, "SalesDateTime"), "SalesDateTime"),
            str(_field(data, "ExternalReceiptNumber")),
            tuple(SalesTransaction.from_metrc(t) for t in _field(data, "Transactions")),
            str(data.get("SalesCustomerType") or "Consumer"),
        )


E = TypeVar("E", LocationChange, PackageAdjustment, SalesReceipt)


def coerce(kind: type[E], value: E | Mapping[str, Any]) -> E:
    """Accept the dataclass itself or a dict with METRC's field names (an outbox payload)."""
    return value if isinstance(value, kind) else kind.from_metrc(value)  # type: ignore[arg-type]


# --- JSON -------------------------------------------------------------------------------


def to_json(value: Any) -> str:
    """JSON text with Decimals written digit for digit; floats and aware times are refused."""
    return "".join(_encode(value))


def _encode(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield ("," if i else "") + json.dumps(str(key)) + ":"
            yield from _encode(item)
        yield "}"
    elif isinstance(value, (list, tuple)):
        yield "["
        for i, item in enumerate(value):
            yield "," if i else ""
            yield from _encode(item)
        yield "]"
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send {value} to METRC")
        yield format(value, "f")  # plain digits: no exponent, trailing zeros kept
    elif isinstance(value, float):
        raise TypeError(f"float {value!r} in a METRC payload; use Decimal so the quantity stays exact")
    elif isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("METRC wants facility-local times without a UTC offset")
        yield json.dumps(value.isoformat(timespec="seconds"))
    elif isinstance(value, date):
        yield json.dumps(value.isoformat())
    elif value is None or isinstance(value, (str, int, bool)):
        yield json.dumps(value)
    else:
        raise TypeError(f"cannot send {type(value).__name__} to METRC")


def from_json(text: str | bytes) -> Any:
    """Parse METRC's JSON with every non-integer number as an exact Decimal. Anything far
    larger or deeper than METRC's answers raises ValueError, like text that is not JSON."""
    try:
        return load_json(text.decode("utf-8-sig") if isinstance(text, bytes) else text, "METRC's answer", decimals=True)
    except (ImportFileError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from None
