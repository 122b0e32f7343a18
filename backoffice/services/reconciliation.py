"""Reconcile a business day's POS sales against METRC's receipts, and resolve what differs.

``reconcile_day`` loads the day's stored POS lines and METRC receipts, works out which sold
tags the store knows and which were on the sales floor when sold, lets the matcher find
every difference, and stores them as findings (one per day, kind, receipt and tag, so
running a day again updates rather than duplicates). A finding that is no longer found is
closed as "cleared"; one resolved by a person stays resolved. ``day_view`` shows a day's
findings plus every finding of an earlier day still open: nothing drops out of sight.

Resolving needs an action and a note: queue the missing receipt for METRC (a
SALES_RECEIPT outbox entry, for a POS receipt METRC has no receipt for at all) or mark the
finding explained.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import (
    AuditEvent,
    Item,
    LedgerEntry,
    Location,
    MetrcReceipt,
    MetrcReceiptLine,
    OutboxEntry,
    Package,
    PosSaleLine,
    User,
    utcnow,
)
from backoffice.db.models import Finding as FindingModel
from backoffice.domain.enums import FindingKind, FindingStatus, LocationKind, OutboxKind
from backoffice.domain.units import Unit, convert
from backoffice.errors import NotFound, RuleViolation, ValidationError
from backoffice.importers.csv_common import plain
from backoffice.metrc.payloads import SalesReceipt, SalesTransaction
from backoffice.services import audit, outbox, settings
from backoffice.services.ledger import Doc
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.event_words import plural
from backoffice.services.reconcile_match import Finding as Match
from backoffice.services.reconcile_match import match_day

NOTE_MAX = 400
CLEARED_NOTE = "No longer found when the day was reconciled again."

KIND_LABELS = {
    FindingKind.MISSING_IN_METRC: "Sale missing in METRC",
    FindingKind.RETURN_NOT_IN_METRC: "Return not in METRC",
    FindingKind.MISSING_IN_POS: "Sale in METRC, not in the POS",
    FindingKind.QUANTITY_MISMATCH: "Quantity differs",
    FindingKind.AMOUNT_MISMATCH: "Amount differs",
    FindingKind.NOT_ON_FLOOR: "Sold off the floor",
    FindingKind.UNKNOWN_TAG: "Tag unknown to the store",
}


class Resolution(enum.StrEnum):
    QUEUE_RECEIPT = "queue_receipt"  # the POS receipt, queued for METRC through the outbox
    EXPLAINED = "explained"  # a person looked into it and wrote down why
    CLEARED = "cleared"  # set by a re-run that no longer finds it; not a person's choice

    @property
    def label(self) -> str:
        return {Resolution.QUEUE_RECEIPT: "Queue the receipt for METRC", Resolution.EXPLAINED: "Mark as explained",
                Resolution.CLEARED: "Cleared (no longer found)"}[self]


@dataclass(frozen=True)
class FindingRow:
    id: int
    business_date: date
    kind: FindingKind
    receipt_number: str
    tag: str
    item: str
    pos_quantity: Decimal | None
    pos_amount: Decimal | None
    metrc_quantity: Decimal | None
    metrc_amount: Decimal | None
    detail: str
    status: FindingStatus
    found_at: datetime
    resolution: Resolution | None
    note: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    outbox_id: int | None
    carried: bool  # an earlier day's finding, still open

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class DaySummary:
    business_date: date
    store_name: str
    timezone: str
    pos_receipts: int
    pos_lines: int
    pos_amount: Decimal
    metrc_receipts: int
    metrc_lines: int
    metrc_amount: Decimal
    by_kind: dict[FindingKind, int]  # the day's findings (open and resolved)
    open: int  # the day's open findings
    carried_open: int  # open findings of earlier days
    reconciled_at: datetime | None  # when the day was last reconciled

    @property
    def text(self) -> str:
        kinds = ", ".join(f"{KIND_LABELS[k].lower()} {n}" for k, n in self.by_kind.items() if n) or "no differences"
        carried = f"; {self.carried_open} open from earlier days" if self.carried_open else ""
        findings = (f"Findings: {kinds}; {self.open} open{carried}." if self.reconciled_at is not None
                    else f"This day is not reconciled yet: reconcile it to find the differences{carried}.")
        return (f"{self.business_date}: POS {plural(self.pos_receipts, 'receipt')} / {plural(self.pos_lines, 'line')} "
                f"(${self.pos_amount:,.2f}), METRC {plural(self.metrc_receipts, 'receipt')} / "
                f"{plural(self.metrc_lines, 'line')} (${self.metrc_amount:,.2f}). {findings}")


@dataclass(frozen=True)
class DayView:
    summary: DaySummary
    findings: list[FindingRow]  # the day's findings, then open findings carried from earlier days
    new: int = 0  # found for the first time by this run
    cleared: int = 0  # closed by this run because they are no longer found
    changes: Changes = Changes.FINDINGS


@dataclass(frozen=True)
class ResolveResult:
    resolved: list[int]  # the findings closed (queueing a receipt closes its sibling findings)
    outbox_id: int | None
    changes: Changes = field(default=Changes.FINDINGS)


# --- reconciling ---------------------------------------------------------------------------

class _PosLine(NamedTuple):
    receipt_number: str
    sold_at: datetime
    tag: str | None
    quantity: Decimal
    unit: Unit
    amount: Decimal


class _Transaction(NamedTuple):
    tag: str
    quantity: Decimal
    unit: Unit
    amount: Decimal


@dataclass(frozen=True)
class _Receipt:
    receipt_number: str | None
    external_receipt_number: str | None
    sold_at: datetime
    transactions: list[_Transaction]


def reconcile_day(db: Database, actor: Actor, day: date) -> DayView:
    """Match the day again and store its findings; returns the day's view."""
    actor.require(Permission.RECONCILE)
    try:
        with db.transaction() as session:
            return _reconcile(session, actor, day)
    except IntegrityError:  # PostgreSQL: another workstation stored the same findings at once
        raise RuleViolation(f"another workstation reconciled {day} at the same moment; reconcile it again") from None


