"""Reconcile a business day's POS sales against METRC's receipts, and resolve what differs.

``reconcile_day`` loads the day's stored POS lines and METRC receipts, works out which sold
tags the store knows and which were on the sales floor when sold, lets the matcher find
every difference, and stores them as findings (one per day, kind, receipt and tag, so
running a day again updates rather than duplicates). A finding that is no longer found is
closed as "cleared"; one resolved by a person stays resolved. ``day_view`` shows a day's
findings plus every finding of an earlier day still open: nothing drops out of sight.

Resolving a finding lives in ``finding_resolution`` (its names are re-exported here).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import NamedTuple

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
    Package,
    PosSaleLine,
    User,
    utcnow,
)
from backoffice.db.models import Finding as FindingModel
from backoffice.domain.enums import FindingKind, FindingStatus, LocationKind
from backoffice.domain.numbers import money_text
from backoffice.domain.units import Unit
from backoffice.errors import RuleViolation
from backoffice.services import audit, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.event_words import plural
from backoffice.services.finding_resolution import NOTE_MAX as NOTE_MAX
from backoffice.services.finding_resolution import Resolution
from backoffice.services.finding_resolution import ResolveResult as ResolveResult
from backoffice.services.finding_resolution import actions_for as actions_for
from backoffice.services.finding_resolution import metrc_has_receipt as metrc_has_receipt
from backoffice.services.finding_resolution import open_missing_in_metrc as open_missing_in_metrc
from backoffice.services.finding_resolution import queue_receipt as queue_receipt
from backoffice.services.finding_resolution import resolve as resolve
from backoffice.services.reconcile_match import Finding as Match
from backoffice.services.reconcile_match import match_day

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
        # the labels keep their capitals (METRC, POS) and one holds a comma: "·" parts them
        kinds = " · ".join(f"{KIND_LABELS[k]} {n}" for k, n in self.by_kind.items() if n) or "no differences"
        carried = f"; {self.carried_open} open from earlier days" if self.carried_open else ""
        findings = (
            f"Findings: {kinds}; {self.open} open{carried}."
            if self.reconciled_at is not None
            else f"This day is not reconciled yet: reconcile it to find the differences{carried}."
        )
        return (
            f"{self.business_date}: POS {plural(self.pos_receipts, 'receipt')} / {plural(self.pos_lines, 'line')} "
            f"({money_text(self.pos_amount)}), METRC {plural(self.metrc_receipts, 'receipt')} / "
            f"{plural(self.metrc_lines, 'line')} ({money_text(self.metrc_amount)}). {findings}"
        )


@dataclass(frozen=True)
class DayView:
    summary: DaySummary
    findings: list[FindingRow]  # the day's findings, then open findings carried from earlier days
    new: int = 0  # found for the first time by this run
    cleared: int = 0  # closed by this run because they are no longer found
    changes: Changes = Changes.FINDINGS


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
    pos_lines = [
        _PosLine(number, sold_at.astimezone(tz), tag, quantity, unit, amount)
        for number, sold_at, tag, quantity, unit, amount in connection.execute(
            select(
                PosSaleLine.receipt_number,
                PosSaleLine.sold_at,
                PosSaleLine.tag,
                PosSaleLine.quantity,
                PosSaleLine.unit,
                PosSaleLine.amount,
            ).where(PosSaleLine.business_date == day)
        )
    ]
    receipts = _metrc_receipts(connection, day, tz)
    floor_tags, known_tags = _tag_sets(connection, day, pos_lines)
    matches = match_day(pos_lines, receipts, floor_tags=floor_tags, known_tags=known_tags)
    new, cleared = _store_findings(session, actor, day, matches)
    audit.record(
        session,
        actor,
        "reconcile.day",
        "business_date",
        day.isoformat(),
        after={
            "pos_lines": len(pos_lines),
            "metrc_receipts": len(receipts),
            "findings": len(matches),
            "new": new,
            "cleared": cleared,
        },
    )
    view = _view(session, day, tz)
    return DayView(view.summary, view.findings, new, cleared)


def _metrc_receipts(connection: Connection, day: date, tz: tzinfo) -> list[_Receipt]:
    receipts: dict[int, _Receipt] = {}
    line = MetrcReceiptLine
    for receipt_id, number, external, sold_at, tag, quantity, unit, amount in connection.execute(
        select(
            MetrcReceipt.id,
            MetrcReceipt.receipt_number,
            MetrcReceipt.external_receipt_number,
            MetrcReceipt.sold_at,
            line.tag,
            line.quantity,
            line.unit,
            line.amount,
        )
        .outerjoin(line, line.receipt_id == MetrcReceipt.id)
        .where(MetrcReceipt.business_date == day)
        .order_by(MetrcReceipt.id, line.id)
    ):
        receipt = receipts.get(receipt_id)
        if receipt is None:
            receipt = receipts[receipt_id] = _Receipt(number, external, sold_at.astimezone(tz), [])
        if tag is not None:  # a receipt without lines (outer join)
            receipt.transactions.append(_Transaction(tag, quantity, unit, amount))
    return list(receipts.values())


def _tag_sets(connection: Connection, day: date, pos_lines: Sequence[_PosLine]) -> tuple[set[str], set[str]]:
    """(tags on the sales floor at every one of their sales that day, tags the store has).

    Where a package was when sold: its location now, unless a move came after the sale; then
    the room the first such move took it from."""
    day_tags = (
        select(PosSaleLine.tag)
        .where(PosSaleLine.business_date == day)
        .union(select(MetrcReceiptLine.tag).join(MetrcReceipt).where(MetrcReceipt.business_date == day))
    )
    packages = {
        tag: (pid, location)
        for pid, tag, location in connection.execute(
            select(Package.id, Package.tag, Package.location_id).where(Package.tag.in_(day_tags))
        )
    }
    sold = [(line.tag, line.sold_at) for line in pos_lines if line.tag is not None and line.tag in packages]
    if not sold:
        return set(), set(packages)
    floor_ids = set(connection.scalars(select(Location.id).where(Location.kind == LocationKind.FLOOR)))
    first_sale = min(sold_at for _, sold_at in sold)
    moves: dict[int, list[tuple[datetime, int | None, int]]] = defaultdict(list)
    sold_ids = select(Package.id).where(
        Package.tag.in_(select(PosSaleLine.tag).where(PosSaleLine.business_date == day))
    )
    for pid, at, src, dst in connection.execute(
        select(LedgerEntry.package_id, LedgerEntry.at, LedgerEntry.from_location_id, LedgerEntry.to_location_id)
        .where(
            LedgerEntry.package_id.in_(sold_ids), LedgerEntry.to_location_id.is_not(None), LedgerEntry.at > first_sale
        )
        .order_by(LedgerEntry.at, LedgerEntry.id)
    ):
        assert dst is not None  # the query keeps moves only
        moves[pid].append((at, src, dst))
    off_floor: set[str] = set()
    for tag, sold_at in sold:
        pid, location = packages[tag]
        later = next((m for m in moves.get(pid, ()) if m[0] > sold_at), None)
        if later is not None:
            location = later[1] if later[1] is not None else later[2]
        if location not in floor_ids:
            off_floor.add(tag)
    return {tag for tag, _ in sold} - off_floor, set(packages)


def _store_findings(session: Session, actor: Actor, day: date, matches: list[Match]) -> tuple[int, int]:
    """Upsert the day's findings; returns (new, cleared)."""
    existing = {
        (f.kind, f.receipt_number, f.tag): f
        for f in session.scalars(select(FindingModel).where(FindingModel.business_date == day))
    }
    now = utcnow()
    new = 0
    seen = set()
    for m in matches:
        key = (m.kind, m.receipt_number, m.tag)
        seen.add(key)
        row = existing.get(key)
        if row is None:
            session.add(
                FindingModel(
                    business_date=day,
                    kind=m.kind,
                    receipt_number=m.receipt_number,
                    tag=m.tag,
                    found_at=now,
                    status=FindingStatus.OPEN,
                    **_figures(m),
                )
            )
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
            row.status, row.resolution_action, row.resolution_note = (
                FindingStatus.RESOLVED,
                Resolution.CLEARED.value,
                CLEARED_NOTE,
            )
            row.resolved_by_id, row.resolved_at = actor.user_id, now
            cleared += 1
    session.flush()
    return new, cleared


