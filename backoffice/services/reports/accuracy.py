"""Inventory accuracy over a date range: submitted counts, their accuracy per count and per
category, adjustments by reason with notes and approvers, and the value of shrinkage.

Read straight from the count and adjustment tables. Per count, the figures frozen at submit
are reported as they were frozen. Per category they are recomputed line by line with the
cycle count's own rules (``backoffice.services.counts``), so the categories of a count add
up to its frozen figures: a line is a tag with counted entries (in scope, found out of
scope, or unknown); its count is the sum of its entries since the last recount; it is
expected at this system's ledger quantity frozen at the snapshot (for a find, the package's
ledger balance then) plus the ledger movements of the package between the snapshot and the
moment it was counted (sales during the count are not variance), leaving out the count's
own adjustments; it matches when counted equals expected. Unit and dollar variance add up
the size of each difference, as at submit; the net dollar variance keeps the sign.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from backoffice.db.engine import Database
from backoffice.db.models import (
    Adjustment,
    CountEntry,
    CountExpected,
    CountSession,
    Item,
    LedgerEntry,
    Package,
    User,
    utcnow,
)
from backoffice.domain.enums import CountStatus
from backoffice.domain.numbers import to_money
from backoffice.domain.units import Unit, convert
from backoffice.errors import ValidationError
from backoffice.services import settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.counts import Scope as CountScope
from backoffice.services.reports.store_time import store_zone, utc_bounds

UNKNOWN_CATEGORY = "(not in this system)"


def _ratio(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


@dataclass
class CountAccuracy:
    session_id: int
    name: str
    scope: str
    blind: bool
    started_at: datetime
    submitted_at: datetime
    submitted_by: str
    lines_counted: int
    lines_matching: int
    unit_variance: Decimal  # as frozen at submit: the sizes of the differences added up
    dollar_variance: Decimal
    adjustments: int
    adjustment_value: Decimal

    @property
    def accuracy(self) -> Decimal | None:
        return _ratio(self.lines_matching, self.lines_counted)


@dataclass
class CategoryAccuracy:
    category: str
    counts: int
    lines_counted: int
    lines_matching: int
    unit_variance: Decimal  # sizes of the differences added up, like the count's frozen figure
    dollar_variance: Decimal
    net_dollar_variance: Decimal  # signed: negative is stock missing

    @property
    def accuracy(self) -> Decimal | None:
        return _ratio(self.lines_matching, self.lines_counted)


@dataclass
class AdjustmentLine:
    adjustment_id: int
    adjusted_at: datetime
    tag: str
    sku: str
    product: str
    category: str
    reason: str
    quantity_delta: Decimal
    unit: Unit
    before_quantity: Decimal
    after_quantity: Decimal
    unit_value: Decimal
    value: Decimal  # signed: negative is stock (and money) lost
    note: str
    adjusted_by: str
    approved_by: str
    count_session_id: int | None


@dataclass
class ReasonTotal:
    reason: str
    unit: Unit
    adjustments: int
    units_removed: Decimal
    units_added: Decimal
    value_removed: Decimal
    value_added: Decimal

    @property
    def net_value(self) -> Decimal:
        return self.value_added - self.value_removed


@dataclass
class AccuracyReport:
    store_name: str
    license_number: str
    timezone: str
    generated_at: datetime
    generated_by: str
    since: date
    until: date
    counts: list[CountAccuracy]  # oldest submission first
    categories: list[CategoryAccuracy]
    reasons: list[ReasonTotal]
    adjustments: list[AdjustmentLine]

    @property
    def lines_counted(self) -> int:
        return sum(c.lines_counted for c in self.counts)

    @property
    def lines_matching(self) -> int:
        return sum(c.lines_matching for c in self.counts)

    @property
    def accuracy(self) -> Decimal | None:
        return _ratio(self.lines_matching, self.lines_counted)

    @property
    def shrinkage_value(self) -> Decimal:
        """What the adjustments that removed stock were worth, as a positive amount."""
        return sum((r.value_removed for r in self.reasons), Decimal(0))

    @property
    def net_adjustment_value(self) -> Decimal:
        return sum((r.net_value for r in self.reasons), Decimal(0))


def accuracy_report(db: Database, actor: Actor, *, since: date, until: date) -> AccuracyReport:
    """Counts submitted and adjustments made on the store's local days ``since`` through ``until``."""
    actor.require(Permission.REPORTS)
    if since > until:
        raise ValidationError(f"the range starts ({since}) after it ends ({until}); swap the dates")
    with db.read() as session:
        start, end = utc_bounds(store_zone(session), since, until)
        submitted = select(CountSession.id).where(
            CountSession.status == CountStatus.SUBMITTED, CountSession.submitted_at >= start,
            CountSession.submitted_at < end)
        lines = _count_lines(session, submitted)
        counts = _counts(session, submitted, lines)
        adjustments = _adjustments(session, start, end)
        return AccuracyReport(
            store_name=settings.get(session, settings.STORE_NAME),
            license_number=settings.get(session, settings.LICENSE_NUMBER),
            timezone=settings.get(session, settings.TIMEZONE), generated_at=utcnow(), generated_by=actor.username,
            since=since, until=until, counts=counts, categories=_categories(lines),
            reasons=_reasons(adjustments), adjustments=adjustments,
        )