def _reconcile(session: Session, actor: Actor, day: date) -> DayView:
    tz = settings.calendar(session).zone
    connection = session.connection()  # Core rows: a busy day has 10,000 lines
    # times in the store's zone: the findings quote them as the receipts show them
    pos_lines = [_PosLine(number, sold_at.astimezone(tz), tag, quantity, unit, amount)
                 for number, sold_at, tag, quantity, unit, amount in connection.execute(
        select(PosSaleLine.receipt_number, PosSaleLine.sold_at, PosSaleLine.tag, PosSaleLine.quantity,
               PosSaleLine.unit, PosSaleLine.amount).where(PosSaleLine.business_date == day))]
    receipts = _metrc_receipts(connection, day, tz)
    floor_tags, known_tags = _tag_sets(connection, day, pos_lines)
    matches = match_day(pos_lines, receipts, floor_tags=floor_tags, known_tags=known_tags)
    new, cleared = _store_findings(session, actor, day, matches)
    audit.record(session, actor, "reconcile.day", "business_date", day.isoformat(), after={
        "pos_lines": len(pos_lines), "metrc_receipts": len(receipts), "findings": len(matches),
        "new": new, "cleared": cleared,
    })
    view = _view(session, day, tz)
    return DayView(view.summary, view.findings, new, cleared)


def _metrc_receipts(connection: Connection, day: date, tz: tzinfo) -> list[_Receipt]:
    receipts: dict[int, _Receipt] = {}
    line = MetrcReceiptLine
    for receipt_id, number, external, sold_at, *transaction in connection.execute(
        select(MetrcReceipt.id, MetrcReceipt.receipt_number, MetrcReceipt.external_receipt_number,
               MetrcReceipt.sold_at, line.tag, line.quantity, line.unit, line.amount)
        .outerjoin(line, line.receipt_id == MetrcReceipt.id)
        .where(MetrcReceipt.business_date == day).order_by(MetrcReceipt.id, line.id)
    ):
        receipt = receipts.get(receipt_id)
        if receipt is None:
            receipt = receipts[receipt_id] = _Receipt(number, external, sold_at.astimezone(tz), [])
        if transaction[0] is not None:
            receipt.transactions.append(_Transaction(*transaction))
    return list(receipts.values())


