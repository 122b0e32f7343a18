"""The count-variance rule, stated once: pure functions over figures, no database.

Physical: a counted line is compared with what the store's ledger expected at the moment the
package was counted. The ledger is frozen at the count's snapshot; movements recorded between
the snapshot and the moment the package was counted (sales above all) are accounted for, not
reported as variance; the count's own adjustments are not such movements (they are the
resolution). A tag's count is the sum of its entries since its last recount. The physical
variance is counted − expected; its value is that times the unit price, to the cent.

Three-way: the POS and METRC snapshots are compared with the ledger at the same instant, so
a line names the source that is out of step (``compare`` and ``agreement``). It matches only
when the count, the ledger, the POS and METRC all agree. METRC's number plus what the store
has recorded and METRC has not applied yet ("pending") should equal the store's (``metrc_gap``):
the same test serves the count and the METRC drift check.

The cycle count (``services.counts``), the accuracy workbook and the METRC drift check all
call these functions, so the rule cannot drift between them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple, TypeVar

from backoffice.domain.numbers import to_money
from backoffice.domain.units import Unit, convert

E = TypeVar("E")
ZERO = Decimal(0)
_NO_MONEY = Decimal("0.00")


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
    if not quantity:
        return _NO_MONEY  # most lines of a count match: nothing to round
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


# --- three-way --------------------------------------------------------------------------------


class Source(enum.StrEnum):
    LEDGER = "ledger"  # this store's stock ledger: the physical comparison
    POS = "POS"
    METRC = "METRC"


class Agreement(enum.StrEnum):
    """What a counted line's comparison says, in the words the screens and the CLI show."""

    MATCH = "match"  # the count, the ledger, the POS and METRC all agree
    SHORT = "short"  # fewer on the shelf than the ledger expects; POS and METRC agree with the ledger
    OVER = "over"
    METRC_DIFFERS = "METRC differs"  # shelf and ledger agree; METRC does not
    POS_DIFFERS = "POS differs"
    SEVERAL = "several differ"
    RESOLVED = "resolved"  # every difference is covered by corrections made for this count


class Comparison(NamedTuple):  # a tuple: a whole-store count makes 50,000 of them
    """How each source stands against the store, for one counted package."""

    physical: Decimal  # counted − what the ledger expected at the count
    metrc: Decimal | None  # METRC − ledger at the snapshot (None: the count has no METRC snapshot)
    pos: Decimal | None  # POS − ledger at the snapshot (None: no POS snapshot)


def compare(counted: Decimal, ledger: Decimal, window: Decimal, others: Mapping[Source, Decimal | None]) -> Comparison:
    """``ledger`` is the store's balance at the snapshot, ``window`` the movements up to the
    count (``in_count_window``). ``others`` holds the sources the count snapshotted; a source
    that does not list the package (None) holds 0 of it. Movements during the count apply to
    every source alike, so the systems are compared with each other at the snapshot."""
    metrc = (others[Source.METRC] or ZERO) - ledger if Source.METRC in others else None
    pos = (others[Source.POS] or ZERO) - ledger if Source.POS in others else None
    return Comparison(counted - (ledger + window), metrc, pos)


def open_differences(
    comparison: Comparison, *, adjusted: Decimal = ZERO, metrc_fixed: Decimal = ZERO
) -> tuple[Source, ...]:
    """The sources still out of step after this count's corrections. An adjustment changes the
    ledger and, through the outbox, METRC alike; a METRC-only fix (a queued receipt, a
    METRC-only adjustment) changes METRC's number alone."""
    left = []
    if comparison.physical != adjusted:
        left.append(Source.LEDGER)
    if comparison.metrc is not None and comparison.metrc + metrc_fixed != 0:
        left.append(Source.METRC)
    if comparison.pos is not None and comparison.pos != 0:
        left.append(Source.POS)
    return tuple(left)


def agreement(comparison: Comparison, *, adjusted: Decimal = ZERO, metrc_fixed: Decimal = ZERO) -> Agreement:
    """The line's status word: which source disagrees, or that they all agree."""
    if comparison.physical == 0 and not comparison.metrc and not comparison.pos:
        return Agreement.MATCH
    left = open_differences(comparison, adjusted=adjusted, metrc_fixed=metrc_fixed)
    if not left:
        return Agreement.RESOLVED
    if len(left) > 1:
        return Agreement.SEVERAL
    if left[0] is Source.LEDGER:
        return Agreement.SHORT if comparison.physical < adjusted else Agreement.OVER
    return Agreement.METRC_DIFFERS if left[0] is Source.METRC else Agreement.POS_DIFFERS


def metrc_gap(store: Decimal, metrc: Decimal | None, pending: Decimal = ZERO) -> Decimal:
    """What nothing pending accounts for: store − (METRC + pending). ``pending`` is the signed
    change the store has recorded and METRC has not applied yet (a sale not reported: −2).
    0 means METRC's number plus pending equals the store's: the pending entries explain it.
    A package METRC does not list (None) holds 0 there. Used by counts and the drift check."""
    return store - ((metrc or ZERO) + pending)


def metrc_agrees(store: Decimal, metrc: Decimal | None) -> bool:
    return metrc_gap(store, metrc) == 0