@dataclass
class _Line:
    session_id: int
    category: str
    variance: Decimal
    value: Decimal | None  # None: no price is known (a package in no system)


@dataclass
class _Expected:
    ledger_qty: Decimal | None
    unit_price: Decimal
    item_id: int | None
    unit: Unit


@dataclass
class _Package:
    id: int
    quantity: Decimal
    unit: Unit
    item_id: int


def _count_lines(session: Session, submitted: Any) -> list[_Line]:
    snapshots = dict(session.execute(select(CountSession.id, CountSession.snapshot_at)
                                     .where(CountSession.id.in_(submitted))).all())
    if not snapshots:
        return []
    expected: dict[tuple[int, str], _Expected] = {
        (sid, tag): _Expected(ledger, price, item_id, unit)
        for sid, tag, ledger, price, item_id, unit in session.execute(
            select(CountExpected.session_id, CountExpected.tag, CountExpected.ledger_qty, CountExpected.unit_price,
                   CountExpected.item_id, CountExpected.unit).where(CountExpected.session_id.in_(submitted)))
    }
    counted: dict[tuple[int, str], tuple[Decimal, datetime]] = {}
    for sid, tag, quantity, supersedes, at in session.execute(
        select(CountEntry.session_id, CountEntry.tag, CountEntry.quantity, CountEntry.supersedes_previous,
               CountEntry.counted_at).where(CountEntry.session_id.in_(submitted)).order_by(CountEntry.id)
    ):
        previous = counted.get((sid, tag))
        # a recount starts the tag's count over; otherwise entries from several counters add up
        counted[(sid, tag)] = (quantity, at) if supersedes or previous is None else \
            (previous[0] + quantity, max(previous[1], at))
    tags = select(CountExpected.tag).where(CountExpected.session_id.in_(submitted)).union(
        select(CountEntry.tag).where(CountEntry.session_id.in_(submitted)))
    packages = {tag: _Package(pid, qty, unit, item_id) for tag, pid, qty, unit, item_id in session.execute(
        select(Package.tag, Package.id, Package.quantity, Package.unit, Package.item_id).where(Package.tag.in_(tags)))}
    items = {item_id: (category, price, unit) for item_id, category, price, unit in session.execute(
        select(Item.id, Item.category, Item.price, Item.unit).where(
            Item.id.in_(select(Package.item_id).where(Package.tag.in_(tags)))
            | Item.id.in_(select(CountExpected.item_id).where(CountExpected.session_id.in_(submitted)))))}
    own_adjustments = set(session.scalars(select(Adjustment.id).where(Adjustment.count_session_id.in_(submitted))))
    ledger: dict[int, list[tuple[datetime, Decimal, bool]]] = defaultdict(list)
    for package_id, at, delta, doc_type, doc_id in session.execute(
        select(LedgerEntry.package_id, LedgerEntry.at, LedgerEntry.quantity_delta, LedgerEntry.doc_type,
               LedgerEntry.doc_id)
        .where(LedgerEntry.package_id.in_(select(Package.id).where(Package.tag.in_(tags))),
               LedgerEntry.at > min(snapshots.values()))
    ):
        ledger[package_id].append((at, delta, doc_type == "adjustment" and doc_id in own_adjustments))
    lines = []
    for (sid, tag), (quantity, counted_at) in counted.items():
        exp, pkg, snapshot = expected.get((sid, tag)), packages.get(tag), snapshots[sid]
        moves = [(at, delta, own) for at, delta, own in ledger.get(pkg.id, ())] if pkg else []
        after = [(at, delta, own) for at, delta, own in moves if at > snapshot]
        if exp is not None and exp.ledger_qty is not None:
            ledger_qty: Decimal | None = exp.ledger_qty
        elif pkg is not None:  # found: the ledger's balance at the snapshot
            ledger_qty = pkg.quantity - sum((delta for _, delta, _ in after), Decimal(0))
        else:
            ledger_qty = None
        window = sum((delta for at, delta, own in after if at <= counted_at and not own), Decimal(0))
        variance = quantity - (ledger_qty + window if ledger_qty is not None else Decimal(0))
        item = items.get(pkg.item_id) if pkg else (items.get(exp.item_id) if exp and exp.item_id else None)
        if exp is not None:
            price: Decimal | None = exp.unit_price
        elif item is not None and pkg is not None:
            price = item[1] * _per_item_unit(pkg.unit, item[2])
        else:
            price = None
        lines.append(_Line(sid, item[0] if item else UNKNOWN_CATEGORY, variance,
                           to_money(variance * price) if price is not None else None))
    return lines


def _per_item_unit(package_unit: Unit, item_unit: Unit) -> Decimal:
    """How many of the item's price units one package unit is (as the count prices it)."""
    if package_unit is item_unit or package_unit.family is not item_unit.family:
        return Decimal(1)
    return convert(Decimal(1), package_unit, item_unit)


