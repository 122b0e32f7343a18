"""A count's variance lines: counted against the ledger, the POS and METRC.

The comparison itself is ``backoffice.domain.variance``; this module gathers the figures.
Sales and other ledger movements between the snapshot and the moment a tag was counted are
accounted for (shown as conflicts), not reported as variance. Adjustments made for this
count are shown beside the variance they resolve. Blind counts hide expected figures from
counters until submit. Packages counted that are out of scope or unknown to every system
are listed, never dropped.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import (
    Adjustment,
    CountEntry,
    CountExpected,
    CountSession,
    Item,
    LedgerEntry,
    Location,
    Package,
)
from backoffice.domain import variance as rule
from backoffice.domain.enums import CountStatus, LedgerKind
from backoffice.domain.units import Unit
from backoffice.domain.variance import Accuracy
from backoffice.services.actor import Actor, Permission
from backoffice.services.counts.info import CHUNK, load_count, usernames


class LineStatus(enum.StrEnum):
    MATCH = "match"
    VARIANCE = "variance"
    RESOLVED = "resolved"  # the variance is covered by adjustments made for this count
    NOT_COUNTED = "not counted"
    COUNTED = "counted"  # blind: counted, result hidden from the counter
    FOUND = "out of scope"  # counted, known to this store, but not in the count's scope
    UNKNOWN = "unknown tag"  # counted, not in this store's ledger
    SYSTEM_ONLY = "not in ledger"  # POS or METRC lists it, this store's ledger does not; not counted


@dataclass(frozen=True)
class VarianceLine:
    tag: str
    item: str
    sku: str
    category: str
    brand: str
    location: str  # where the ledger has it
    counted_at_locations: str  # where counters found it
    unit: Unit | None
    in_scope: bool
    known: bool  # in this store's ledger
    ledger: Decimal | None  # frozen at the snapshot
    pos: Decimal | None
    metrc: Decimal | None
    sold_since: Decimal | None  # sales between the snapshot and the count: conflicts, not variance
    sales_since: int | None  # how many sale rows that is
    moved_since: Decimal | None  # other ledger changes in that window (receipts, splits, other adjustments)
    counted: Decimal | None
    counted_by: str
    expected: Decimal | None  # ledger at the snapshot + movements up to the count
    variance: Decimal | None  # counted − expected
    variance_pos: Decimal | None
    variance_metrc: Decimal | None
    unit_price: Decimal | None
    value: Decimal | None  # variance × price
    adjusted: Decimal  # adjustments made for this count
    remaining: Decimal | None  # variance not yet explained by those adjustments
    status: LineStatus
    hidden: bool  # blind count: expected figures withheld from this user
    bin: str = ""  # the package's bin in its room, where the counter finds it

    @property
    def needs_attention(self) -> bool:
        return self.status in (LineStatus.VARIANCE, LineStatus.UNKNOWN, LineStatus.FOUND, LineStatus.SYSTEM_ONLY,
                               LineStatus.NOT_COUNTED)



@dataclass
class _Movements:
    sold: Decimal = Decimal(0)
    sales: int = 0
    other: Decimal = Decimal(0)
    after_snapshot: Decimal = Decimal(0)  # every change since the snapshot, for packages found out of scope


@dataclass
class _Counted:
    quantity: Decimal
    at: datetime
    by: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Pkg:
    id: int
    quantity: Decimal
    unit: Unit
    item_id: int
    location: str
    bin: str | None


@dataclass(frozen=True)
class _ItemInfo:
    name: str
    sku: str
    category: str
    brand: str
    price: Decimal
    unit: Unit


def _counted(session: Session, count_id: int) -> dict[str, _Counted]:
    names = usernames(session)
    loc_names = dict(session.execute(select(Location.id, Location.name)).all())
    by_tag: dict[str, list[Any]] = defaultdict(list)
    for entry in session.execute(
            select(CountEntry.tag, CountEntry.quantity, CountEntry.counted_at, CountEntry.counted_by_id,
                   CountEntry.location_id, CountEntry.supersedes_previous)
            .where(CountEntry.session_id == count_id).order_by(CountEntry.id)):
        by_tag[entry.tag].append(entry)
    result: dict[str, _Counted] = {}
    for tag, entries in by_tag.items():
        effective = rule.effective_entries(entries, lambda e: e.supersedes_previous)
        result[tag] = _Counted(
            sum((e.quantity for e in effective), Decimal(0)), max(e.counted_at for e in effective),
            list(dict.fromkeys(names.get(e.counted_by_id, "?") for e in effective)),
            list(dict.fromkeys(loc_names[e.location_id] for e in effective if e.location_id is not None)),
        )
    return result


def _movements(session: Session, package_ids: Sequence[int], since: datetime, until: Mapping[int, datetime],
               excluded_adjustments: set[int]) -> dict[int, _Movements]:
    """Ledger changes after the snapshot, per package, up to the moment each was counted."""
    moves: dict[int, _Movements] = defaultdict(_Movements)
    for start in range(0, len(package_ids), CHUNK):
        rows = session.execute(
            select(LedgerEntry.package_id, LedgerEntry.at, LedgerEntry.kind, LedgerEntry.quantity_delta,
                   LedgerEntry.doc_type, LedgerEntry.doc_id)
            .where(LedgerEntry.package_id.in_(package_ids[start:start + CHUNK]), LedgerEntry.at > since)
        )
        for package_id, at, kind, delta, doc_type, doc_id in rows:
            move = moves[package_id]
            move.after_snapshot += delta
            if doc_type == "adjustment" and doc_id in excluded_adjustments:
                continue  # this count's own corrections are shown as "adjusted", not as movement
            if not rule.in_count_window(at, since, until.get(package_id)):
                continue
            if kind is LedgerKind.SALE:
                move.sold -= delta
                move.sales += 1
            else:
                move.other += delta
    return moves


def count_lines(session: Session, count: CountSession, *, hide: bool) -> list[VarianceLine]:
    # plain column rows, not ORM objects: a whole-store count has 50,000 lines
    expected = {e.tag: e for e in session.execute(
        select(CountExpected.tag, CountExpected.package_id, CountExpected.item_id, CountExpected.location_id,
               CountExpected.unit, CountExpected.ledger_qty, CountExpected.pos_qty, CountExpected.metrc_qty,
               CountExpected.unit_price).where(CountExpected.session_id == count.id))}
    counted = _counted(session, count.id)
    tags = sorted(set(expected) | set(counted))
    packages: dict[str, _Pkg] = {}
    for start in range(0, len(tags), CHUNK):
        for tag, *fields in session.execute(
                select(Package.tag, Package.id, Package.quantity, Package.unit, Package.item_id, Location.name,
                       Package.bin)
                .join(Location, Location.id == Package.location_id).where(Package.tag.in_(tags[start:start + CHUNK]))):
            packages[tag] = _Pkg(*fields)
    adjustments: dict[int, Decimal] = defaultdict(Decimal)
    adjustment_ids: set[int] = set()
    for adj in session.scalars(select(Adjustment).where(Adjustment.count_session_id == count.id)):
        adjustments[adj.package_id] += adj.quantity_delta
        adjustment_ids.add(adj.id)
    until = {packages[t].id: c.at for t, c in counted.items() if t in packages}
    moves = _movements(session, [p.id for p in packages.values()], count.snapshot_at, until, adjustment_ids)
    item_ids = sorted({p.item_id for p in packages.values()} | {e.item_id for e in expected.values() if e.item_id})
    items: dict[int, _ItemInfo] = {}
    for start in range(0, len(item_ids), CHUNK):
        for item_id, *fields in session.execute(
                select(Item.id, Item.name, Item.sku, Item.category, Item.brand, Item.price, Item.unit)
                .where(Item.id.in_(item_ids[start:start + CHUNK]))):
            items[item_id] = _ItemInfo(*fields)
    loc_names = dict(session.execute(select(Location.id, Location.name)).all())
    lines = [_line(tag, expected.get(tag), counted.get(tag), packages.get(tag), moves, adjustments, items, loc_names,
                   count, hide) for tag in tags]
    return sorted(lines, key=_size_key)


def _size_key(line: VarianceLine) -> tuple[Decimal, Decimal, str]:
    return (-abs(line.value or 0), -abs(line.variance or 0), line.tag)


def _line(tag: str, exp: Any, cnt: _Counted | None, pkg: _Pkg | None, moves: Mapping[int, _Movements],
          adjustments: Mapping[int, Decimal], items: Mapping[int, _ItemInfo], loc_names: Mapping[int, str],
          count: CountSession, hide: bool) -> VarianceLine:
    """One tag's line; ``exp`` is its frozen expectation row (None when found out of scope)."""
    item = items.get(pkg.item_id) if pkg else (items.get(exp.item_id) if exp and exp.item_id else None)
    unit = pkg.unit if pkg else (exp.unit if exp else None)
    move = moves.get(pkg.id, _Movements()) if pkg else _Movements()
    adjusted = adjustments.get(pkg.id, Decimal(0)) if pkg else Decimal(0)
    if exp is not None and exp.ledger_qty is not None:
        ledger_qty: Decimal | None = exp.ledger_qty
    elif pkg is not None:  # found out of scope: the ledger's balance at the snapshot
        ledger_qty = rule.balance_at_snapshot(pkg.quantity, move.after_snapshot)
    else:
        ledger_qty = None
    window = move.other - move.sold
    expected = rule.expected_at_count(ledger_qty, window) if ledger_qty is not None else None
    pos_qty, metrc_qty = (exp.pos_qty, exp.metrc_qty) if exp else (None, None)
    quantity = cnt.quantity if cnt else None
    price = exp.unit_price if exp else (rule.unit_price(item.price, unit, item.unit) if item and unit else None)

    def versus(system: Decimal | None, source: str | None) -> Decimal | None:
        if quantity is None or source is None:
            return None
        return rule.variance(quantity, rule.expected_at_count(system or Decimal(0), window))

    variance = rule.variance(quantity, expected) if quantity is not None else None
    status = _status(exp, cnt, pkg, variance, adjusted)
    if hide and status in (LineStatus.MATCH, LineStatus.VARIANCE, LineStatus.RESOLVED):
        status = LineStatus.COUNTED
    value = rule.value_of(variance, price) if variance is not None and price is not None else None
    location = pkg.location if pkg else (loc_names.get(exp.location_id, "") if exp and exp.location_id else "")
    line = VarianceLine(
        tag=tag, item=item.name if item else "unknown package", sku=item.sku if item else "",
        category=item.category if item else "", brand=item.brand if item else "", location=location,
        counted_at_locations=", ".join(cnt.locations) if cnt else "", unit=unit,
        in_scope=exp is not None, known=pkg is not None, ledger=ledger_qty, pos=pos_qty, metrc=metrc_qty,
        sold_since=move.sold if pkg else None, sales_since=move.sales if pkg else None,
        moved_since=move.other if pkg else None, counted=quantity, counted_by=", ".join(cnt.by) if cnt else "",
        expected=expected, variance=variance, variance_pos=versus(pos_qty, count.pos_source),
        variance_metrc=versus(metrc_qty, count.metrc_source), unit_price=price, value=value, adjusted=adjusted,
        remaining=variance - adjusted if variance is not None else None, status=status, hidden=False,
        bin=(pkg.bin or "") if pkg else "",
    )
    if hide:
        line = replace(line, ledger=None, pos=None, metrc=None, sold_since=None, sales_since=None, moved_since=None,
                       expected=None, variance=None, variance_pos=None, variance_metrc=None, value=None,
                       adjusted=Decimal(0), remaining=None, hidden=True)
    return line


