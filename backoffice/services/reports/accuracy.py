"""Inventory accuracy over a date range: submitted counts, their accuracy per count and per
category, adjustments by reason with notes and approvers, and the value of shrinkage.

Read straight from the count and adjustment tables. Per count, the figures frozen at submit
are reported as they were frozen. Per category they are recomputed line by line: this module
fetches each counted line's figures (entries, frozen expectation, ledger movements) and the
count's own rule, ``backoffice.domain.variance``, decides counted, expected, variance, value
and match, so the categories of a count add up to its frozen figures. Unit and dollar
variance add up the size of each difference, as at submit; the net dollar variance keeps
the sign.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select, tuple_
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
from backoffice.domain import variance as rule
from backoffice.domain.enums import CountStatus
from backoffice.domain.numbers import to_money
from backoffice.domain.units import Unit
from backoffice.errors import ValidationError
from backoffice.services import settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.counts.scope import Scope as CountScope
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
    metrc_lines_compared: int | None = None  # counts with a METRC snapshot: counted lines compared with it
    metrc_lines_agreeing: int | None = None  # of those, METRC's number agreed with the count

    @property
    def accuracy(self) -> Decimal | None:
        return _ratio(self.lines_matching, self.lines_counted)

    @property
    def metrc_agreement(self) -> Decimal | None:
        if self.metrc_lines_compared is None or self.metrc_lines_agreeing is None:
            return None
        return _ratio(self.metrc_lines_agreeing, self.metrc_lines_compared)


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
    def metrc_agreement(self) -> Decimal | None:
        """Over the counts that had a METRC snapshot: lines where METRC agreed with the count."""
        compared = [c for c in self.counts if c.metrc_lines_compared is not None]
        return (
            _ratio(
                sum(c.metrc_lines_agreeing or 0 for c in compared), sum(c.metrc_lines_compared or 0 for c in compared)
            )
            if compared
            else None
        )

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
            CountSession.status == CountStatus.SUBMITTED,
            CountSession.submitted_at >= start,
            CountSession.submitted_at < end,
        )
        lines = _count_lines(session, submitted)
        counts = _counts(session, submitted, lines)
        adjustments = _adjustments(session, start, end)
        return AccuracyReport(
            store_name=settings.get(session, settings.STORE_NAME),
            license_number=settings.get(session, settings.LICENSE_NUMBER),
            timezone=settings.get(session, settings.TIMEZONE),
            generated_at=utcnow(),
            generated_by=actor.username,
            since=since,
            until=until,
            counts=counts,
            categories=_categories(lines),
            reasons=_reasons(adjustments),
            adjustments=adjustments,
        )


@dataclass
class _Line:
    session_id: int
    category: str
    variance: Decimal
    value: Decimal | None  # the variance's worth; None: no price is known (a package in no system)
    metrc_agrees: bool | None  # None: the count had no METRC snapshot, or the line was not in it


def _count_lines(session: Session, submitted: Any) -> list[_Line]:
    """Every counted line of the counts, by the count's own rule (``domain.variance``). Rows
    are fetched in bulk and joined in Python: a year of daily counts is 55,000 lines, and
    dictionary joins beat 55,000 index probes."""
    run = session.connection().execute  # Core rows: no ORM work per row
    entries: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for entry in run(
        select(
            CountEntry.session_id,
            CountEntry.tag,
            CountEntry.quantity,
            CountEntry.supersedes_previous,
            CountEntry.counted_at,
        )
        .where(CountEntry.session_id.in_(submitted))
        .order_by(CountEntry.id)
    ).all():
        entries[(entry.session_id, entry.tag)].append(entry)
    counted: dict[tuple[int, str], tuple[Decimal, datetime]] = {}
    for key, rows in entries.items():
        effective = rule.effective_entries(rows, lambda e: e.supersedes_previous)
        counted[key] = (sum((e.quantity for e in effective), Decimal(0)), max(e.counted_at for e in effective))
    expected = {
        (sid, tag): (ledger, price, item_id, metrc)
        for sid, tag, ledger, price, item_id, metrc in run(
            select(
                CountExpected.session_id,
                CountExpected.tag,
                CountExpected.ledger_qty,
                CountExpected.unit_price,
                CountExpected.item_id,
                CountExpected.metrc_qty,
            ).where(CountExpected.session_id.in_(submitted))
        ).all()
    }
    with_metrc = set(
        run(
            select(CountSession.id).where(CountSession.id.in_(submitted), CountSession.metrc_source.is_not(None))
        ).scalars()
    )
    items = {
        item_id: (category, price, unit)
        for item_id, category, price, unit in run(select(Item.id, Item.category, Item.price, Item.unit))
    }
    # packages matter only where the ledger expected nothing: finds and unknown tags
    unexpected = [key for key in counted if expected.get(key, (None,))[0] is None]
    packages = _packages({tag for _, tag in unexpected}, run)
    after_snapshot = _moved_after_snapshot(session, [key for key in unexpected if key[1] in packages])
    moved = _moved_while_counting(session, submitted, {key: at for key, (_, at) in counted.items()})
    lines = []
    for key, (quantity, _) in counted.items():
        exp, pkg = expected.get(key), packages.get(key[1])
        if exp is not None and exp[0] is not None:
            base: Decimal | None = exp[0]
        elif pkg is not None:  # found
            base = rule.balance_at_snapshot(pkg.quantity, after_snapshot.get(key, Decimal(0)))
        else:
            base = None
        window = moved.get(key, Decimal(0))
        variance = rule.variance(quantity, rule.expected_at_count(base, window) if base is not None else None)
        metrc_agrees = (
            rule.matches(rule.variance(quantity, rule.expected_at_count(exp[3] or Decimal(0), window)))
            if exp is not None and key[0] in with_metrc
            else None
        )
        item_id = pkg.item_id if pkg is not None else exp[2] if exp is not None else None
        item = items.get(item_id) if item_id is not None else None
        if exp is not None:
            value: Decimal | None = rule.value_of(variance, exp[1])
        elif pkg is not None and item is not None:  # priced as the count prices a find
            value = rule.value_of(variance, rule.unit_price(item[1], pkg.unit, item[2]))
        else:
            value = None
        lines.append(_Line(key[0], item[0] if item else UNKNOWN_CATEGORY, variance, value, metrc_agrees))
    return lines


@dataclass(frozen=True)
class _Package:
    quantity: Decimal
    unit: Unit
    item_id: int


def _packages(tags: set[str], run: Any) -> dict[str, _Package]:
    found: dict[str, _Package] = {}
    for chunk in _chunks(sorted(tags)):
        for tag, quantity, unit, item_id in run(
            select(Package.tag, Package.quantity, Package.unit, Package.item_id).where(Package.tag.in_(chunk))
        ):
            found[tag] = _Package(quantity, unit, item_id)
    return found


def _moved_while_counting(
    session: Session, submitted: Any, counted_at: dict[tuple[int, str], datetime]
) -> dict[tuple[int, str], Decimal]:
    """Per (count, tag): the ledger movements of the package that change what was expected
    when it was counted (``rule.in_count_window``), leaving out the count's own adjustments.
    Only rows between a count's snapshot and its submit are fetched: nothing else can fall in."""
    tags = (
        select(CountEntry.session_id, CountEntry.tag).where(CountEntry.session_id.in_(submitted)).distinct().subquery()
    )
    own_adjustment = (LedgerEntry.doc_type == "adjustment") & exists().where(
        Adjustment.id == LedgerEntry.doc_id, Adjustment.count_session_id == tags.c.session_id
    )
    moved: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for sid, tag, snapshot_at, at, delta in session.connection().execute(
        select(tags.c.session_id, tags.c.tag, CountSession.snapshot_at, LedgerEntry.at, LedgerEntry.quantity_delta)
        .join(Package, Package.tag == tags.c.tag)
        .join(LedgerEntry, LedgerEntry.package_id == Package.id)
        .join(CountSession, CountSession.id == tags.c.session_id)
        .where(LedgerEntry.at > CountSession.snapshot_at, LedgerEntry.at <= CountSession.submitted_at, ~own_adjustment)
    ):
        if rule.in_count_window(at, snapshot_at, counted_at.get((sid, tag))):
            moved[(sid, tag)] += delta
    return moved


