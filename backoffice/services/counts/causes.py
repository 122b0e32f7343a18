"""Named causes for a count line whose sources disagree, from what the store's records show:
the POS receipt that never reached METRC, the outbox entry waiting or failed, a sale or move
while the count was open, a transfer not recorded. When nothing explains a difference the
cause says so: that is the line to investigate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING

from backoffice.domain import variance as rule
from backoffice.domain.units import Unit
from backoffice.domain.variance import Comparison, Source
from backoffice.services.counts.figures import Corrections, Move, Sale

if TYPE_CHECKING:  # metrc_pending reaches the counts package through the reports package
    from backoffice.services.metrc_pending import PendingItem

INVESTIGATE = "nothing explains it: investigate"


@dataclass(frozen=True)
class Cause:
    source: Source  # which comparison it explains: LEDGER is the shelf against the ledger
    text: str
    explained: bool  # False: nothing in the records accounts for the difference

    def __str__(self) -> str:
        label = "shelf vs ledger" if self.source is Source.LEDGER else self.source.value
        return f"{label}: {self.text}"


@dataclass(frozen=True)
class Evidence:
    """What the records hold about one package, beyond its figures."""

    unit: Unit | None
    location: str  # where the ledger has it
    counted_at: datetime | None
    counted_in: Sequence[str]  # locations the counters gave
    near_sales: Sequence[Sale]
    receipts: Mapping[int, str]  # POS sale line id → receipt number
    moves: Sequence[Move]
    location_names: Mapping[int, str]
    drafts: Sequence[str]  # draft transfers holding the package, described
    pending: Sequence[PendingItem]


def explain(
    comparison: Comparison, fixes: Corrections, left: Sequence[Source], evidence: Evidence, zone: tzinfo
) -> tuple[Cause, ...]:
    """Causes for each source still out of step (``left``), most telling first."""
    causes: list[Cause] = []
    if Source.LEDGER in left:
        causes += _physical(comparison.physical - fixes.adjusted, evidence, zone)
    if Source.METRC in left and comparison.metrc is not None:
        causes += _metrc(comparison.metrc, fixes, evidence)
    if Source.POS in left and comparison.pos is not None:
        causes.append(
            Cause(
                Source.POS,
                f"the POS has {_amount(comparison.pos, evidence.unit)} than the store's ledger; {INVESTIGATE}",
                False,
            )
        )
    return tuple(causes)


def _amount(difference: Decimal, unit: Unit | None) -> str:
    size = f"{abs(difference).normalize():f}{' ' + unit.value if unit else ''}"
    return f"{size} {'more' if difference > 0 else 'fewer'}"


def _physical(remaining: Decimal, evidence: Evidence, zone: tzinfo) -> list[Cause]:
    causes = []
    sale = _sale_at_the_count(remaining, evidence)
    if sale is not None and evidence.counted_at is not None:
        minutes = round(abs((sale.at - evidence.counted_at).total_seconds()) / 60)
        side = "after" if sale.at > evidence.counted_at else "before"
        receipt = evidence.receipts.get(sale.sale_line_id or -1)
        causes.append(
            Cause(
                Source.LEDGER,
                (
                    f"a sale of {sale.quantity.normalize():f} at {sale.at.astimezone(zone):%H:%M}"
                    f"{f' (POS receipt {receipt})' if receipt else ''} was recorded {minutes} min {side} this package was "
                    "counted: the count may have been taken on the other side of it"
                ),
                True,
            )
        )
    for move in evidence.moves:
        causes.append(
            Cause(
                Source.LEDGER,
                (
                    f"moved {evidence.location_names.get(move.from_location_id or -1, '?')} → "
                    f"{evidence.location_names.get(move.to_location_id or -1, '?')} at {move.at.astimezone(zone):%H:%M} while "
                    "the count was open: it may have been counted in both rooms or in neither"
                ),
                True,
            )
        )
    for draft in evidence.drafts:
        causes.append(
            Cause(
                Source.LEDGER,
                f"{draft} is a draft, not recorded: the product may have moved without its transfer",
                True,
            )
        )
    elsewhere = [loc for loc in evidence.counted_in if loc != evidence.location]
    if elsewhere:
        causes.append(
            Cause(
                Source.LEDGER,
                f"counted in {', '.join(elsewhere)} while the ledger has it in "
                f"{evidence.location}: a transfer that was never recorded",
                True,
            )
        )
    if not causes:
        causes.append(
            Cause(
                Source.LEDGER,
                f"{_amount(remaining, evidence.unit)} on the shelf than the ledger expects; {INVESTIGATE}",
                False,
            )
        )
    return causes


def _sale_at_the_count(remaining: Decimal, evidence: Evidence) -> Sale | None:
    """A sale recorded close to the moment counted whose size is the difference: recorded just
    after the count when short (the unit had gone), just before when over (it had not)."""
    if evidence.counted_at is None:
        return None
    for sale in sorted(evidence.near_sales, key=lambda s: abs(s.at - evidence.counted_at)):  # type: ignore[operator]
        after = sale.at > evidence.counted_at
        if sale.quantity == abs(remaining) and after == (remaining < 0):
            return sale
    return None


def _metrc(difference: Decimal, fixes: Corrections, evidence: Evidence) -> list[Cause]:
    """METRC − ledger = ``difference``; pending entries and this count's METRC fixes account for
    part or all of it (``rule.metrc_gap``)."""
    causes = [Cause(Source.METRC, note, True) for note in fixes.notes]
    weighing = [item for item in evidence.pending if item.quantity != 0]
    pending = sum((item.quantity for item in weighing), Decimal(0))
    # the store's number taken as 0: only the difference and what accounts for it matter here
    gap = rule.metrc_gap(Decimal(0), difference + fixes.metrc_fixed, pending)
    causes += [Cause(Source.METRC, item.text, True) for item in weighing]
    if gap != 0:
        beyond = " beyond what is pending" if weighing or fixes.notes else ""
        causes.append(
            Cause(
                Source.METRC,
                f"METRC has {_amount(-gap, evidence.unit)} than the store's ledger{beyond}; {INVESTIGATE}",
                False,
            )
        )
    return causes
