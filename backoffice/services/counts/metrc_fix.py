"""Fixing METRC from a count line where METRC differs and the store's ledger is right.

Never "fix" a sync gap by adjusting inventory: these change METRC's number only. Either the
POS receipt that never reached METRC is queued for it (the same outbox entry reconciliation
would queue, once per receipt), or a METRC-only adjustment with a state reason and a note
goes to METRC through the outbox. Both are audited, tied to the count, and leave the store's
ledger alone. What the records already explain (an outbox entry waiting or failed) is not
corrected twice: the line says to send or retry that entry instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import (
    AdjustmentReason,
    CountExpected,
    CountMetrcFix,
    CountSession,
    Package,
    PosSaleLine,
    utcnow,
)
from backoffice.domain import variance as rule
from backoffice.domain.enums import CountStatus, FindingStatus, MetrcFixKind, OutboxKind
from backoffice.domain.numbers import parse_decimal, to_quantity
from backoffice.domain.tags import validate_tag
from backoffice.domain.units import Unit, convert
from backoffice.errors import NotFound, PermissionDenied, RuleViolation, ValidationError
from backoffice.metrc.payloads import NOTE_MAX, PackageAdjustment
from backoffice.services import audit, finding_resolution, metrc_pending, outbox, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.adjustments import seed_default_reasons
from backoffice.services.changes import Changes
from backoffice.services.counts.info import load_count
from backoffice.services.ledger import Doc

if TYPE_CHECKING:  # metrc_pending reaches the counts package through the reports package
    from backoffice.services.metrc_pending import PendingItem


@dataclass(frozen=True)
class MetrcFixOptions:
    """What can be done about one line's METRC difference."""

    tag: str
    unit: Unit
    metrc_vs_ledger: Decimal  # METRC − ledger at the snapshot
    fixed: Decimal  # METRC-only fixes already made from this count
    pending: tuple[PendingItem, ...]  # as of the snapshot
    receipts: tuple[PendingItem, ...]  # unreported sales that can be queued from here
    suggested: Decimal  # the METRC-only adjustment nothing pending accounts for (0: none needed)


@dataclass(frozen=True)
class MetrcFixResult:
    id: int
    tag: str
    kind: MetrcFixKind
    quantity: Decimal  # the change to METRC's number
    outbox_id: int
    changes: Changes = Changes.COUNTS | Changes.OUTBOX | Changes.AUDIT

    def describe(self) -> str:
        what = "receipt queued" if self.kind is MetrcFixKind.RECEIPT else "METRC-only adjustment queued"
        return f"{self.tag}: {what} ({self.quantity.normalize():+f} in METRC), outbox #{self.outbox_id}"


def _line(session: Session, actor: Actor, count_id: int, tag: str) -> tuple[CountSession, CountExpected, str]:
    count = load_count(session, count_id)
    if count.blind and count.status is CountStatus.OPEN and not actor.can(Permission.APPROVE_ADJUSTMENT):
        raise PermissionDenied("blind count: its differences are shown after submit; a manager fixes METRC before")
    tag = validate_tag(tag, strict=settings.get(session, settings.STRICT_TAGS))
    expected = session.scalar(
        select(CountExpected).where(CountExpected.session_id == count.id, CountExpected.tag == tag)
    )
    if expected is None or expected.ledger_qty is None or expected.package_id is None:
        raise NotFound(
            f"{tag} is not a line of count #{count.id} with a ledger quantity; only those can be compared with METRC"
        )
    if not count.metrc_source:
        raise RuleViolation(f"count #{count.id} has no METRC snapshot, so it cannot tell what METRC is missing")
    return count, expected, tag


def _fixed(session: Session, count_id: int, tag: str) -> Decimal:
    return sum(
        session.scalars(
            select(CountMetrcFix.quantity_delta).where(CountMetrcFix.session_id == count_id, CountMetrcFix.tag == tag)
        ),
        Decimal(0),
    )


