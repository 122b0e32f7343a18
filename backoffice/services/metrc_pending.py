"""Pending to METRC: per package, what the store has recorded that METRC has not applied yet.

Two kinds: METRC outbox entries not applied (waiting, being sent, failed, exported to an
upload file and not confirmed, or sent only after the moment asked about) — adjustments,
location changes and sales receipts — and POS sales imported with no matching METRC receipt
line. A sale is checked only on business days whose METRC receipts are in this store's
records (fetched or imported): on other days there is nothing to check it against. A sale
whose receipt is already in the outbox is that outbox entry, not counted twice.

Quantities are the signed change to METRC's number in the package's unit (a sale: −2);
a location change changes no quantity. ``domain.variance.metrc_gap`` weighs them. The cycle
count uses this as of its METRC snapshot; the METRC drift check as of now.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backoffice.db.models import MetrcReceipt, MetrcReceiptLine, OutboxEntry, PosSaleLine
from backoffice.domain.enums import OutboxKind, OutboxStatus
from backoffice.domain.numbers import parse_decimal
from backoffice.domain.units import Unit, convert, parse_unit
from backoffice.errors import ValidationError
from backoffice.services.reports.store_time import store_zone

CHUNK = 400
UNREPORTED_SALE = "unreported sale"  # METRC has no receipt of that number
UNREPORTED_LINE = "unreported line"  # METRC has the receipt, without (all of) this package's line
UNAPPLIED = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED, OutboxStatus.EXPORTED)
_QUANTITY_KINDS = (OutboxKind.ADJUST, OutboxKind.CHANGE_LOCATION, OutboxKind.SALES_RECEIPT)


@dataclass(frozen=True)
class PendingItem:
    tag: str
    kind: str  # "adjustment", "location change", "sales receipt" (outbox), or an unreported sale or line
    quantity: Decimal  # the signed change METRC has not applied, in the package's unit
    text: str  # what it is, in a sentence a person can act on
    outbox_id: int | None = None
    failed: bool = False
    receipt_number: str | None = None  # the POS receipt (sales only)
    business_date: date | None = None  # the POS business day (unreported sales)

    @property
    def queueable(self) -> bool:
        """A sale METRC has no receipt of at all can be queued for METRC (METRC refuses a second
        receipt with the same number: a missing line is fixed in its web interface)."""
        return self.kind == UNREPORTED_SALE


def pending_to_metrc(session: Session, tags: Sequence[str], units: Mapping[str, Unit], *,
                     as_of: datetime | None = None) -> dict[str, list[PendingItem]]:
    """Everything pending to METRC for ``tags`` (each in its package unit ``units[tag]``) as of
    ``as_of`` (None: now)."""
    zone = store_zone(session)
    found = outbox_pending(session, set(tags), units, as_of=as_of, zone=zone)
    for tag, items in unreported_sales(session, tags, units, as_of=as_of, zone=zone).items():
        found.setdefault(tag, []).extend(items)
    return found


def total(items: Sequence[PendingItem]) -> Decimal:
    return sum((item.quantity for item in items), Decimal(0))


# --- outbox -----------------------------------------------------------------------------------

def outbox_pending(session: Session, tags: Collection[str] | None, units: Mapping[str, Unit], *,
                   as_of: datetime | None = None, zone: tzinfo | None = None) -> dict[str, list[PendingItem]]:
    """Outbox entries journaled by ``as_of`` that METRC had not applied by then (``tags`` None: every package)."""
    query = select(OutboxEntry).where(OutboxEntry.kind.in_(_QUANTITY_KINDS))
    if as_of is None:
        query = query.where(OutboxEntry.status.in_(UNAPPLIED))
    else:
        query = query.where(OutboxEntry.created_at <= as_of, or_(
            OutboxEntry.status.in_(UNAPPLIED),
            (OutboxEntry.status == OutboxStatus.SENT) & (OutboxEntry.sent_at > as_of)))
    zone = zone or store_zone(session)
    found: dict[str, list[PendingItem]] = defaultdict(list)
    for entry in session.scalars(query.order_by(OutboxEntry.id)):
        state = _state(entry, as_of)
        for tag, quantity, unit, what in _elements(entry, zone):
            if tags is not None and tag not in tags:
                continue
            change = _in_unit(quantity, unit, units.get(tag))
            found[tag].append(PendingItem(
                tag, _KIND_WORDS[entry.kind], change, f"{what} is {state} in the METRC outbox (#{entry.id})",
                outbox_id=entry.id, failed=entry.status is OutboxStatus.FAILED,
                receipt_number=_receipt_number(entry) if entry.kind is OutboxKind.SALES_RECEIPT else None))
    return dict(found)


_KIND_WORDS = {OutboxKind.ADJUST: "adjustment", OutboxKind.CHANGE_LOCATION: "location change",
               OutboxKind.SALES_RECEIPT: "sales receipt"}


def _state(entry: OutboxEntry, as_of: datetime | None) -> str:
    if entry.status is OutboxStatus.SENT:
        return f"sent after {'the snapshot' if as_of else 'now'}" if entry.sent_at else "sent"
    if entry.status is OutboxStatus.FAILED:
        return f"failed ({(entry.last_error or 'no reason given')[:120]})"
    if entry.status is OutboxStatus.EXPORTED:
        return "exported for METRC's upload page and not confirmed"
    return "being sent" if entry.status is OutboxStatus.SENDING else "waiting"


def _elements(entry: OutboxEntry, zone: tzinfo) -> list[tuple[str, Decimal, Unit | None, str]]:
    """(tag, signed change to METRC's quantity, unit, description) per package the entry touches."""
    try:
        payload: Any = json.loads(entry.payload)
        out = []
        for element in payload if isinstance(payload, list) else [payload]:
            if entry.kind is OutboxKind.ADJUST:
                quantity = parse_decimal(element["Quantity"], what="Quantity")
                unit = parse_unit(str(element["UnitOfMeasure"]))
                out.append((element["Label"], quantity, unit,
                            f"adjustment {quantity.normalize():+f} {unit.value} ({element['AdjustmentReason']})"))
            elif entry.kind is OutboxKind.CHANGE_LOCATION:
                out.append((element["Label"], Decimal(0), None, f"location change to {element['Location']}"))
            else:
                number = element.get("ExternalReceiptNumber") or "?"
                for line in element.get("Transactions", []):
                    quantity = parse_decimal(line["Quantity"], what="Quantity")
                    unit = parse_unit(str(line["UnitOfMeasure"]))
                    out.append((line["PackageLabel"], -quantity, unit,
                                f"POS receipt {number} ({quantity.normalize():f} {unit.value} sold)"))
        return out
    except (KeyError, TypeError, ValueError, ValidationError):  # a hand-edited payload: shown, not guessed
        return []


def _receipt_number(entry: OutboxEntry) -> str | None:
    try:
        payload = json.loads(entry.payload)
        first = payload[0] if isinstance(payload, list) else payload
        return str(first.get("ExternalReceiptNumber")) if first.get("ExternalReceiptNumber") else None
    except (TypeError, ValueError, IndexError, AttributeError):
        return None


def _in_unit(quantity: Decimal, unit: Unit | None, target: Unit | None) -> Decimal:
    if unit is None or target is None or unit is target or unit.family is not target.family:
        return quantity
    return convert(quantity, unit, target).quantize(Decimal("0.0001"))


# --- POS sales METRC has no receipt line for ---------------------------------------------------

def unreported_sales(session: Session, tags: Sequence[str], units: Mapping[str, Unit], *,
                     as_of: datetime | None = None, zone: tzinfo | None = None) -> dict[str, list[PendingItem]]:
    """POS sales of ``tags`` sold by ``as_of`` that METRC's receipts (of the same number) lack,
    on business days whose METRC receipts this store has."""
    zone = zone or store_zone(session)
    checked_days = select(MetrcReceipt.business_date).distinct().scalar_subquery()
    found: dict[str, list[PendingItem]] = defaultdict(list)
    ordered = sorted(set(tags))
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        query = select(PosSaleLine.tag, PosSaleLine.receipt_number, PosSaleLine.business_date, PosSaleLine.sold_at,
                       PosSaleLine.quantity, PosSaleLine.unit).where(
            PosSaleLine.tag.in_(chunk), PosSaleLine.business_date.in_(checked_days))
        if as_of is not None:
            query = query.where(PosSaleLine.sold_at <= as_of)
        sold: dict[tuple[str, str, date], list[Any]] = {}
        for tag, number, day, sold_at, quantity, unit in session.execute(query):
            key = (tag, number, day)
            change = _in_unit(quantity, unit, units.get(tag))
            if key in sold:
                sold[key][0] += change
                sold[key][1] = min(sold[key][1], sold_at)
            else:
                sold[key] = [change, sold_at]
        if not sold:
            continue
        in_metrc = _metrc_quantities(session, chunk, {number for _, number, _ in sold}, units)
        queued = _queued_receipts(session, {(day, number) for _, number, day in sold})
        for (tag, number, day), (quantity, sold_at) in sorted(sold.items(), key=lambda kv: kv[1][1]):
            missing = quantity - in_metrc.get((number, tag), Decimal(0))
            if missing <= 0 or (day, number) in queued:
                continue  # METRC has it, or the outbox entry for the receipt stands for it
            unit = units.get(tag)
            has_receipt = (number, None) in in_metrc
            what = ("has no line for this package in METRC's receipt of that number" if has_receipt
                    else "never reached METRC")
            found[tag].append(PendingItem(
                tag, UNREPORTED_LINE if has_receipt else UNREPORTED_SALE, -missing,
                f"POS receipt {number} ({missing.normalize():f}{' ' + unit.value if unit else ''} sold "
                f"{sold_at.astimezone(zone):%Y-%m-%d %H:%M}) {what}", receipt_number=number, business_date=day))
    return dict(found)


def _metrc_quantities(session: Session, tags: Sequence[str], numbers: set[str],
                      units: Mapping[str, Unit]) -> dict[tuple[str, str | None], Decimal]:
    """METRC's receipt lines by (POS receipt number, tag), plus (number, None) for every
    receipt number METRC has at all."""
    found: dict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
    ordered = sorted(numbers)
    for start in range(0, len(ordered), CHUNK):
        part = ordered[start:start + CHUNK]
        receipts = dict(session.execute(select(MetrcReceipt.id, MetrcReceipt.external_receipt_number).where(
            MetrcReceipt.external_receipt_number.in_(part))).all())
        receipts.update(session.execute(select(MetrcReceipt.id, MetrcReceipt.receipt_number).where(
            MetrcReceipt.receipt_number.in_(part))).all())
        for number in receipts.values():
            found[(number, None)] += 0
        if not receipts:
            continue
        for receipt_id, tag, quantity, unit in session.execute(
                select(MetrcReceiptLine.receipt_id, MetrcReceiptLine.tag, MetrcReceiptLine.quantity,
                       MetrcReceiptLine.unit).where(MetrcReceiptLine.receipt_id.in_(list(receipts)),
                                                    MetrcReceiptLine.tag.in_(tags))):
            found[(receipts[receipt_id], tag)] += _in_unit(quantity, unit, units.get(tag))
    return dict(found)


def _queued_receipts(session: Session, receipts: set[tuple[date, str]]) -> set[tuple[date, str]]:
    """Which of these POS receipts already have an outbox entry (reconciliation's key)."""
    keys = {f"sales-receipt:{day}:{number}": (day, number) for day, number in receipts}
    found: set[tuple[date, str]] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), CHUNK):
        found.update(keys[k] for k in session.scalars(select(OutboxEntry.idempotency_key).where(
            OutboxEntry.idempotency_key.in_(ordered[start:start + CHUNK]))))
    return found