def _tag_sets(connection: Connection, day: date, pos_lines: Sequence[_PosLine]) -> tuple[set[str], set[str]]:
    """(tags on the sales floor at every one of their sales that day, tags the store has).

    Where a package was when sold: its location now, unless a move came after the sale; then
    the room the first such move took it from."""
    day_tags = (select(PosSaleLine.tag).where(PosSaleLine.business_date == day)
                .union(select(MetrcReceiptLine.tag).join(MetrcReceipt).where(MetrcReceipt.business_date == day)))
    packages = {tag: (pid, location) for pid, tag, location in connection.execute(
        select(Package.id, Package.tag, Package.location_id).where(Package.tag.in_(day_tags)))}
    sold = [line for line in pos_lines if line.tag in packages]
    if not sold:
        return set(), set(packages)
    floor_ids = set(connection.scalars(select(Location.id).where(Location.kind == LocationKind.FLOOR)))
    first_sale = min(line.sold_at for line in sold)
    moves: dict[int, list[tuple[datetime, int | None, int]]] = defaultdict(list)
    sold_ids = select(Package.id).where(
        Package.tag.in_(select(PosSaleLine.tag).where(PosSaleLine.business_date == day)))
    for pid, at, src, dst in connection.execute(
        select(LedgerEntry.package_id, LedgerEntry.at, LedgerEntry.from_location_id, LedgerEntry.to_location_id)
        .where(LedgerEntry.package_id.in_(sold_ids), LedgerEntry.to_location_id.is_not(None),
               LedgerEntry.at > first_sale).order_by(LedgerEntry.at, LedgerEntry.id)
    ):
        moves[pid].append((at, src, dst))
    off_floor: set[str] = set()
    for line in sold:
        pid, location = packages[line.tag]
        later = next((m for m in moves.get(pid, ()) if m[0] > line.sold_at), None)
        if later is not None:
            location = later[1] if later[1] is not None else later[2]
        if location not in floor_ids:
            off_floor.add(line.tag)
    return {line.tag for line in sold} - off_floor, set(packages)


def _store_findings(session: Session, actor: Actor, day: date, matches: list[Match]) -> tuple[int, int]:
    """Upsert the day's findings; returns (new, cleared)."""
    existing = {(f.kind, f.receipt_number, f.tag): f
                for f in session.scalars(select(FindingModel).where(FindingModel.business_date == day))}
    now = utcnow()
    new = 0
    seen = set()
    for m in matches:
        key = (m.kind, m.receipt_number, m.tag)
        seen.add(key)
        row = existing.get(key)
        if row is None:
            session.add(FindingModel(business_date=day, kind=m.kind, receipt_number=m.receipt_number, tag=m.tag,
                                     found_at=now, status=FindingStatus.OPEN, **_figures(m)))
            new += 1
            continue
        if row.status is FindingStatus.RESOLVED and row.resolution_action != Resolution.CLEARED:
            continue  # a person's resolution stands (a queued receipt shows in METRC once it is sent)
        if row.status is FindingStatus.RESOLVED:  # cleared by a run, and back again
            row.status, row.resolution_action, row.resolution_note = FindingStatus.OPEN, None, None
            row.resolved_by_id, row.resolved_at = None, None
        for name, value in _figures(m).items():
            setattr(row, name, value)
    cleared = 0
    for key, row in existing.items():
        if key not in seen and row.status is FindingStatus.OPEN:
            row.status, row.resolution_action, row.resolution_note = (FindingStatus.RESOLVED, Resolution.CLEARED.value,
                                                                      CLEARED_NOTE)
            row.resolved_by_id, row.resolved_at = actor.user_id, now
            cleared += 1
    session.flush()
    return new, cleared


def _figures(m: Match) -> dict[str, object]:
    return {"pos_quantity": m.pos_quantity, "pos_amount": m.pos_amount, "metrc_quantity": m.metrc_quantity,
            "metrc_amount": m.metrc_amount, "detail": m.detail[:400]}


# --- viewing -------------------------------------------------------------------------------

def day_view(db: Database, day: date) -> DayView:
    """The day's stored findings and summary (without matching again)."""
    with db.read() as session:
        return _view(session, day, settings.calendar(session).zone)