def _options(session: Session, count: CountSession, expected: CountExpected, tag: str) -> MetrcFixOptions:
    ledger, metrc = expected.ledger_qty or Decimal(0), expected.metrc_qty
    fixed = _fixed(session, count.id, tag)
    pending = metrc_pending.pending_to_metrc(session, [tag], {tag: expected.unit}, as_of=count.snapshot_at).get(tag, [])
    gap = rule.metrc_gap(ledger, (metrc or Decimal(0)) + fixed, metrc_pending.total(pending))
    return MetrcFixOptions(
        tag,
        expected.unit,
        (metrc or Decimal(0)) - ledger,
        fixed,
        tuple(pending),
        tuple(p for p in pending if p.queueable),
        gap,
    )


def fix_options(db: Database, actor: Actor, count_id: int, tag: str) -> MetrcFixOptions:
    """What the line's METRC difference allows: receipts to queue, and the METRC-only
    adjustment left once everything pending is counted."""
    actor.require(Permission.COUNT)
    with db.read() as session:
        count, expected, tag = _line(session, actor, count_id, tag)
        return _options(session, count, expected, tag)


def _note(note: str, limit: int) -> str:
    note = " ".join(note.split())
    if not note:
        raise ValidationError("write a note saying why METRC is being corrected (what the count found)")
    if len(note) > limit:
        raise ValidationError(f"the note has {len(note)} characters; keep it to {limit}")
    return note


def queue_missing_receipt(
    db: Database, actor: Actor, count_id: int, tag: str, receipt_number: str, note: str
) -> MetrcFixResult:
    """Queue for METRC the POS receipt that sold ``tag`` and never reached METRC."""
    actor.require(Permission.RECONCILE)
    note = _note(note, 400)
    number = receipt_number.strip()
    with db.transaction() as session:
        count, expected, tag = _line(session, actor, count_id, tag)
        options = _options(session, count, expected, tag)
        item = next((p for p in options.receipts if p.receipt_number == number), None)
        if item is None or item.business_date is None:
            known = ", ".join(p.receipt_number or "?" for p in options.receipts) or "none"
            raise RuleViolation(
                f"POS receipt {number!r} is not a sale of {tag} that METRC lacks (receipts that can "
                f"be queued for this line: {known})"
            )
        if finding_resolution.metrc_has_receipt(session, number):  # METRC refuses a second receipt of that number
            raise RuleViolation(f"METRC already has a receipt numbered {number}; correct it in METRC's web interface")
        fix = CountMetrcFix(
            session_id=count.id,
            tag=tag,
            package_id=expected.package_id,
            kind=MetrcFixKind.RECEIPT,
            quantity_delta=_sold_of(session, item, tag, expected.unit),
            unit=expected.unit,
            receipt_number=number,
            note=note,
            user_id=actor.user_id,
        )
        session.add(fix)
        session.flush()
        entry = finding_resolution.queue_receipt(
            session, actor, item.business_date, number, Doc("count_metrc_fix", fix.id)
        )
        fix.outbox_id = entry.id
        for finding in finding_resolution.open_missing_in_metrc(session, item.business_date, number):
            finding.status = FindingStatus.RESOLVED
            finding.resolution_action = finding_resolution.Resolution.QUEUE_RECEIPT.value
            finding.resolution_note = f"queued from count #{count.id}: {note}"[: finding_resolution.NOTE_MAX]
            finding.resolved_by_id, finding.resolved_at, finding.outbox_id = actor.user_id, utcnow(), entry.id
        audit.record(
            session,
            actor,
            "count.metrc_receipt",
            "count",
            count.id,
            reason=note,
            after={
                "tag": tag,
                "receipt": number,
                "day": item.business_date,
                "metrc_change": fix.quantity_delta,
                "outbox": entry.id,
            },
        )
        return MetrcFixResult(
            fix.id, tag, fix.kind, fix.quantity_delta, entry.id, MetrcFixResult.changes | Changes.FINDINGS
        )