def _moved_after_snapshot(session: Session, keys: list[tuple[int, str]]) -> dict[tuple[int, str], Decimal]:
    """For packages found without a ledger expectation: all that moved after the snapshot, so
    their balance then is ``rule.balance_at_snapshot``."""
    moved: dict[tuple[int, str], Decimal] = {}
    for chunk in _chunks(keys):
        tags = (
            select(CountEntry.session_id, CountEntry.tag)
            .distinct()
            .where(tuple_(CountEntry.session_id, CountEntry.tag).in_(chunk))
            .subquery()
        )
        for sid, tag, total in session.connection().execute(
            select(tags.c.session_id, tags.c.tag, func.sum(LedgerEntry.quantity_delta))
            .join(Package, Package.tag == tags.c.tag)
            .join(LedgerEntry, LedgerEntry.package_id == Package.id)
            .join(CountSession, CountSession.id == tags.c.session_id)
            .where(LedgerEntry.at > CountSession.snapshot_at)
            .group_by(tags.c.session_id, tags.c.tag)
        ):
            moved[(sid, tag)] = total
    return moved


def _chunks(keys: list[Any], size: int = 400) -> list[list[Any]]:
    """Bounded IN lists (SQLite caps the parameters of one statement)."""
    return [keys[start : start + size] for start in range(0, len(keys), size)]