def _status(exp: Any, cnt: _Counted | None, pkg: _Pkg | None, variance: Decimal | None,
            adjusted: Decimal) -> LineStatus:
    if cnt is None:
        return LineStatus.NOT_COUNTED if exp is not None and exp.ledger_qty is not None else LineStatus.SYSTEM_ONLY
    if pkg is None:
        return LineStatus.UNKNOWN
    if exp is None:
        return LineStatus.FOUND
    if variance is not None and rule.matches(variance):
        return LineStatus.MATCH
    return LineStatus.RESOLVED if variance == adjusted else LineStatus.VARIANCE


def variance_lines(db: Database, actor: Actor, count_id: int) -> list[VarianceLine]:
    """Every line of the count, the largest dollar variance first."""
    actor.require(Permission.COUNT)
    with db.read() as session:
        count = load_count(session, count_id)
        hide = count.blind and count.status is CountStatus.OPEN and not actor.can(Permission.APPROVE_ADJUSTMENT)
        return count_lines(session, count, hide=hide)


def accuracy_of(lines: Iterable[VarianceLine]) -> Accuracy:
    """Lines counted (in scope or found), how many matched the ledger before any adjustment."""
    return rule.accuracy((ln.variance, ln.value) for ln in lines if ln.counted is not None and ln.variance is not None)
