"""Resolve a reconciliation finding: queue the missing receipt for METRC or mark it explained.

Resolving needs an action and a note: queue the missing receipt for METRC (a
SALES_RECEIPT outbox entry, for a POS receipt METRC has no receipt for at all) or mark the
finding explained. Count lines queue receipts through the same ``queue_receipt``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Finding as FindingModel
from backoffice.db.models import MetrcReceipt, OutboxEntry, PosSaleLine, utcnow
from backoffice.domain.enums import FindingKind, FindingStatus, OutboxKind
from backoffice.domain.units import Unit, convert
from backoffice.errors import NotFound, RuleViolation, ValidationError
from backoffice.importers.csv_common import plain
from backoffice.metrc.payloads import SalesReceipt, SalesTransaction
from backoffice.services import audit, outbox, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.ledger import Doc

NOTE_MAX = 400


class Resolution(enum.StrEnum):
    QUEUE_RECEIPT = "queue_receipt"  # the POS receipt, queued for METRC through the outbox
    EXPLAINED = "explained"  # a person looked into it and wrote down why
    CLEARED = "cleared"  # set by a re-run that no longer finds it; not a person's choice

    @property
    def label(self) -> str:
        return {
            Resolution.QUEUE_RECEIPT: "Queue the receipt for METRC",
            Resolution.EXPLAINED: "Mark as explained",
            Resolution.CLEARED: "Cleared (no longer found)",
        }[self]


@dataclass(frozen=True)
class ResolveResult:
    resolved: list[int]  # the findings closed (queueing a receipt closes its sibling findings)
    outbox_id: int | None
    changes: Changes = field(default=Changes.FINDINGS)


def actions_for(db: Database, actor: Actor, finding_id: int) -> list[Resolution]:
    """What a person may do with this finding (queueing needs a POS receipt METRC lacks entirely)."""
    actor.require(Permission.RECONCILE)
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
        raise ValidationError(
            f"{action!r} is not a way to resolve a finding; use "
            f"{Resolution.QUEUE_RECEIPT.value} or {Resolution.EXPLAINED.value}"
        ) from None
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
            raise RuleViolation(
                f"finding #{finding.id} is already resolved ({finding.resolution_action}: {finding.resolution_note})"
            )
        closing, entry = [finding], None
        if action is Resolution.QUEUE_RECEIPT:
            closing, entry = _queue_receipt(session, actor, finding)
        now = utcnow()
        for f in closing:
            f.status, f.resolution_action, f.resolution_note = FindingStatus.RESOLVED, action.value, note
            f.resolved_by_id, f.resolved_at = actor.user_id, now
            f.outbox_id = entry.id if entry is not None else None
        audit.record(
            session,
            actor,
            "finding.resolve",
            "finding",
            finding.id,
            reason=note,
            after={
                "action": action.value,
                "day": finding.business_date,
                "kind": finding.kind.value,
                "receipt": finding.receipt_number,
                "tag": finding.tag,
                "closed": [f.id for f in closing],
                "outbox": entry.id if entry is not None else None,
            },
        )
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
    return not metrc_has_receipt(session, finding.receipt_number)


def metrc_has_receipt(session: Session, number: str) -> bool:
    return bool(
        session.scalar(
            select(func.count()).where(
                or_(MetrcReceipt.external_receipt_number == number, MetrcReceipt.receipt_number == number)
            )
        )
    )


def _queue_receipt(session: Session, actor: Actor, finding: FindingModel) -> tuple[list[FindingModel], OutboxEntry]:
    if finding.kind is not FindingKind.MISSING_IN_METRC:
        raise RuleViolation("only a sale missing in METRC can be queued for METRC; mark this finding explained")
    if not _can_queue(session, finding):
        raise RuleViolation(
            f"METRC already has a receipt numbered {finding.receipt_number}, so a second one would be refused. "
            "Correct that receipt in METRC's web interface, then mark this finding explained."
        )
    siblings = open_missing_in_metrc(session, finding.business_date, finding.receipt_number)
    entry = queue_receipt(session, actor, finding.business_date, finding.receipt_number, Doc("finding", finding.id))
    return siblings, entry


def open_missing_in_metrc(session: Session, day: date, number: str) -> list[FindingModel]:
    """The open "sale missing in METRC" findings of one POS receipt, locked for resolving."""
    return list(
        session.scalars(
            select(FindingModel)
            .where(
                FindingModel.business_date == day,
                FindingModel.receipt_number == number,
                FindingModel.kind == FindingKind.MISSING_IN_METRC,
                FindingModel.status == FindingStatus.OPEN,
            )
            .with_for_update()
        )
    )


def queue_receipt(session: Session, actor: Actor, day: date, number: str, doc: Doc) -> OutboxEntry:
    """Queue POS receipt ``number`` of business day ``day`` for METRC (a SALES_RECEIPT outbox
    entry, once per receipt whoever asks: reconciliation or a count line)."""
    lines = session.execute(
        select(PosSaleLine.tag, PosSaleLine.quantity, PosSaleLine.unit, PosSaleLine.amount, PosSaleLine.sold_at)
        .where(PosSaleLine.business_date == day, PosSaleLine.receipt_number == number, PosSaleLine.tag.is_not(None))
        .order_by(PosSaleLine.sold_at, PosSaleLine.id)
    ).all()
    if not lines:
        raise RuleViolation(
            f"the POS lines of receipt {number} are no longer stored; import the day's POS export again"
        )
    transactions = _transactions(lines)
    tz = settings.calendar(session).zone
    sold_at = lines[0].sold_at.astimezone(tz).replace(tzinfo=None)  # METRC wants local time without offset
    receipt = SalesReceipt(sold_at, number, tuple(transactions))
    return outbox.enqueue(
        session, actor, OutboxKind.SALES_RECEIPT, [receipt.to_metrc()], doc, f"sales-receipt:{day}:{number}"
    )


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
        raise RuleViolation(
            f"the receipt returns more of {', '.join(refused)} than it sells; nothing to record "
            "as a sale in METRC. Mark the finding explained instead"
        )
    return [
        SalesTransaction(tag, Decimal(plain(q)), unit, Decimal(f"{amount:.2f}"))
        for tag, (q, unit, amount) in totals.items()
    ]