def _figures(m: Match) -> dict[str, object]:
    return {
        "pos_quantity": m.pos_quantity,
        "pos_amount": m.pos_amount,
        "metrc_quantity": m.metrc_quantity,
        "metrc_amount": m.metrc_amount,
        "detail": m.detail[:400],
    }


# --- viewing -------------------------------------------------------------------------------


def day_view(db: Database, actor: Actor, day: date) -> DayView:
    """The day's stored findings and summary (without matching again)."""
    actor.require(Permission.RECONCILE)
    with db.read() as session:
        return _view(session, day, settings.calendar(session).zone)


def _view(session: Session, day: date, tz: tzinfo) -> DayView:
    pos_name = (
        select(PosSaleLine.product_name)  # a tag the store has no package for: the POS file's name
        .where(PosSaleLine.tag == FindingModel.tag, PosSaleLine.receipt_number == FindingModel.receipt_number)
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(FindingModel, func.coalesce(Item.name, pos_name), User.username)
        .outerjoin(Package, Package.tag == FindingModel.tag)
        .outerjoin(Item, Item.id == Package.item_id)
        .outerjoin(User, User.id == FindingModel.resolved_by_id)
        .where(
            or_(
                FindingModel.business_date == day,
                (FindingModel.business_date < day) & (FindingModel.status == FindingStatus.OPEN),
            )
        )
        .order_by(FindingModel.business_date.desc(), FindingModel.receipt_number, FindingModel.tag, FindingModel.id)
    )
    rows = [_row(f, item, user, day) for f, item, user in session.execute(query)]
    mine = [r for r in rows if not r.carried]
    by_kind = {kind: sum(1 for r in mine if r.kind is kind) for kind in FindingKind}
    pos = session.execute(
        select(func.count(func.distinct(PosSaleLine.receipt_number)), func.count(), func.sum(PosSaleLine.amount)).where(
            PosSaleLine.business_date == day
        )
    ).one()
    metrc_heads = session.scalar(select(func.count()).where(MetrcReceipt.business_date == day)) or 0
    metrc = session.execute(
        select(func.count(), func.sum(MetrcReceiptLine.amount))
        .join(MetrcReceipt)
        .where(MetrcReceipt.business_date == day)
    ).one()
    reconciled_at = session.scalar(
        select(func.max(AuditEvent.at)).where(  # a clean day leaves no finding behind
            AuditEvent.entity_type == "business_date",
            AuditEvent.entity_id == day.isoformat(),
            AuditEvent.action == "reconcile.day",
        )
    )
    summary = DaySummary(
        business_date=day,
        store_name=settings.get(session, settings.STORE_NAME),
        timezone=settings.get(session, settings.TIMEZONE),
        pos_receipts=pos[0] or 0,
        pos_lines=pos[1] or 0,
        pos_amount=Decimal(pos[2] or 0),
        metrc_receipts=metrc_heads,
        metrc_lines=metrc[0] or 0,
        metrc_amount=Decimal(metrc[1] or 0),
        by_kind=by_kind,
        open=sum(1 for r in mine if r.status is FindingStatus.OPEN),
        carried_open=len(rows) - len(mine),
        reconciled_at=reconciled_at,
    )
    return DayView(summary, rows)


def _row(f: FindingModel, item: str | None, user: str | None, day: date) -> FindingRow:
    return FindingRow(
        id=f.id,
        business_date=f.business_date,
        kind=f.kind,
        receipt_number=f.receipt_number,
        tag=f.tag,
        item=item or "",
        pos_quantity=f.pos_quantity,
        pos_amount=f.pos_amount,
        metrc_quantity=f.metrc_quantity,
        metrc_amount=f.metrc_amount,
        detail=f.detail,
        status=f.status,
        found_at=f.found_at,
        resolution=Resolution(f.resolution_action) if f.resolution_action else None,
        note=f.resolution_note,
        resolved_by=user,
        resolved_at=f.resolved_at,
        outbox_id=f.outbox_id,
        carried=f.business_date != day,
    )
