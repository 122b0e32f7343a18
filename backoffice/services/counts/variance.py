"""A count's variance lines: counted against the ledger, the POS and METRC, and why they differ.

The comparison itself is ``backoffice.domain.variance``; this module gathers the figures and
names the status: a line is a match only when the count, the ledger, the POS snapshot and
the METRC snapshot all agree, allowing for sales and other ledger movements between the
snapshot and the moment the tag was counted (shown as conflicts, not variance). Otherwise
the status names the source out of step (short / over against the ledger, METRC differs,
POS differs, several), each with its causes (``causes``) and, per package, what is pending
to METRC (``services.metrc_pending``, as of the snapshot). Adjustments and METRC fixes made
for this count are shown beside the difference they resolve. Blind counts hide expected
figures, statuses and causes from counters until submit. Packages counted that are out of
scope or unknown to every system are listed, never dropped.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import CountExpected, CountSession, Location, PosSaleLine, Transfer, TransferLine
from backoffice.domain import variance as rule
from backoffice.domain.enums import CountStatus, TransferStatus
from backoffice.domain.units import Unit
from backoffice.domain.variance import Accuracy, Agreement, Source
from backoffice.services import metrc_pending, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.counts import figures
from backoffice.services.counts.causes import Cause, Evidence, explain
from backoffice.services.counts.figures import Corrections, Counted, ItemInfo, Movements, Pkg
from backoffice.services.counts.info import CHUNK, load_count
from backoffice.services.reports.bulk import paused_gc

if TYPE_CHECKING:  # metrc_pending reaches the counts package through the reports package
    from backoffice.services.metrc_pending import PendingItem


class LineStatus(enum.StrEnum):
    MATCH = Agreement.MATCH.value  # the count, the ledger, the POS and METRC all agree
    SHORT = Agreement.SHORT.value  # fewer on the shelf than the ledger; the systems agree with the ledger
    OVER = Agreement.OVER.value
    METRC_DIFFERS = Agreement.METRC_DIFFERS.value  # shelf and ledger agree, METRC does not
    POS_DIFFERS = Agreement.POS_DIFFERS.value
    SEVERAL = Agreement.SEVERAL.value  # more than one of the above
    RESOLVED = Agreement.RESOLVED.value  # covered by adjustments and METRC fixes made for this count
    NOT_COUNTED = "not counted"
    COUNTED = "counted"  # blind: counted, result hidden from the counter
    FOUND = "out of scope"  # counted, known to this store, but not in the count's scope
    UNKNOWN = "unknown tag"  # counted, not in this store's ledger
    SYSTEM_ONLY = "not in ledger"  # POS or METRC lists it, this store's ledger does not; not counted


_BY_AGREEMENT = {agreement: LineStatus(agreement.value) for agreement in Agreement}
DIFFERS = (LineStatus.SHORT, LineStatus.OVER, LineStatus.METRC_DIFFERS, LineStatus.POS_DIFFERS, LineStatus.SEVERAL)
_HIDDEN_WHEN_BLIND = (LineStatus.MATCH, LineStatus.RESOLVED, *DIFFERS)


@dataclass(slots=True)  # not frozen: a whole-store count builds 50,000 of them
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
    variance: Decimal | None  # counted − expected: the physical variance
    variance_pos: Decimal | None  # counted − (POS + movements)
    variance_metrc: Decimal | None  # counted − (METRC + movements)
    unit_price: Decimal | None
    value: Decimal | None  # variance × price
    adjusted: Decimal  # adjustments made for this count
    remaining: Decimal | None  # variance not yet explained by those adjustments
    status: LineStatus
    hidden: bool  # blind count: expected figures withheld from this user
    metrc_vs_ledger: Decimal | None = None  # METRC − ledger at the snapshot (None: no METRC snapshot)
    pos_vs_ledger: Decimal | None = None
    pending_metrc: Decimal | None = None  # signed units the store recorded and METRC had not applied
    pending: tuple[PendingItem, ...] = ()
    metrc_fixed: Decimal = Decimal(0)  # METRC-only fixes made from this count
    causes: tuple[Cause, ...] = ()
    bin: str = ""  # the package's bin in its room, where the counter finds it

    @property
    def needs_attention(self) -> bool:
        return self.status in (
            *DIFFERS,
            LineStatus.UNKNOWN,
            LineStatus.FOUND,
            LineStatus.SYSTEM_ONLY,
            LineStatus.NOT_COUNTED,
        )

    @property
    def metrc_open(self) -> Decimal | None:
        """What METRC still lacks against the ledger after this count's fixes (0: nothing)."""
        return None if self.metrc_vs_ledger is None else self.metrc_vs_ledger + self.metrc_fixed

    @property
    def investigate(self) -> bool:
        """Some difference on the line has no explanation in the records."""
        return any(not cause.explained for cause in self.causes)


