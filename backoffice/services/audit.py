"""The hash-chained audit log: append inside a service's transaction; verify the chain.

Each event's hash covers its own fields and the previous event's hash, so editing,
inserting or deleting a row breaks the chain at that row; the head row catches a deleted
tail.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import AuditEvent, AuditHead, utcnow
from backoffice.services.actor import Actor
from backoffice.services.event_words import audit_sentence

GENESIS = "0" * 64


def canonical_json(value: Any) -> str | None:
    """Stable JSON for before/after values: sorted keys, Decimals and dates as strings."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default, ensure_ascii=False)


def _json_default(value: Any) -> str:
    if isinstance(value, (Decimal, datetime)) or hasattr(value, "isoformat"):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if hasattr(value, "value"):  # enums
        return str(value.value)
    raise TypeError(f"cannot serialise {type(value).__name__} into the audit log")


def _digest(event_id: int, at: datetime, username: str, action: str, entity_type: str,
            entity_id: str, before: str | None, after: str | None, reason: str | None,
            prev_hash: str) -> str:
    material = json.dumps(
        [event_id, at.isoformat(), username, action, entity_type, entity_id, before, after, reason, prev_hash],
        separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(material.encode()).hexdigest()


def record(session: Session, actor: Actor, action: str, entity_type: str, entity_id: object,
           *, before: Any = None, after: Any = None, reason: str | None = None,
           at: datetime | None = None) -> AuditEvent:
    """Append one event. Locks the head row, so concurrent writers extend the chain in turn."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_event_id=0, last_hash=GENESIS)
        session.add(head)
    at = (at or utcnow()).replace(microsecond=0)
    event = AuditEvent(
        id=head.last_event_id + 1, at=at, user_id=actor.user_id, username=actor.username,
        action=action, entity_type=entity_type, entity_id=str(entity_id),
        before=canonical_json(before), after=canonical_json(after), reason=reason,
        prev_hash=head.last_hash,
    )
    event.hash = _digest(event.id, at, event.username, action, entity_type, event.entity_id,
                         event.before, event.after, reason, event.prev_hash)
    session.add(event)
    head.last_event_id, head.last_hash = event.id, event.hash
    return event


@dataclass
class ChainReport:
    events_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(db: Database, *, batch: int = 5000) -> ChainReport:
    """Walk the whole chain in id order and name every row where it breaks."""
    report = ChainReport()
    expected_prev, expected_id = GENESIS, 1
    with db.read() as session:
        last_id = 0
        while True:
            rows = session.execute(
                select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
            ).scalars().all()
            if not rows:
                break
            for ev in rows:
                report.events_checked += 1
                if ev.id != expected_id:
                    report.problems.append(
                        f"audit event {expected_id} is missing (next row is {ev.id}): rows were deleted"
                    )
                if ev.prev_hash != expected_prev:
                    report.problems.append(
                        f"audit event {ev.id} does not follow event {ev.id - 1}: a row before it "
                        "was inserted, deleted or edited"
                    )
                actual = _digest(ev.id, ev.at, ev.username, ev.action, ev.entity_type, ev.entity_id,
                                 ev.before, ev.after, ev.reason, ev.prev_hash)
                if actual != ev.hash:
                    report.problems.append(f"audit event {ev.id} ({ev.action}) was edited: its hash does not match")
                expected_prev, expected_id = ev.hash, ev.id + 1
                last_id = ev.id
            session.expunge_all()
        head = session.get(AuditHead, 1)
        if head is not None and (head.last_event_id != last_id or head.last_hash != expected_prev):
            report.problems.append(
                f"the chain ends at event {last_id} but its head names event {head.last_event_id}: "
                "the newest rows were deleted"
            )
    return report


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    username: str
    action: str
    entity: str
    before: str | None
    after: str | None
    reason: str | None

    @property
    def sentence(self) -> str:
        """What happened, in words (the Audit tab shows this, not the stored JSON)."""
        entity_type, _, entity_id = self.entity.partition(" ")
        return audit_sentence(self.action, entity_type, entity_id, self.before, self.after, self.reason)


def list_events(db: Database, text: str = "", *, offset: int = 0, limit: int = 500) -> list[AuditRow]:
    """Newest first; ``text`` matches user, action or entity."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    for word in text.split():
        like = f"%{word}%"
        query = query.where(
            AuditEvent.username.like(like) | AuditEvent.action.like(like)
            | AuditEvent.entity_type.like(like) | AuditEvent.entity_id.like(like)
        )
    with db.read() as session:
        return [
            AuditRow(e.id, e.at, e.username, e.action, f"{e.entity_type} {e.entity_id}", e.before, e.after, e.reason)
            for e in session.scalars(query.offset(offset).limit(limit))
        ]
