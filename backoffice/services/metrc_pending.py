"""What the store has recorded and METRC has not applied yet, per package: the outbox entries
still waiting (pending, sending, failed), less the part of a long payload METRC already took.

Sales and adjustments change the quantity METRC will show; a location change the room it
will show; a receive sheet not yet confirmed means METRC does not list the package yet."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.models import OutboxEntry
from backoffice.domain.enums import OutboxKind, OutboxStatus

WAITING = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value, OutboxStatus.FAILED.value)


@dataclass
class Pending:
    quantity: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))  # signed, METRC's unit
    units: dict[str, str] = field(default_factory=dict)  # the unit each pending quantity is in
    rooms: dict[str, str] = field(default_factory=dict)  # the room METRC will show once applied
    receiving: dict[str, str] = field(default_factory=dict)  # tag -> manifest whose receive sheet waits
    entries: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # tag -> outbox ids

    def explains(self, tag: str) -> str:
        ids = self.entries.get(tag)
        return f" (outbox #{', #'.join(map(str, ids[:3]))})" if ids else ""


def pending_changes(session: Session) -> Pending:
    pending = Pending()
    rows = session.execute(select(OutboxEntry.id, OutboxEntry.kind, OutboxEntry.payload, OutboxEntry.sent_elements,
                                  OutboxEntry.doc_type, OutboxEntry.doc_id)
                           .where(OutboxEntry.status.in_(WAITING)).order_by(OutboxEntry.id))
    for entry_id, kind, text, sent, doc_type, doc_id in rows:
        payload = json.loads(text)
        elements = payload[sent or 0:] if isinstance(payload, list) else []
        for element in elements:
            if isinstance(element, dict):
                _add(pending, OutboxKind(kind), entry_id, element, f"{doc_type} #{doc_id}")
    return pending


def _add(pending: Pending, kind: OutboxKind, entry_id: int, element: dict[str, Any], doc: str) -> None:
    if kind is OutboxKind.ADJUST:
        _quantity(pending, entry_id, element.get("Label"), element.get("Quantity"), element.get("UnitOfMeasure"), 1)
    elif kind is OutboxKind.SALES_RECEIPT:
        for line in element.get("Transactions") or []:
            if isinstance(line, dict):
                _quantity(pending, entry_id, line.get("PackageLabel"), line.get("Quantity"), line.get("UnitOfMeasure"),
                          -1)
    elif kind is OutboxKind.CHANGE_LOCATION and element.get("Label"):
        tag = str(element["Label"])
        pending.rooms[tag] = str(element.get("Location") or "")
        pending.entries[tag].append(entry_id)
    elif kind is OutboxKind.RECEIVE_CONFIRM:
        tag = str(element.get("Label") or element.get("PackageLabel") or "")
        if tag:
            pending.receiving[tag] = doc
            pending.entries[tag].append(entry_id)


def _quantity(pending: Pending, entry_id: int, tag: Any, quantity: Any, unit: Any, sign: int) -> None:
    if not tag:
        return
    try:
        amount = Decimal(str(quantity))
    except (InvalidOperation, ValueError):
        return
    pending.quantity[str(tag)] += sign * amount
    pending.units.setdefault(str(tag), str(unit or ""))
    pending.entries[str(tag)].append(entry_id)