def _counts(session: Session, submitted: Any, lines: list[_Line]) -> list[CountAccuracy]:
    computed: dict[int, list[_Line]] = defaultdict(list)
    for line in lines:
        computed[line.session_id].append(line)
    adjusted: dict[int, list[Decimal]] = defaultdict(list)
    for session_id, delta, unit_value in session.execute(
        select(Adjustment.count_session_id, Adjustment.quantity_delta, Adjustment.unit_value)
        .where(Adjustment.count_session_id.in_(submitted))
    ):
        adjusted[session_id].append(to_money(delta * unit_value))
    submitter = aliased(User)
    out = []
    for count, submitted_by in session.execute(
        select(CountSession, submitter.display_name).outerjoin(submitter, CountSession.submitted_by_id == submitter.id)
        .where(CountSession.id.in_(submitted)).order_by(CountSession.submitted_at, CountSession.id)
    ):
        own = computed.get(count.id, [])
        # the figures frozen at submit are the record; lines recomputed only where they are missing
        out.append(CountAccuracy(
            session_id=count.id, name=count.name, scope=_scope_text(count.scope), blind=count.blind,
            started_at=count.snapshot_at, submitted_at=count.submitted_at, submitted_by=submitted_by or "",
            lines_counted=count.lines_counted if count.lines_counted is not None else len(own),
            lines_matching=count.lines_matching if count.lines_matching is not None
            else sum(1 for ln in own if ln.variance == 0),
            unit_variance=count.unit_variance if count.unit_variance is not None
            else sum((abs(ln.variance) for ln in own), Decimal(0)),
            dollar_variance=count.dollar_variance if count.dollar_variance is not None
            else sum((abs(ln.value) for ln in own if ln.value is not None), Decimal(0)),
            adjustments=len(adjusted.get(count.id, [])),
            adjustment_value=sum(adjusted.get(count.id, []), Decimal(0)),
        ))
    return out


def _scope_text(raw: str) -> str:
    """A count's scope as the Cycle Count tab describes it: "Edible in Vault, Sales Floor"."""
    try:
        return CountScope.from_json(raw).describe()
    except (ValueError, TypeError, AttributeError):  # not the counts' JSON: show it as stored
        return raw


def _categories(lines: list[_Line]) -> list[CategoryAccuracy]:
    groups: dict[str, list[_Line]] = defaultdict(list)
    for line in lines:
        groups[line.category].append(line)
    out = []
    for category in sorted(groups):
        members = groups[category]
        values = [ln.value for ln in members if ln.value is not None]
        out.append(CategoryAccuracy(
            category=category, counts=len({ln.session_id for ln in members}), lines_counted=len(members),
            lines_matching=sum(1 for ln in members if ln.variance == 0),
            unit_variance=sum((abs(ln.variance) for ln in members), Decimal(0)),
            dollar_variance=sum((abs(v) for v in values), Decimal(0)), net_dollar_variance=sum(values, Decimal(0)),
        ))
    return out


def _adjustments(session: Session, start: datetime, end: datetime) -> list[AdjustmentLine]:
    by, approver = aliased(User), aliased(User)
    rows = session.execute(
        select(Adjustment, Package.tag, Item.sku, Item.name, Item.category, by.display_name, approver.display_name)
        .join(Package, Adjustment.package_id == Package.id).join(Item, Package.item_id == Item.id)
        .outerjoin(by, Adjustment.user_id == by.id).outerjoin(approver, Adjustment.approved_by_id == approver.id)
        .where(Adjustment.adjusted_at >= start, Adjustment.adjusted_at < end)
        .order_by(Adjustment.adjusted_at, Adjustment.id)
    )
    return [
        AdjustmentLine(
            adjustment_id=adj.id, adjusted_at=adj.adjusted_at, tag=tag, sku=sku, product=name, category=category,
            reason=adj.reason, quantity_delta=adj.quantity_delta, unit=adj.unit, before_quantity=adj.before_quantity,
            after_quantity=adj.after_quantity, unit_value=adj.unit_value,
            value=to_money(adj.quantity_delta * adj.unit_value), note=adj.note, adjusted_by=by_name or "",
            approved_by=approver_name or "", count_session_id=adj.count_session_id,
        )
        for adj, tag, sku, name, category, by_name, approver_name in rows
    ]


def _reasons(adjustments: list[AdjustmentLine]) -> list[ReasonTotal]:
    totals: dict[tuple[str, Unit], ReasonTotal] = {}
    for adj in adjustments:
        key = (adj.reason, adj.unit)
        total = totals.get(key)
        if total is None:
            total = totals[key] = ReasonTotal(adj.reason, adj.unit, 0, Decimal(0), Decimal(0), Decimal(0), Decimal(0))
        total.adjustments += 1
        if adj.quantity_delta < 0:
            total.units_removed -= adj.quantity_delta
            total.value_removed -= adj.value
        else:
            total.units_added += adj.quantity_delta
            total.value_added += adj.value
    return sorted(totals.values(), key=lambda t: (-t.value_removed, t.reason, t.unit.value))