def _view(session: Session, day: date, tz: tzinfo) -> DayView:
    pos_name = (select(PosSaleLine.product_name)  # a tag the store has no package for: the POS file's name
                .where(PosSaleLine.tag == FindingModel.tag, PosSaleLine.receipt_number == FindingModel.receipt_number)
                .limit(1).scalar_subquery())
    query = (
        select(FindingModel, func.coalesce(Item.name, pos_name), User.username)
        .outerjoin(Package, Package.tag == FindingModel.tag)
        .outerjoin(Item, Item.id == Package.item_id)
        .outerjoin(User, User.id == FindingModel.resolved_by_id)
        .where(or_(FindingModel.business_date == day,
                   (FindingModel.business_date < day) & (FindingModel.status == FindingStatus.OPEN)))
        .order_by(FindingModel.business_date.desc(), FindingModel.receipt_number, FindingModel.tag, FindingModel.id)
    )
    rows = [_row(f, item, user, day) for f, item, user in session.execute(query)]
    mine = [r for r in rows if not r.carried]
    by_kind = {kind: sum(1 for r in mine if r.kind is kind) for kind in FindingKind}
    pos = session.execute(
        select(func.count(func.distinct(PosSaleLine.receipt_number)), func.count(), func.sum(PosSaleLine.amount))
        .where(PosSaleLine.business_date == day)).one()
    metrc_heads = session.scalar(select(func.count()).where(MetrcReceipt.business_date == day)) or 0
    metrc = session.execute(
        select(func.count(), func.sum(MetrcReceiptLine.amount)).join(MetrcReceipt)
        .where(MetrcReceipt.business_date == day)).one()
    reconciled_at = session.scalar(select(func.max(AuditEvent.at)).where(  # a clean day leaves no finding behind
        AuditEvent.entity_type == "business_date", AuditEvent.entity_id == day.isoformat(),
        AuditEvent.action == "reconcile.day"))
    summary = DaySummary(
        business_date=day, store_name=settings.get(session, settings.STORE_NAME),
        timezone=settings.get(session, settings.TIMEZONE),
        pos_receipts=pos[0] or 0, pos_lines=pos[1] or 0, pos_amount=Decimal(pos[2] or 0),
        metrc_receipts=metrc_heads, metrc_lines=metrc[0] or 0, metrc_amount=Decimal(metrc[1] or 0),
        by_kind=by_kind, open=sum(1 for r in mine if r.status is FindingStatus.OPEN),
        carried_open=len(rows) - len(mine), reconciled_at=reconciled_at,
    )
    return DayView(summary, rows)


def _row(f: FindingModel, item: str | None, user: str | None, day: date) -> FindingRow:
    return FindingRow(
        id=f.id, business_date=f.business_date, kind=f.kind, receipt_number=f.receipt_number, tag=f.tag,
        item=item or "", pos_quantity=f.pos_quantity, pos_amount=f.pos_amount, metrc_quantity=f.metrc_quantity,
        metrc_amount=f.metrc_amount, detail=f.detail, status=f.status, found_at=f.found_at,
        resolution=Resolution(f.resolution_action) if f.resolution_action else None, note=f.resolution_note,
        resolved_by=user, resolved_at=f.resolved_at, outbox_id=f.outbox_id, carried=f.business_date != day,
    )


# --- resolving -----------------------------------------------------------------------------

def actions_for(db: Database, finding_id: int) -> list[Resolution]:
    """What a person may do with this finding (queueing needs a POS receipt METRC lacks entirely)."""
    with db.read() as session:
        finding = _finding(session, finding_id)
        if finding.status is not FindingStatus.OPEN:
            return []
        if _can_queue(session, finding):
            return [Resolution.QUEUE_RECEIPT, Resolution.EXPLAINED]
        return [Resolution.EXPLAINED]


def resolve(db: Database, actor: Actor, finding_id: int, action: Resolution | str, note: str) -> ResolveResult:
    actor.require(Permission.RECONCILE)
    try:
        action = Resolution(action)
    except ValueError:
        raise ValidationError(f"{action!r} is not a way to resolve a finding; use "
                              f"{Resolution.QUEUE_RECEIPT.value} or {Resolution.EXPLAINED.value}") from None
    if action is Resolution.CLEARED:
        raise ValidationError("'cleared' is set by reconciling again, not by hand; mark the finding explained")
    note = " ".join(note.split())
    if not note:
        raise ValidationError("write a note saying what was done or why the difference is acceptable")
    if len(note) > NOTE_MAX:
        raise ValidationError(f"the note is {len(note)} characters; keep it to {NOTE_MAX}")
    with db.transaction() as session:
        finding = _finding(session, finding_id, lock=True)
        if finding.status is not FindingStatus.OPEN:
            raise RuleViolation(f"finding #{finding.id} is already resolved ({finding.resolution_action}: "
                                f"{finding.resolution_note})")
        closing, entry = [finding], None
        if action is Resolution.QUEUE_RECEIPT:
            closing, entry = _queue_receipt(session, actor, finding)
        now = utcnow()
        for f in closing:
            f.status, f.resolution_action, f.resolution_note = FindingStatus.RESOLVED, action.value, note
            f.resolved_by_id, f.resolved_at = actor.user_id, now
            f.outbox_id = entry.id if entry is not None else None
        audit.record(session, actor, "finding.resolve", "finding", finding.id, reason=note, after={
            "action": action.value, "day": finding.business_date, "kind": finding.kind.value,
            "receipt": finding.receipt_number, "tag": finding.tag, "closed": [f.id for f in closing],
            "outbox": entry.id if entry is not None else None,
        })
        ids = [f.id for f in closing]
    changes = Changes.FINDINGS | (Changes.OUTBOX if entry is not None else Changes.NONE)
    return ResolveResult(ids, entry.id if entry is not None else None, changes)


