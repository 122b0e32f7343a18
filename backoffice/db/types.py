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

_CACHE_SIZE = 200_000
_DECIMALS: dict[int, dict[Any, Decimal]] = {}  # per number of places: stored integer → Decimal


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
        # Decimals are immutable and stored amounts repeat (12 Each, $25.00): a bounded cache
        # saves the conversion on most of a 50,000-row read
        cached = self._cache.get(value)
        if cached is None:
            cached = Decimal(int(value)).scaleb(-self.places)
            if len(self._cache) < _CACHE_SIZE:
                self._cache[value] = cached
        return cached

    @property
    def _cache(self) -> dict[Any, Decimal]:
        return _DECIMALS.setdefault(self.places, {})


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
        if value is None:
            return None
        # the member map first: calling the enum costs ~7 µs a row, which adds up over 50,000 rows
        member = self.enum_cls._value2member_map_.get(value)
        return member if member is not None else self.enum_cls(value)  # type: ignore[return-value]
