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

from sqlalchemy import BigInteger, String, exists, func, select, tuple_, type_coerce
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
from backoffice.services.reports.bulk import paused_gc

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
    with db.read() as session, paused_gc():
        start, end = settings.calendar(session).utc_bounds(since, until)
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
    variance: int  # in ten-thousandths of a unit, as quantities are stored
    cents: int | None  # the variance's value; None: no price is known (a package in no system)


def _qty(scaled: int) -> Decimal:
    return Decimal(scaled).scaleb(-4)


def _cents_half_up(value_e6: int) -> int:
    """Millionths of a dollar (ten-thousandths of a unit × cents) to cents, half away from zero,
    like ``to_money``."""
    cents, rest = divmod(abs(value_e6), 10_000)
    cents += rest * 2 >= 10_000
    return cents if value_e6 >= 0 else -cents


def _count_lines(session: Session, submitted: Any) -> list[_Line]:
    """Every counted line of the counts, in scaled integers and joined in Python: a year of
    daily counts is 55,000 lines, and dictionary joins beat 55,000 index probes."""
    run = session.connection().execute  # Core rows: no ORM work per row
    counted: dict[tuple[int, str], int] = {}
    for sid, tag, quantity, supersedes in run(
        select(CountEntry.session_id, CountEntry.tag, type_coerce(CountEntry.quantity, BigInteger),
               CountEntry.supersedes_previous).where(CountEntry.session_id.in_(submitted)).order_by(CountEntry.id)
    ).all():
        key = (sid, tag)  # a recount starts the tag's count over; entries from several counters add up
        counted[key] = int(quantity) if supersedes or key not in counted else counted[key] + int(quantity)
    expected = {(sid, tag): (ledger, price, item_id) for sid, tag, ledger, price, item_id in run(
        select(CountExpected.session_id, CountExpected.tag, type_coerce(CountExpected.ledger_qty, BigInteger),
               type_coerce(CountExpected.unit_price, BigInteger), CountExpected.item_id)
        .where(CountExpected.session_id.in_(submitted))).all()}
    items = {item_id: (category, price, Unit(unit)) for item_id, category, price, unit in run(
        select(Item.id, Item.category, Item.price, type_coerce(Item.unit, String)))}
    # packages matter only where the ledger expected nothing: finds and unknown tags
    unexpected = [key for key in counted if expected.get(key, (None,))[0] is None]
    packages = _packages({tag for _, tag in unexpected}, run)
    after_snapshot = _moved_after_snapshot(session, [key for key in unexpected if key[1] in packages])
    moved = _moved_while_counting(session, submitted)
    lines = []
    for key, quantity in counted.items():
        exp, pkg = expected.get(key), packages.get(key[1])
        if exp is not None and exp[0] is not None:
            base: int | None = int(exp[0])
        elif pkg is not None:  # found: the ledger's balance at the snapshot
            base = pkg.quantity - after_snapshot.get(key, 0)
        else:
            base = None
        variance = quantity - (base + moved.get(key, 0) if base is not None else 0)
        item = items.get(pkg.item_id if pkg is not None else exp[2] if exp is not None else None)
        if exp is not None:
            cents: int | None = _cents_half_up(variance * int(exp[1]))
        elif pkg is not None and item is not None:  # priced as the count prices a find
            cents = int(to_money(_qty(variance) * item[1] * _per_item_unit(pkg.unit, item[2])).scaleb(2))
        else:
            cents = None
        lines.append(_Line(key[0], item[0] if item else UNKNOWN_CATEGORY, variance, cents))
    return lines


@dataclass(frozen=True)
class _Package:
    quantity: int  # scaled, as stored
    unit: Unit
    item_id: int


def _packages(tags: set[str], run: Any) -> dict[str, _Package]:
    found: dict[str, _Package] = {}
    for chunk in _chunks(sorted(tags)):
        for tag, quantity, unit, item_id in run(
            select(Package.tag, type_coerce(Package.quantity, BigInteger), type_coerce(Package.unit, String),
                   Package.item_id).where(Package.tag.in_(chunk))
        ):
            found[tag] = _Package(int(quantity), Unit(unit), item_id)
    return found


def _moved_while_counting(session: Session, submitted: Any) -> dict[tuple[int, str], int]:
    """Per (count, tag): the ledger movements of the package between the snapshot and the
    moment it was last counted — sales during a count are not variance — leaving out the
    count's own adjustments. Found in two steps: rows up to the count's submit (few), then
    each against the time its tag was counted."""
    tags = select(CountEntry.session_id, CountEntry.tag).where(CountEntry.session_id.in_(submitted)).distinct() \
        .subquery()
    own_adjustment = (LedgerEntry.doc_type == "adjustment") & exists().where(
        Adjustment.id == LedgerEntry.doc_id, Adjustment.count_session_id == tags.c.session_id)
    candidates = session.connection().execute(
        select(tags.c.session_id, tags.c.tag, LedgerEntry.at, type_coerce(LedgerEntry.quantity_delta, BigInteger))
        .join(Package, Package.tag == tags.c.tag).join(LedgerEntry, LedgerEntry.package_id == Package.id)
        .join(CountSession, CountSession.id == tags.c.session_id)
        .where(LedgerEntry.at > CountSession.snapshot_at, LedgerEntry.at <= CountSession.submitted_at,
               ~own_adjustment)
    ).all()
    if not candidates:
        return {}
    counted_at = _counted_at(session, {(sid, tag) for sid, tag, _, _ in candidates})
    moved: dict[tuple[int, str], int] = defaultdict(int)
    for sid, tag, at, delta in candidates:
        if at <= counted_at[(sid, tag)]:
            moved[(sid, tag)] += int(delta)
    return moved