def _finding(session: Session, finding_id: int, *, lock: bool = False) -> FindingModel:
    query = select(FindingModel).where(FindingModel.id == finding_id)
    finding = session.scalar(query.with_for_update() if lock else query)
    if finding is None:
        raise NotFound(f"there is no reconciliation finding #{finding_id}")
    return finding


def _can_queue(session: Session, finding: FindingModel) -> bool:
    """METRC refuses a second receipt with the same number, so only a receipt it has not got
    at all can be queued; a line missing from a receipt METRC has is fixed in its web UI."""
    if finding.kind is not FindingKind.MISSING_IN_METRC:
        return False
    number = finding.receipt_number
    known = session.scalar(select(func.count()).where(
        or_(MetrcReceipt.external_receipt_number == number, MetrcReceipt.receipt_number == number)))
    return not known


def _queue_receipt(session: Session, actor: Actor, finding: FindingModel) -> tuple[list[FindingModel], OutboxEntry]:
    if finding.kind is not FindingKind.MISSING_IN_METRC:
        raise RuleViolation("only a sale missing in METRC can be queued for METRC; mark this finding explained")
    if not _can_queue(session, finding):
        raise RuleViolation(
            f"METRC already has a receipt numbered {finding.receipt_number}, so a second one would be refused. "
            "Correct that receipt in METRC's web interface, then mark this finding explained."
        )
    siblings = list(session.scalars(select(FindingModel).where(
        FindingModel.business_date == finding.business_date, FindingModel.receipt_number == finding.receipt_number,
        FindingModel.kind == FindingKind.MISSING_IN_METRC, FindingModel.status == FindingStatus.OPEN,
    ).with_for_update()))
    lines = session.execute(
        select(PosSaleLine.tag, PosSaleLine.quantity, PosSaleLine.unit, PosSaleLine.amount, PosSaleLine.sold_at)
        .where(PosSaleLine.business_date == finding.business_date,
               PosSaleLine.receipt_number == finding.receipt_number, PosSaleLine.tag.is_not(None))
        .order_by(PosSaleLine.sold_at, PosSaleLine.id)
    ).all()
    if not lines:
        raise RuleViolation(f"the POS lines of receipt {finding.receipt_number} are no longer stored; "
                            "import the day's POS export again")
    transactions = _transactions(lines)
    tz = settings.calendar(session).zone
    sold_at = lines[0].sold_at.astimezone(tz).replace(tzinfo=None)  # METRC wants local time without offset
    receipt = SalesReceipt(sold_at, finding.receipt_number, tuple(transactions))
    entry = outbox.enqueue(session, actor, OutboxKind.SALES_RECEIPT, [receipt.to_metrc()],
                           Doc("finding", finding.id),
                           f"sales-receipt:{finding.business_date}:{finding.receipt_number}")
    return siblings, entry


def _transactions(lines: Iterable[Any]) -> list[SalesTransaction]:
    """One transaction per tag: the receipt's lines of it summed, in the first line's unit."""
    totals: dict[str, list[Any]] = {}
    for line in lines:
        total = totals.get(line.tag)
        if total is None:
            totals[line.tag] = [line.quantity, line.unit, line.amount]
            continue
        unit: Unit = total[1]
        total[0] += line.quantity if line.unit is unit else convert(line.quantity, line.unit, unit)
        total[2] += line.amount
    refused = [tag for tag, (quantity, _, _) in totals.items() if quantity <= 0]
    if refused:
        raise RuleViolation(f"the receipt returns more of {', '.join(refused)} than it sells; nothing to record "
                            "as a sale in METRC. Mark the finding explained instead")
    return [SalesTransaction(tag, Decimal(plain(q)), unit, Decimal(f"{amount:.2f}"))
            for tag, (q, unit, amount) in totals.items()]