def _sold_of(session: Session, item: PendingItem, tag: str, unit: Unit) -> Decimal:
    """The receipt's quantity of ``tag`` as a change to METRC's number (a sale: negative)."""
    total = Decimal(0)
    for quantity, line_unit in session.execute(
        select(PosSaleLine.quantity, PosSaleLine.unit).where(
            PosSaleLine.business_date == item.business_date,
            PosSaleLine.receipt_number == item.receipt_number,
            PosSaleLine.tag == tag,
        )
    ):
        total += (
            quantity if line_unit is unit or line_unit.family is not unit.family else convert(quantity, line_unit, unit)
        )
    return -total


def metrc_only_adjustment(
    db: Database, actor: Actor, count_id: int, tag: str, quantity: Decimal | str | int, reason: str, note: str
) -> MetrcFixResult:
    """Correct METRC's number for ``tag`` by ``quantity`` (signed) with a state reason and a
    note; the store's ledger is not changed. Only what nothing pending accounts for can be
    corrected this way, and only towards the store's number."""
    actor.require(Permission.ADJUST)
    if not actor.can(Permission.APPROVE_ADJUSTMENT):
        raise PermissionDenied(
            "a METRC-only adjustment corrects the state's records without changing the store's; a manager makes it"
        )
    note = _note(note, NOTE_MAX)
    delta = to_quantity(parse_decimal(quantity, what="METRC adjustment quantity"), what="METRC adjustment quantity")
    if delta == 0:
        raise ValidationError("a METRC adjustment of 0 changes nothing; enter the signed difference, e.g. -2")
    seed_default_reasons(db)
    with db.transaction() as session:
        count, expected, tag = _line(session, actor, count_id, tag)
        reason_row = session.scalar(
            select(AdjustmentReason).where(AdjustmentReason.name == reason.strip(), AdjustmentReason.active)
        )
        if reason_row is None:
            raise ValidationError(f"{reason.strip()!r} is not one of this state's adjustment reasons")
        options = _options(session, count, expected, tag)
        _check_towards_store(options, delta)
        package = session.get(Package, expected.package_id)
        today = settings.calendar(session).today()
        when = max(today, package.packaged_date) if package is not None and package.packaged_date else today
        fix = CountMetrcFix(
            session_id=count.id,
            tag=tag,
            package_id=expected.package_id,
            kind=MetrcFixKind.ADJUSTMENT,
            quantity_delta=delta,
            unit=expected.unit,
            reason=reason_row.name,
            note=note,
            user_id=actor.user_id,
        )
        session.add(fix)
        session.flush()
        element = PackageAdjustment(tag, Decimal(f"{delta.normalize():f}"), expected.unit, reason_row.name, when, note)
        entry = outbox.enqueue(
            session,
            actor,
            OutboxKind.ADJUST,
            [element.to_metrc()],
            Doc("count_metrc_fix", fix.id),
            f"count-metrc-fix:{fix.id}",
        )
        fix.outbox_id = entry.id
        metrc_before = (expected.metrc_qty or Decimal(0)) + options.fixed
        audit.record(
            session,
            actor,
            "package.metrc_adjust",
            "package",
            tag,
            reason=f"{reason_row.name}: {note}",
            before={"metrc_quantity": metrc_before},
            after={
                "metrc_quantity": metrc_before + delta,
                "delta": delta,
                "count": count.id,
                "outbox": entry.id,
                "ledger": "unchanged",
            },
        )
        return MetrcFixResult(fix.id, tag, fix.kind, delta, entry.id)


def _check_towards_store(options: MetrcFixOptions, delta: Decimal) -> None:
    gap = options.suggested
    if gap == 0:
        pending = "; ".join(p.text for p in options.pending if p.quantity) or "nothing"
        raise RuleViolation(
            f"METRC's difference on {options.tag} is accounted for by what is pending ({pending}); send or retry "
            "those in the METRC tab, or queue the receipt, instead of adjusting METRC"
        )
    if (delta > 0) != (gap > 0) or abs(delta) > abs(gap):
        raise RuleViolation(
            f"METRC needs {gap.normalize():+f} {options.unit.value} to reach the store's number (after what is "
            f"pending); {delta.normalize():+f} would take it the wrong way or past it"
        )