@dataclass(frozen=True)
class _Context:
    count: CountSession
    expected: Mapping[str, Any]
    counted: Mapping[str, Counted]
    packages: Mapping[str, Pkg]
    moves: Mapping[int, Movements]
    adjusted: Mapping[int, Corrections]
    metrc_fixes: Mapping[str, Corrections]
    items: Mapping[int, ItemInfo]
    loc_names: Mapping[int, str]
    pending: Mapping[str, list[PendingItem]]
    hide: bool


def count_lines(session: Session, count: CountSession, *, hide: bool, with_causes: bool = True) -> list[VarianceLine]:
    """The count's lines; ``with_causes`` False skips what only the causes need (submit's figures)."""
    # plain Core rows, not ORM objects: a whole-store count has 50,000 lines
    expected = {
        e.tag: e
        for e in session.connection()
        .execute(
            select(
                CountExpected.tag,
                CountExpected.package_id,
                CountExpected.item_id,
                CountExpected.location_id,
                CountExpected.unit,
                CountExpected.ledger_qty,
                CountExpected.pos_qty,
                CountExpected.metrc_qty,
                CountExpected.unit_price,
            ).where(CountExpected.session_id == count.id)
        )
        .all()
    }
    loc_names = dict(session.execute(select(Location.id, Location.name)).all())
    counted = figures.counted(session, count.id, loc_names)
    tags = sorted(set(expected) | set(counted))
    others = figures.packages(
        session, [t for t in tags if t not in expected or expected[t].package_id is None], loc_names
    )
    ids = {tag: e.package_id for tag, e in expected.items() if e.package_id is not None}
    ids.update((tag, pkg.id) for tag, pkg in others.items())
    adjusted, metrc_fixes, adjustment_ids = figures.corrections(session, count.id)
    until = {ids[t]: c.at for t, c in counted.items() if t in ids}
    moves = figures.movements(session, list(ids.values()), count.snapshot_at, until, adjustment_ids)
    packages = {**figures.frozen_packages(expected, moves, loc_names, figures.bins(session, count.id)), **others}
    item_ids = sorted({p.item_id for p in packages.values()} | {e.item_id for e in expected.values() if e.item_id})
    units = {tag: pkg.unit for tag, pkg in packages.items()}
    # the outbox part for every package (one small query); unreported sales below, where METRC differs
    pending = (
        metrc_pending.outbox_pending(session, None, units, as_of=count.snapshot_at)
        if count.metrc_source and with_causes and not hide
        else {}
    )
    ctx = _Context(
        count,
        expected,
        counted,
        packages,
        moves,
        adjusted,
        metrc_fixes,
        figures.items(session, item_ids),
        loc_names,
        pending,
        hide,
    )
    lines = [_line(tag, ctx) for tag in tags]
    if with_causes and not hide:
        lines = _with_causes(session, lines, ctx)
    return sorted(lines, key=_size_key)


def _size_key(line: VarianceLine) -> tuple[Decimal, Decimal, str]:
    return (-abs(line.value or _ZERO), -abs(line.variance or _ZERO), line.tag)


