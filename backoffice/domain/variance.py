"""The count-variance rule, stated once: pure functions over figures, no database.

A counted line is compared with what each source expected at the moment the package was
counted. The store's ledger is frozen at the count's snapshot; movements recorded between
the snapshot and the moment the package was counted (sales above all) are accounted for,
not reported as variance; the count's own adjustments are not such movements (they are the
resolution). A tag's count is the sum of its entries since its last recount. A line matches
when counted equals expected. Its value is the variance times the unit price, in cents.

The cycle count (``services.counts``), the accuracy workbook and the METRC drift check all
call these functions, so the rule cannot drift between them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from backoffice.domain.numbers import to_money
from backoffice.domain.units import Unit, convert

E = TypeVar("E")
ZERO = Decimal(0)


def per_item_unit(package_unit: Unit, item_unit: Unit) -> Decimal:
    """How many of the item's price units one package unit is (1 when the same or not convertible)."""
    if package_unit is item_unit or package_unit.family is not item_unit.family:
        return Decimal(1)
    return convert(Decimal(1), package_unit, item_unit)


def unit_price(item_price: Decimal, package_unit: Unit, item_unit: Unit) -> Decimal:
    """The price of one package unit (unrounded; the count's snapshot stores it to the cent)."""
    return item_price * per_item_unit(package_unit, item_unit)


def effective_entries(entries: Sequence[E], supersedes: Callable[[E], bool]) -> Sequence[E]:
    """A tag's entries that count, given in entry order: everything since its last recount."""
    start = 0
    for position, entry in enumerate(entries):
        if supersedes(entry):
            start = position
    return entries[start:]


def in_count_window(at: datetime, snapshot_at: datetime, counted_at: datetime | None) -> bool:
    """Whether a ledger movement at ``at`` changes what was expected when the package was
    counted: after the snapshot and no later than the count (not counted yet: any time since)."""
    return at > snapshot_at and (counted_at is None or at <= counted_at)


def balance_at_snapshot(balance_now: Decimal, moved_since_snapshot: Decimal) -> Decimal:
    """The ledger's balance at the snapshot, for a package the snapshot did not freeze (a find)."""
    return balance_now - moved_since_snapshot


def expected_at_count(at_snapshot: Decimal, moved_in_window: Decimal) -> Decimal:
    """What a source expected on the shelf when the package was counted."""
    return at_snapshot + moved_in_window


def variance(counted: Decimal, expected: Decimal | None) -> Decimal:
    """Counted − expected; a source that expected nothing expected 0."""
    return counted - (expected if expected is not None else ZERO)


def value_of(quantity: Decimal, price: Decimal) -> Decimal:
    """A quantity's worth to the cent (half up), never "-0.00"."""
    value = to_money(quantity * price)
    return abs(value) if value == 0 else value


def matches(variance_qty: Decimal) -> bool:
    return variance_qty == 0


@dataclass(frozen=True)
class Accuracy:
    lines_counted: int
    lines_matching: int
    unit_variance: Decimal  # sum of |variance| in each package's unit
    dollar_variance: Decimal  # sum of |variance × price|

    @property
    def percent(self) -> Decimal | None:
        if not self.lines_counted:
            return None
        return (Decimal(self.lines_matching) * 100 / self.lines_counted).quantize(Decimal("0.1"))


def accuracy(lines: Iterable[tuple[Decimal, Decimal | None]]) -> Accuracy:
    """Physical accuracy over counted lines given as (variance, value or None when unpriced)."""
    counted = matching = 0
    units = dollars = ZERO
    for qty, value in lines:
        counted += 1
        matching += matches(qty)
        units += abs(qty)
        if value is not None:
            dollars += abs(value)
    return Accuracy(counted, matching, units, dollars)
