"""The figures a count's variance lines are made of, fetched in bulk: what was counted, the
packages and items, ledger movements since the snapshot, and this count's own corrections.

Plain column rows, never ORM objects, and bounded IN lists: a whole-store count has 50,000
lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.models import Adjustment, CountEntry, CountExpected, CountMetrcFix, Item, LedgerEntry, Package
from backoffice.domain import variance as rule
from backoffice.domain.enums import LedgerKind, MetrcFixKind
from backoffice.domain.units import Unit
from backoffice.services.counts.info import CHUNK, usernames

NEAR_COUNT = timedelta(minutes=30)  # a sale this close to the moment counted may be on either side of it


@dataclass(frozen=True)
class Sale:
    at: datetime
    quantity: Decimal
    sale_line_id: int | None  # the POS sale line that posted it


@dataclass(frozen=True)
class Move:
    at: datetime
    from_location_id: int | None
    to_location_id: int | None


@dataclass
class Movements:
    sold: Decimal = Decimal(0)  # sales in the count window
    sales: int = 0
    other: Decimal = Decimal(0)  # other changes in the count window (receipts, splits, other adjustments)
    after_snapshot: Decimal = Decimal(0)  # every change since the snapshot, for packages found out of scope
    near_sales: list[Sale] = field(default_factory=list)  # sales close to the moment the package was counted
    moves: list[Move] = field(default_factory=list)  # location changes recorded since the snapshot


@dataclass
class Counted:
    quantity: Decimal
    at: datetime
    by: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pkg:
    id: int
    quantity: Decimal | None  # read only for packages the snapshot did not freeze
    unit: Unit
    item_id: int
    location: str
    bin: str | None  # where in its room


@dataclass(frozen=True)
class ItemInfo:
    name: str
    sku: str
    category: str
    brand: str
    price: Decimal
    unit: Unit


@dataclass
class Corrections:
    """What this count has done about a package so far."""

    adjusted: Decimal = Decimal(0)  # adjustments (ledger and, through the outbox, METRC)
    metrc_fixed: Decimal = Decimal(0)  # METRC-only fixes: receipts queued, METRC-only adjustments
    notes: list[str] = field(default_factory=list)


def counted(session: Session, count_id: int, loc_names: Mapping[int, str]) -> dict[str, Counted]:
    names = usernames(session)
    by_tag: dict[str, list[Any]] = {}
    for entry in (
        session.connection()
        .execute(
            select(
                CountEntry.tag,
                CountEntry.quantity,
                CountEntry.counted_at,
                CountEntry.counted_by_id,
                CountEntry.location_id,
                CountEntry.supersedes_previous,
            )
            .where(CountEntry.session_id == count_id)
            .order_by(CountEntry.id)
        )
        .all()
    ):
        found = by_tag.get(entry[0])
        if found is None:
            by_tag[entry[0]] = [entry]
        else:
            found.append(entry)
    result: dict[str, Counted] = {}
    for tag, entries in by_tag.items():
        if len(entries) == 1:  # most tags: one scan, one entry
            _, quantity, at, by_id, location_id, _ = entries[0]
            result[tag] = Counted(
                quantity, at, [names.get(by_id, "?")], [loc_names[location_id]] if location_id is not None else []
            )
            continue
        effective = rule.effective_entries(entries, lambda e: e.supersedes_previous)
        result[tag] = Counted(
            sum((e.quantity for e in effective), Decimal(0)),
            max(e.counted_at for e in effective),
            list(dict.fromkeys(names.get(e.counted_by_id, "?") for e in effective)),
            list(dict.fromkeys(loc_names[e.location_id] for e in effective if e.location_id is not None)),
        )
    return result


def frozen_packages(
    expected: Mapping[str, Any], moves: Mapping[int, Movements], loc_names: Mapping[int, str], bins: Mapping[int, str]
) -> dict[str, Pkg]:
    """The packages the snapshot froze, from their expectation rows (tag, package id, item id,
    location id, unit, …): nothing to read again.
    Where one is now is where the snapshot had it unless a location change was recorded since."""
    found: dict[str, Pkg] = {}
    for tag, package_id, item_id, location_id, unit, *_ in expected.values():
        if package_id is None:
            continue
        move = moves.get(package_id)
        if move is not None and move.moves:
            location_id = max(move.moves, key=lambda m: m.at).to_location_id
        found[tag] = Pkg(
            package_id, None, unit, item_id, loc_names.get(location_id, "") if location_id else "", bins.get(package_id)
        )
    return found


def packages(session: Session, tags: Sequence[str], loc_names: Mapping[int, str]) -> dict[str, Pkg]:
    """Packages by tag with their balance (finds, tags this store has come to know since the snapshot)."""
    found: dict[str, Pkg] = {}
    for start in range(0, len(tags), CHUNK):
        for tag, package_id, quantity, unit, item_id, location_id, bin_ in session.connection().execute(
            select(
                Package.tag,
                Package.id,
                Package.quantity,
                Package.unit,
                Package.item_id,
                Package.location_id,
                Package.bin,
            ).where(Package.tag.in_(tags[start : start + CHUNK]))
        ):
            found[tag] = Pkg(package_id, quantity, unit, item_id, loc_names.get(location_id, ""), bin_)
    return found


def bins(session: Session, count_id: int) -> dict[int, str]:
    """The bins of the count's packages that have one (most rooms have none)."""
    return {
        package_id: bin_
        for package_id, bin_ in session.connection().execute(
            select(Package.id, Package.bin)
            .join(CountExpected, CountExpected.package_id == Package.id)
            .where(CountExpected.session_id == count_id, Package.bin.is_not(None))
        )
        if bin_
    }


