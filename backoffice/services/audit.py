"""The hash-chained audit log: append inside a service's transaction; verify the chain.

Each event's hash covers its own fields, the ledger rows written in its transaction and the
previous event's hash, so editing, inserting or deleting a row (or a ledger row) breaks the
chain at that row; the head row catches a deleted tail, and the heads anchored outside the
database (``audit_anchor``) catch a rolled-back file or a chain re-hashed from some row on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from backoffice.db.batches import Written, in_chunks, read_back
from backoffice.db.engine import Database
from backoffice.db.models import AuditEvent, AuditHead, LedgerEntry, table_of, utcnow
from backoffice.services import audit_anchor as anchors
from backoffice.services.actor import Actor, Permission
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


def _digest(
    event_id: int,
    at: datetime,
    username: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: str | None,
    after: str | None,
    reason: str | None,
    prev_hash: str,
    ledger: str | None = None,
) -> str:
    fields: list[Any] = [
        event_id,
        at.isoformat(),
        username,
        action,
        entity_type,
        entity_id,
        before,
        after,
        reason,
        prev_hash,
    ]
    if ledger is not None:  # events without ledger rows hash as they always did
        fields.append(ledger)
    material = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()


# The ledger columns an event's hash covers: editing a quantity, a package or a date in any
# ledger row breaks the hash of the event written in the same transaction.
_LEDGER_FIELDS = (
    LedgerEntry.id,
    LedgerEntry.package_id,
    LedgerEntry.at,
    LedgerEntry.kind,
    LedgerEntry.quantity_delta,
    LedgerEntry.unit,
    LedgerEntry.from_location_id,
    LedgerEntry.to_location_id,
    LedgerEntry.doc_type,
    LedgerEntry.doc_id,
    LedgerEntry.user_id,
    LedgerEntry.note,
)


# One encoder for every ledger line: json.dumps with options builds a new one per call, which
# is most of the cost of hashing a day's 10,000 sale rows.
_LINE_ENCODER = json.JSONEncoder(default=_json_default, separators=(",", ":"), ensure_ascii=False)


def _ledger_line(row: Sequence[Any]) -> bytes:
    return (_LINE_ENCODER.encode(list(row)) + "\n").encode()


# session.info key: ledger rows a bulk write inserted in the open transaction, hashed as written
_WRITTEN = "audit.written_ledger_rows"


@dataclass(slots=True)
class _Written:
    hasher: Any = field(default_factory=hashlib.sha256)
    first: int = 0
    last: int = 0
    usable: bool = True


def note_written_ledger_rows(session: Session, written: Written) -> None:
    """Hash ledger rows a bulk write has just inserted, as a query would return them, so the
    transaction's event need not read them back (a day's 10,000 sales, a month's 200,000).
    The event uses this hash only if the rows it would read are exactly these (see
    ``_claim_ledger_rows``); ids that do not follow on, or a column left out, make it read."""
    kept = session.info.setdefault(_WRITTEN, _Written())
    ids = written.ids
    if not kept.usable or not ids:
        return
    keys = [column.key for column in _LEDGER_FIELDS[1:]]
    follows_on = not kept.last or ids[0] == kept.last + 1
    if not follows_on or ids != list(range(ids[0], ids[0] + len(ids))) or not all(k in written.stored for k in keys):
        kept.usable = False
        return
    connection = session.connection()
    # a line is the JSON list of the row's values: each value's JSON text once per distinct value
    columns = [_json_texts(read_back(connection, table_of(LedgerEntry).c[k], written.stored[k])) for k in keys]
    update = kept.hasher.update
    for values in zip(map(str, ids), *columns, strict=True):
        update(("[" + ",".join(values) + "]\n").encode())
    kept.first, kept.last = kept.first or ids[0], ids[-1]


def _json_texts(values: list[Any]) -> list[str]:
    done: dict[Any, str] = {}
    return [done[v] if v in done else done.setdefault(v, _LINE_ENCODER.encode(v)) for v in values]


def _claim_ledger_rows(session: Session, event_id: int) -> str | None:
    """Digest of the ledger rows this transaction wrote since its last event, which are then
    marked as covered by ``event_id``. Streamed: a bulk load may have written millions."""
    session.flush()  # the ledger rows added as objects; then Core rows, without the ORM's per-row loading
    unclaimed = LedgerEntry.audit_event_id.is_(None)
    hasher, count, first, last = _hashed_as_written(session, unclaimed) or _read_and_hash(session, unclaimed)
    if not count:
        return None
    result = session.execute(
        update(LedgerEntry)
        .where(unclaimed, LedgerEntry.id.between(first, last))
        .values(audit_event_id=event_id)
        .execution_options(synchronize_session=False)
    )
    claimed = cast(CursorResult[Any], result).rowcount
    if claimed != count:
        raise RuntimeError(f"audit event {event_id}: {count} ledger rows read but {claimed} claimed")
    return hasher.hexdigest()


def _hashed_as_written(session: Session, unclaimed: Any) -> tuple[Any, int, int, int] | None:
    """The hash ``note_written_ledger_rows`` kept, if the rows not yet covered by an event are
    exactly the ones it hashed (a count and the id range, from the index)."""
    written = session.info.pop(_WRITTEN, None)
    if written is None or not written.usable or not written.last:
        return None
    count, first, last = session.execute(
        select(func.count(LedgerEntry.id), func.min(LedgerEntry.id), func.max(LedgerEntry.id)).where(unclaimed)
    ).one()
    if (count, first, last) != (written.last - written.first + 1, written.first, written.last):
        return None
    return written.hasher, count, first, last


def _read_and_hash(session: Session, unclaimed: Any) -> tuple[Any, int, int, int]:
    hasher = hashlib.sha256()
    count, first, last = 0, 0, 0
    query = select(*_LEDGER_FIELDS).where(unclaimed).order_by(LedgerEntry.id)
    for row in session.connection().execute(query.execution_options(yield_per=20_000)):
        hasher.update(_ledger_line(row))
        first, last, count = first or row.id, row.id, count + 1
    return hasher, count, first, last


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object,
    *,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event. Locks the head row, so concurrent writers extend the chain in turn."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_event_id=0, last_hash=GENESIS)
        session.add(head)
    at = (at or utcnow()).replace(microsecond=0)
    event = AuditEvent(
        id=head.last_event_id + 1,
        at=at,
        user_id=actor.user_id,
        username=actor.username,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=canonical_json(before),
        after=canonical_json(after),
        reason=reason,
        prev_hash=head.last_hash,
    )
    ledger = _claim_ledger_rows(session, event.id)
    event.hash = _digest(
        event.id,
        at,
        event.username,
        action,
        entity_type,
        event.entity_id,
        event.before,
        event.after,
        reason,
        event.prev_hash,
        ledger,
    )
    session.add(event)
    head.last_event_id, head.last_hash = event.id, event.hash
    session.info[anchors.PENDING_HEAD] = (event.id, event.hash)  # anchored outside the database on commit
    return event


@dataclass
class ChainReport:
    events_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(db: Database, actor: Actor, *, batch: int = 5000) -> ChainReport:
    """Walk the whole chain in id order and name every row where it breaks: each event's own
    fields, its link to the previous one, the ledger rows written with it, the head row,
    and the heads anchored outside the database (see ``audit_anchor``)."""
    actor.require(Permission.VIEW_AUDIT)
    report = ChainReport()
    expected_prev, expected_id = GENESIS, 1
    with db.read() as session:
        last_id = 0
        while True:
            rows = (
                session.execute(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch))
                .scalars()
                .all()
            )
            if not rows:
                break
            ledgers = _ledger_digests(session, rows[0].id, rows[-1].id)
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
                actual = _digest(
                    ev.id,
                    ev.at,
                    ev.username,
                    ev.action,
                    ev.entity_type,
                    ev.entity_id,
                    ev.before,
                    ev.after,
                    ev.reason,
                    ev.prev_hash,
                    ledgers.get(ev.id),
                )
                if actual != ev.hash:
                    report.problems.append(
                        f"audit event {ev.id} ({ev.action}) was edited, or a ledger row written with it was: "
                        "its hash does not match"
                    )
                expected_prev, expected_id = ev.hash, ev.id + 1
                last_id = ev.id
            session.expunge_all()
        head = session.get(AuditHead, 1)
        if head is not None and (head.last_event_id != last_id or head.last_hash != expected_prev):
            report.problems.append(
                f"the chain ends at event {last_id} but its head names event {head.last_event_id}: "
                "the newest rows were deleted"
            )
        report.problems += _uncovered_ledger_rows(session, last_id)
    report.problems += anchors.check(db, _hashes_of(db))
    return report


def _ledger_digests(session: Session, first: int, last: int) -> dict[int, str]:
    hashers: dict[int, Any] = {}
    query = (
        select(LedgerEntry.audit_event_id, *_LEDGER_FIELDS)
        .where(LedgerEntry.audit_event_id.between(max(first, 1), last))
        .order_by(LedgerEntry.audit_event_id, LedgerEntry.id)
    )
    for event_id, *row in session.execute(query.execution_options(yield_per=10_000)):
        hashers.setdefault(event_id or 0, hashlib.sha256()).update(_ledger_line(row))
    return {event_id: hasher.hexdigest() for event_id, hasher in hashers.items()}


def _uncovered_ledger_rows(session: Session, last_event: int) -> list[str]:
    """Ledger rows no event covers: written outside a service call, or slipped in by hand."""
    problems = []
    first_covered = session.scalar(select(func.min(LedgerEntry.id)).where(LedgerEntry.audit_event_id > 0))
    # rows from before the chain covered the ledger (0) all come before the first covered row
    stray_rule = (
        LedgerEntry.audit_event_id.is_(None)
        | (LedgerEntry.audit_event_id > last_event)
        | (LedgerEntry.audit_event_id < 0)
    )
    if first_covered:
        stray_rule = stray_rule | ((LedgerEntry.audit_event_id == 0) & (LedgerEntry.id > first_covered))
    stray = select(LedgerEntry.id).where(stray_rule).order_by(LedgerEntry.id).limit(5)
    for ledger_id in session.scalars(stray):
        problems.append(
            f"ledger row {ledger_id} is not covered by any audit event: it was added or changed outside the application"
        )
    return problems


def _hashes_of(db: Database) -> Callable[[Sequence[int]], dict[int, str]]:
    def lookup(ids: Sequence[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        with db.read() as session:
            for chunk in in_chunks(ids):
                found.update(
                    (event_id, event_hash)
                    for event_id, event_hash in session.execute(
                        select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(chunk))
                    )
                )
        return found

    return lookup


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


def list_events(db: Database, actor: Actor, text: str = "", *, offset: int = 0, limit: int = 500) -> list[AuditRow]:
    """Newest first; ``text`` matches user, action or entity."""
    actor.require(Permission.VIEW_AUDIT)
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    for word in text.split():
        like = f"%{word}%"
        query = query.where(
            AuditEvent.username.like(like)
            | AuditEvent.action.like(like)
            | AuditEvent.entity_type.like(like)
            | AuditEvent.entity_id.like(like)
        )
    with db.read() as session:
        return [
            AuditRow(e.id, e.at, e.username, e.action, f"{e.entity_type} {e.entity_id}", e.before, e.after, e.reason)
            for e in session.scalars(query.offset(offset).limit(limit))
        ]