def _line(tag: str, ctx: _Context) -> VarianceLine:
    """One tag's line without causes. Written for speed (50,000 lines): the expectation row is
    unpacked once, and the rule's functions are called only where a line needs them."""
    exp, cnt, pkg = ctx.expected.get(tag), ctx.counted.get(tag), ctx.packages.get(tag)
    if exp is not None:
        _, _, exp_item_id, exp_location_id, exp_unit, exp_ledger, pos_qty, metrc_qty, exp_price = exp
    else:
        exp_item_id = exp_location_id = exp_unit = exp_ledger = pos_qty = metrc_qty = exp_price = None
    item = ctx.items.get(pkg.item_id if pkg else exp_item_id)  # type: ignore[arg-type]
    unit = pkg.unit if pkg else exp_unit
    move = ctx.moves.get(pkg.id, _NO_MOVES) if pkg else _NO_MOVES
    adjusted = ctx.adjusted[pkg.id].adjusted if pkg and pkg.id in ctx.adjusted else _ZERO
    metrc_fixed = ctx.metrc_fixes[tag].metrc_fixed if tag in ctx.metrc_fixes else _ZERO
    if exp_ledger is not None:
        ledger_qty: Decimal | None = exp_ledger
    elif pkg is not None and pkg.quantity is not None:  # found out of scope: the ledger's balance at the snapshot
        ledger_qty = rule.balance_at_snapshot(pkg.quantity, move.after_snapshot)
    else:
        ledger_qty = None
    window = move.other - move.sold
    expected = rule.expected_at_count(ledger_qty, window) if ledger_qty is not None else None
    quantity = cnt.quantity if cnt else None
    price = exp_price if exp is not None else (rule.unit_price(item.price, unit, item.unit) if item and unit else None)
    others = {}
    if exp is not None:
        if ctx.count.pos_source:
            others[Source.POS] = pos_qty
        if ctx.count.metrc_source:
            others[Source.METRC] = metrc_qty
    comparison = (
        rule.compare(quantity, ledger_qty, window, others) if quantity is not None and ledger_qty is not None else None
    )
    variance = rule.variance(quantity, expected) if quantity is not None else None
    status = _status(exp, cnt, pkg, comparison, adjusted, metrc_fixed)
    tag_pending = ctx.pending.get(tag)
    line = VarianceLine(
        tag,
        item.name if item else "unknown package",
        item.sku if item else "",
        item.category if item else "",
        item.brand if item else "",
        pkg.location if pkg else (ctx.loc_names.get(exp_location_id, "") if exp_location_id else ""),
        ", ".join(cnt.locations) if cnt else "",
        unit,
        exp is not None,
        pkg is not None,
        ledger_qty,
        pos_qty,
        metrc_qty,
        move.sold if pkg else None,
        move.sales if pkg else None,
        move.other if pkg else None,
        quantity,
        ", ".join(cnt.by) if cnt else "",
        expected,
        variance,
        _versus(quantity, others, Source.POS, window),
        _versus(quantity, others, Source.METRC, window),
        price,
        rule.value_of(variance, price) if variance is not None and price is not None else None,
        adjusted,
        variance - adjusted if variance is not None else None,
        status,
        False,
        metrc_vs_ledger=_against_ledger(metrc_qty, ledger_qty) if Source.METRC in others else None,
        pos_vs_ledger=_against_ledger(pos_qty, ledger_qty) if Source.POS in others else None,
        pending_metrc=(metrc_pending.total(tag_pending) if tag_pending else _ZERO)
        if ctx.count.metrc_source and exp is not None
        else None,
        pending=tuple(tag_pending) if tag_pending else (),
        metrc_fixed=metrc_fixed,
        bin=(pkg.bin or "") if pkg else "",
    )
    return _blind(line) if ctx.hide else line


def _versus(
    counted: Decimal | None, others: Mapping[Source, Decimal | None], source: Source, window: Decimal
) -> Decimal | None:
    """Counted − what ``source`` expected at the count (its snapshot + the same movements)."""
    if counted is None or source not in others:
        return None
    return rule.variance(counted, rule.expected_at_count(others[source] or _ZERO, window))


_ZERO = Decimal(0)
_NO_MOVES = Movements()


def _against_ledger(system: Decimal | None, ledger: Decimal | None) -> Decimal | None:
    return None if ledger is None else (system or Decimal(0)) - ledger


def _blind(line: VarianceLine) -> VarianceLine:
    return replace(
        line,
        status=LineStatus.COUNTED if line.status in _HIDDEN_WHEN_BLIND else line.status,
        ledger=None,
        pos=None,
        metrc=None,
        sold_since=None,
        sales_since=None,
        moved_since=None,
        expected=None,
        variance=None,
        variance_pos=None,
        variance_metrc=None,
        value=None,
        adjusted=Decimal(0),
        remaining=None,
        hidden=True,
        metrc_vs_ledger=None,
        pos_vs_ledger=None,
        pending_metrc=None,
        pending=(),
        metrc_fixed=Decimal(0),
        causes=(),
    )


def _status(
    exp: Any,
    cnt: Counted | None,
    pkg: Pkg | None,
    comparison: rule.Comparison | None,
    adjusted: Decimal,
    metrc_fixed: Decimal,
) -> LineStatus:
    if cnt is None:
        return LineStatus.NOT_COUNTED if exp is not None and exp.ledger_qty is not None else LineStatus.SYSTEM_ONLY
    if pkg is None or comparison is None:
        return LineStatus.UNKNOWN
    if exp is None:
        return LineStatus.FOUND
    return _BY_AGREEMENT[rule.agreement(comparison, adjusted=adjusted, metrc_fixed=metrc_fixed)]