def _counted_at(session: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str], datetime]:
    """When each (count, tag) was last counted, over its entries since the last recount."""
    entries: dict[tuple[int, str], list[tuple[bool, datetime]]] = defaultdict(list)
    for chunk in _chunks(sorted(keys)):
        for sid, tag, supersedes, at in session.execute(
            select(CountEntry.session_id, CountEntry.tag, CountEntry.supersedes_previous, CountEntry.counted_at)
            .where(tuple_(CountEntry.session_id, CountEntry.tag).in_(chunk)).order_by(CountEntry.id)
        ):
            if supersedes:
                entries[(sid, tag)].clear()
            entries[(sid, tag)].append((supersedes, at))
    return {key: max(at for _, at in values) for key, values in entries.items()}


def _moved_after_snapshot(session: Session, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """For packages found without a ledger expectation: all that moved after the snapshot, so
    their balance then is quantity − this."""
    moved: dict[tuple[int, str], int] = {}
    for chunk in _chunks(keys):
        tags = select(CountEntry.session_id, CountEntry.tag).distinct() \
            .where(tuple_(CountEntry.session_id, CountEntry.tag).in_(chunk)).subquery()
        for sid, tag, total in session.connection().execute(
            select(tags.c.session_id, tags.c.tag, func.sum(type_coerce(LedgerEntry.quantity_delta, BigInteger)))
            .join(Package, Package.tag == tags.c.tag).join(LedgerEntry, LedgerEntry.package_id == Package.id)
            .join(CountSession, CountSession.id == tags.c.session_id)
            .where(LedgerEntry.at > CountSession.snapshot_at).group_by(tags.c.session_id, tags.c.tag)
        ):
            moved[(sid, tag)] = int(total)
    return moved


def _chunks(keys: list[Any], size: int = 400) -> list[list[Any]]:
    """Bounded IN lists (SQLite caps the parameters of one statement)."""
    return [keys[start:start + size] for start in range(0, len(keys), size)]


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
            else _qty(sum(abs(ln.variance) for ln in own)),
            dollar_variance=count.dollar_variance if count.dollar_variance is not None
            else Decimal(sum(abs(ln.cents) for ln in own if ln.cents is not None)).scaleb(-2),
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
        cents = [ln.cents for ln in members if ln.cents is not None]
        out.append(CategoryAccuracy(
            category=category, counts=len({ln.session_id for ln in members}), lines_counted=len(members),
            lines_matching=sum(1 for ln in members if ln.variance == 0),
            unit_variance=_qty(sum(abs(ln.variance) for ln in members)),
            dollar_variance=Decimal(sum(abs(c) for c in cents)).scaleb(-2),
            net_dollar_variance=Decimal(sum(cents)).scaleb(-2),
        ))
    return out


def _adjustments(session: Session, start: datetime, end: datetime) -> list[AdjustmentLine]:
    by, approver = aliased(User), aliased(User)
    rows = session.connection().execute(
        select(Adjustment.id, Adjustment.adjusted_at, Package.tag, Item.sku, Item.name, Item.category,
               Adjustment.reason, Adjustment.quantity_delta, Adjustment.unit, Adjustment.before_quantity,
               Adjustment.after_quantity, Adjustment.unit_value, Adjustment.note, by.display_name,
               approver.display_name, Adjustment.count_session_id)
        .join(Package, Adjustment.package_id == Package.id).join(Item, Package.item_id == Item.id)
        .outerjoin(by, Adjustment.user_id == by.id).outerjoin(approver, Adjustment.approved_by_id == approver.id)
        .where(Adjustment.adjusted_at >= start, Adjustment.adjusted_at < end)
        .order_by(Adjustment.adjusted_at, Adjustment.id)
    ).all()
    return [
        AdjustmentLine(
            adjustment_id=adj_id, adjusted_at=at, tag=tag, sku=sku, product=name, category=category, reason=reason,
            quantity_delta=delta, unit=unit, before_quantity=before, after_quantity=after, unit_value=unit_value,
            value=to_money(delta * unit_value), note=note, adjusted_by=by_name or "", approved_by=approver_name or "",
            count_session_id=count_id,
        )
        for adj_id, at, tag, sku, name, category, reason, delta, unit, before, after, unit_value, note, by_name,
        approver_name, count_id in rows
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