def items(session: Session, item_ids: Sequence[int]) -> dict[int, ItemInfo]:
    found: dict[int, ItemInfo] = {}
    query = select(Item.id, Item.name, Item.sku, Item.category, Item.brand, Item.price, Item.unit)
    run = session.connection().execute
    for start in range(0, len(item_ids), CHUNK):
        for item_id, name, sku, category, brand, price, unit in run(
            query.where(Item.id.in_(item_ids[start : start + CHUNK]))
        ):
            found[item_id] = ItemInfo(name, sku, category, brand, price, unit)
    return found


def movements(
    session: Session,
    package_ids: Sequence[int],
    since: datetime,
    until: Mapping[int, datetime],
    excluded_adjustments: set[int],
) -> dict[int, Movements]:
    """Ledger changes after the snapshot, per package: those up to the moment each was counted
    (``rule.in_count_window``), and the sales and moves a difference may be owed to."""
    moves: dict[int, Movements] = defaultdict(Movements)
    for start in range(0, len(package_ids), CHUNK):
        rows = session.connection().execute(
            select(
                LedgerEntry.package_id,
                LedgerEntry.at,
                LedgerEntry.kind,
                LedgerEntry.quantity_delta,
                LedgerEntry.doc_type,
                LedgerEntry.doc_id,
                LedgerEntry.from_location_id,
                LedgerEntry.to_location_id,
            ).where(LedgerEntry.package_id.in_(package_ids[start : start + CHUNK]), LedgerEntry.at > since)
        )
        for package_id, at, kind, delta, doc_type, doc_id, from_id, to_id in rows:
            move = moves[package_id]
            move.after_snapshot += delta
            if doc_type == "adjustment" and doc_id in excluded_adjustments:
                continue  # this count's own corrections are shown as "adjusted", not as movement
            end = until.get(package_id)
            if kind is LedgerKind.TRANSFER and to_id is not None:
                move.moves.append(Move(at, from_id, to_id))
            if kind is LedgerKind.SALE and end is not None and abs(at - end) <= NEAR_COUNT:
                move.near_sales.append(Sale(at, -delta, doc_id if doc_type == "pos_sale_line" else None))
            if not rule.in_count_window(at, since, end):
                continue
            if kind is LedgerKind.SALE:
                move.sold -= delta
                move.sales += 1
            else:
                move.other += delta
    return moves


def corrections(session: Session, count_id: int) -> tuple[dict[int, Corrections], dict[str, Corrections], set[int]]:
    """This count's adjustments by package id, its METRC-only fixes by tag, and the adjustment
    ids (their ledger rows are resolution, not movement)."""
    by_package: dict[int, Corrections] = defaultdict(Corrections)
    adjustment_ids: set[int] = set()
    for adj_id, package_id, delta in session.execute(
        select(Adjustment.id, Adjustment.package_id, Adjustment.quantity_delta).where(
            Adjustment.count_session_id == count_id
        )
    ):
        by_package[package_id].adjusted += delta
        adjustment_ids.add(adj_id)
    by_tag: dict[str, Corrections] = defaultdict(Corrections)
    for fix in session.execute(
        select(
            CountMetrcFix.tag,
            CountMetrcFix.kind,
            CountMetrcFix.quantity_delta,
            CountMetrcFix.unit,
            CountMetrcFix.reason,
            CountMetrcFix.receipt_number,
            CountMetrcFix.outbox_id,
        )
        .where(CountMetrcFix.session_id == count_id)
        .order_by(CountMetrcFix.id)
    ):
        found = by_tag[fix.tag]
        found.metrc_fixed += fix.quantity_delta
        what = (
            f"POS receipt {fix.receipt_number} queued for METRC"
            if fix.kind is MetrcFixKind.RECEIPT
            else f"METRC-only adjustment {fix.quantity_delta.normalize():+f} {fix.unit.value} ({fix.reason})"
        )
        found.notes.append(f"{what} from this count (outbox #{fix.outbox_id})")
    return dict(by_package), dict(by_tag), adjustment_ids
