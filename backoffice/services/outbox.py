"""Journal METRC calls in the same transaction as the change that needs them.

Sending (the connector's worker) and manual CSV export read from this journal; nothing
here talks to the network, so a store keeps working while METRC is down.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.models import OutboxEntry
from backoffice.domain.enums import OutboxKind
from backoffice.services.actor import Actor
from backoffice.services.audit import canonical_json
from backoffice.services.ledger import Doc

ENDPOINTS: dict[OutboxKind, str] = {
    OutboxKind.CHANGE_LOCATION: "packages/v1/change/locations",
    OutboxKind.ADJUST: "packages/v1/adjust",
    OutboxKind.SALES_RECEIPT: "sales/v1/receipts",
    # Receiving decisions are keyed into METRC's web UI, not sent by API: this entry is the
    # reminder and is closed when METRC shows the packages accepted.
    OutboxKind.RECEIVE_CONFIRM: "web-ui/transfers/receive",
}


def enqueue(
    session: Session,
    actor: Actor,
    kind: OutboxKind,
    payload: list[dict[str, Any]] | dict[str, Any],
    doc: Doc,
    idempotency_key: str,
) -> OutboxEntry:
    """Add a call to the journal once; the same key enqueued again returns the first entry."""
    existing = session.scalar(select(OutboxEntry).where(OutboxEntry.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    entry = OutboxEntry(
        kind=kind,
        endpoint=ENDPOINTS[kind],
        payload=canonical_json(payload) or "[]",
        idempotency_key=idempotency_key,
        doc_type=doc.type,
        doc_id=doc.id,
        created_by_id=actor.user_id,
    )
    session.add(entry)
    session.flush()
    return entry


def payload_of(entry: OutboxEntry) -> Any:
    return json.loads(entry.payload)