def _with_causes(session: Session, lines: list[VarianceLine], ctx: _Context) -> list[VarianceLine]:
    """Causes for the lines still out of step; the records they need are fetched for those lines only."""
    differing = [ln for ln in lines if ln.status in DIFFERS or (ln.status is LineStatus.FOUND and ln.remaining)]
    if not differing:
        return lines
    units = {ln.tag: ln.unit for ln in differing if ln.unit is not None}
    metrc_tags = [ln.tag for ln in differing if ln.metrc_open]
    unreported = (
        metrc_pending.unreported_sales(session, metrc_tags, units, as_of=ctx.count.snapshot_at) if metrc_tags else {}
    )
    physical = [ln for ln in differing if ln.remaining]
    receipts = _receipts(
        session,
        [s.sale_line_id for ln in physical for s in _moves_of(ln, ctx).near_sales if s.sale_line_id is not None],
    )
    drafts = _drafts(session, [ctx.packages[ln.tag].id for ln in physical if ln.tag in ctx.packages], ctx.loc_names)
    zone = settings.calendar(session).zone
    explained: dict[str, VarianceLine] = {}
    for ln in differing:
        pending = tuple(ctx.pending.get(ln.tag, [])) + tuple(unreported.get(ln.tag, []))
        pkg = ctx.packages.get(ln.tag)
        evidence = _evidence(ln, pending, _moves_of(ln, ctx), receipts, drafts.get(pkg.id, []) if pkg else [], ctx)
        comparison = rule.Comparison(ln.variance or Decimal(0), ln.metrc_vs_ledger, ln.pos_vs_ledger)
        fixes = Corrections(
            ln.adjusted, ln.metrc_fixed, ctx.metrc_fixes[ln.tag].notes if ln.tag in ctx.metrc_fixes else []
        )
        left = rule.open_differences(comparison, adjusted=ln.adjusted, metrc_fixed=ln.metrc_fixed)
        explained[ln.tag] = replace(
            ln,
            causes=explain(comparison, fixes, left, evidence, zone),
            pending=pending,
            pending_metrc=metrc_pending.total(pending) if ln.pending_metrc is not None else None,
        )
    return [explained.get(ln.tag, ln) for ln in lines]


def _moves_of(line: VarianceLine, ctx: _Context) -> Movements:
    pkg = ctx.packages.get(line.tag)
    return ctx.moves.get(pkg.id, _NO_MOVES) if pkg else _NO_MOVES


def _evidence(
    line: VarianceLine,
    pending: Sequence[PendingItem],
    moves: Movements,
    receipts: Mapping[int, str],
    drafts: Sequence[str],
    ctx: _Context,
) -> Evidence:
    counted = ctx.counted.get(line.tag)
    return Evidence(
        unit=line.unit,
        location=line.location,
        counted_at=counted.at if counted else None,
        counted_in=counted.locations if counted else [],
        near_sales=moves.near_sales,
        receipts=receipts,
        moves=moves.moves,
        location_names=ctx.loc_names,
        drafts=drafts,
        pending=pending,
    )


def _receipts(session: Session, sale_line_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(sale_line_ids), CHUNK):
        found.update(
            session.execute(
                select(PosSaleLine.id, PosSaleLine.receipt_number).where(
                    PosSaleLine.id.in_(sale_line_ids[start : start + CHUNK])
                )
            ).all()
        )
    return found


def _drafts(session: Session, package_ids: list[int], loc_names: Mapping[int, str]) -> dict[int, list[str]]:
    """Draft transfers (created, location change not recorded) holding these packages."""
    found: dict[int, list[str]] = {}
    for start in range(0, len(package_ids), CHUNK):
        for package_id, transfer_id, from_id, to_id in session.execute(
            select(TransferLine.package_id, Transfer.id, Transfer.from_location_id, Transfer.to_location_id)
            .join(Transfer, Transfer.id == TransferLine.transfer_id)
            .where(
                TransferLine.package_id.in_(package_ids[start : start + CHUNK]), Transfer.status == TransferStatus.DRAFT
            )
        ):
            found.setdefault(package_id, []).append(
                f"transfer #{transfer_id} ({loc_names.get(from_id, '?')} → {loc_names.get(to_id, '?')})"
            )
    return found


def variance_lines(db: Database, actor: Actor, count_id: int) -> list[VarianceLine]:
    """Every line of the count, the largest dollar variance first."""
    actor.require(Permission.COUNT)
    with db.read() as session, paused_gc():  # 50,000 lines and no cycles among them
        count = load_count(session, count_id)
        hide = count.blind and count.status is CountStatus.OPEN and not actor.can(Permission.APPROVE_ADJUSTMENT)
        return count_lines(session, count, hide=hide)


def accuracy_of(lines: Iterable[VarianceLine]) -> Accuracy:
    """Lines counted (in scope or found), how many matched the ledger before any adjustment."""
    return rule.accuracy((ln.variance, ln.value) for ln in lines if ln.counted is not None and ln.variance is not None)


@dataclass(frozen=True)
class MetrcAgreement:
    compared: int  # counted lines of a count with a METRC snapshot
    agreeing: int  # of those, METRC's number (with movements since the snapshot) equalled the count

    @property
    def percent(self) -> Decimal | None:
        return (Decimal(self.agreeing) * 100 / self.compared).quantize(Decimal("0.1")) if self.compared else None


def metrc_agreement_of(lines: Iterable[VarianceLine]) -> MetrcAgreement:
    compared = [ln for ln in lines if ln.variance_metrc is not None]
    return MetrcAgreement(len(compared), sum(1 for ln in compared if rule.matches(ln.variance_metrc or Decimal(0))))
