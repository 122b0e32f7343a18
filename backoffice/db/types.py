"""Column types that keep Decimals exact and timestamps aware on SQLite and PostgreSQL.

Decimals are stored as scaled integers: SQLite has no exact decimal type, and integer
sums are exact and fast on both databases. ``func.sum`` over these columns keeps the type,
so aggregates come back as Decimal too.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class _ScaledDecimal(TypeDecorator[Decimal]):
    impl = BigInteger
    cache_ok = True
    places = 4

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.places)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.places)


class Quantity(_ScaledDecimal):
    """Package quantities, percentages: 4 decimal places."""

    cache_ok = True
    places = 4


class Money(_ScaledDecimal):
    """Currency amounts in cents."""

    cache_ok = True
    places = 2


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware in Python, UTC in the database; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must carry a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StrEnumType(TypeDecorator[enum.StrEnum]):
    """A StrEnum stored as its value in a VARCHAR (no native enum: migrations stay simple)."""

    impl = String(24)
    cache_ok = True

    def __init__(self, enum_cls: type[enum.StrEnum]) -> None:
        super().__init__()
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_cls(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> enum.StrEnum | None:
        return None if value is None else self.enum_cls(value)