def _counts(session: Session, submitted: Any, lines: list[_Line]) -> list[CountAccuracy]:
    computed: dict[int, list[_Line]] = defaultdict(list)
    for line in lines:
        computed[line.session_id].append(line)
    adjusted: dict[int | None, list[Decimal]] = defaultdict(list)  # the column is nullable; IN keeps ours
    for session_id, delta, unit_value in session.execute(
        select(Adjustment.count_session_id, Adjustment.quantity_delta, Adjustment.unit_value).where(
            Adjustment.count_session_id.in_(submitted)
        )
    ):
        adjusted[session_id].append(to_money(delta * unit_value))
    submitter = aliased(User)
    out = []
    for count, submitted_by in session.execute(
        select(CountSession, submitter.display_name)
        .outerjoin(submitter, CountSession.submitted_by_id == submitter.id)
        .where(CountSession.id.in_(submitted))
        .order_by(CountSession.submitted_at, CountSession.id)
    ):
        assert count.submitted_at is not None  # the query keeps submitted counts only
        own = computed.get(count.id, [])
        figures = rule.accuracy((ln.variance, ln.value) for ln in own)
        # the figures frozen at submit are the record; lines recomputed only where they are missing
        out.append(
            CountAccuracy(
                session_id=count.id,
                name=count.name,
                scope=_scope_text(count.scope),
                blind=count.blind,
                started_at=count.snapshot_at,
                submitted_at=count.submitted_at,
                submitted_by=submitted_by or "",
                lines_counted=count.lines_counted if count.lines_counted is not None else figures.lines_counted,
                lines_matching=count.lines_matching if count.lines_matching is not None else figures.lines_matching,
                unit_variance=count.unit_variance if count.unit_variance is not None else figures.unit_variance,
                dollar_variance=count.dollar_variance
                if count.dollar_variance is not None
                else to_money(figures.dollar_variance),
                adjustments=len(adjusted.get(count.id, [])),
                adjustment_value=sum(adjusted.get(count.id, []), Decimal(0)),
                **_metrc_figures(count, own),
            )
        )
    return out


def _metrc_figures(count: CountSession, own: list[_Line]) -> dict[str, int | None]:
    """METRC agreement as frozen at submit; recomputed for counts submitted before it was kept."""
    if count.metrc_lines_compared is not None:
        return {"metrc_lines_compared": count.metrc_lines_compared, "metrc_lines_agreeing": count.metrc_lines_agreeing}
    if not count.metrc_source:
        return {}
    compared = [ln.metrc_agrees for ln in own if ln.metrc_agrees is not None]
    return {"metrc_lines_compared": len(compared), "metrc_lines_agreeing": sum(compared)}


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
        figures = rule.accuracy((ln.variance, ln.value) for ln in members)
        out.append(
            CategoryAccuracy(
                category=category,
                counts=len({ln.session_id for ln in members}),
                lines_counted=figures.lines_counted,
                lines_matching=figures.lines_matching,
                unit_variance=figures.unit_variance,
                dollar_variance=to_money(figures.dollar_variance),
                net_dollar_variance=to_money(sum((ln.value for ln in members if ln.value is not None), Decimal(0))),
            )
        )
    return out


def _adjustments(session: Session, start: datetime, end: datetime) -> list[AdjustmentLine]:
    by, approver = aliased(User), aliased(User)
    rows = (
        session.connection()
        .execute(
            select(
                Adjustment.id,
                Adjustment.adjusted_at,
                Package.tag,
                Item.sku,
                Item.name,
                Item.category,
                Adjustment.reason,
                Adjustment.quantity_delta,
                Adjustment.unit,
                Adjustment.before_quantity,
                Adjustment.after_quantity,
                Adjustment.unit_value,
                Adjustment.note,
                by.display_name,
                approver.display_name,
                Adjustment.count_session_id,
            )
            .join(Package, Adjustment.package_id == Package.id)
            .join(Item, Package.item_id == Item.id)
            .outerjoin(by, Adjustment.user_id == by.id)
            .outerjoin(approver, Adjustment.approved_by_id == approver.id)
            .where(Adjustment.adjusted_at >= start, Adjustment.adjusted_at < end)
            .order_by(Adjustment.adjusted_at, Adjustment.id)
        )
        .all()
    )
    return [
        AdjustmentLine(
            adjustment_id=adj_id,
            adjusted_at=at,
            tag=tag,
            sku=sku,
            product=name,
            category=category,
            reason=reason,
            quantity_delta=delta,
            unit=unit,
            before_quantity=before,
            after_quantity=after,
            unit_value=unit_value,
            value=to_money(delta * unit_value),
            note=note,
            adjusted_by=by_name or "",
            approved_by=approver_name or "",
            count_session_id=count_id,
        )
        for adj_id, at, tag, sku, name, category, reason, delta, unit, before, after, unit_value, note, by_name, approver_name, count_id in rows
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
