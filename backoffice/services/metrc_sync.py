"""Deliver the METRC outbox: in order, each call once, with retries and backoff.

The journal (``metrc_outbox``) is written in the same transaction as the change that needs
METRC to hear about it; this module sends it later, so the store keeps working while METRC
or the network is down. Rules:
- strictly in id order; the queue stops at the first entry that cannot be sent now, so a
  later change never reaches METRC before an earlier one;
- an entry is marked SENDING (committed) before its call, and SENT after it. A payload longer
  than METRC takes in one call (v2: 10 objects) goes as several calls in order, and the
  count METRC has taken is committed after each, so a retry resumes where METRC stopped;
- an entry whose answer was lost (time-out, broken connection, crash while SENDING) has an
  unknown outcome. Before it is sent again METRC is asked whether it took it (``AppliedCheck``):
  location changes by the package's room; on v2, sales receipts by their external number and
  adjustments against METRC's adjustment history. A kind the check cannot answer (v1
  adjustments and receipts) is marked FAILED for a manager to check in METRC first;
- METRC's rejections (HTTP 400) fail the entry with METRC's own text; outages retry with
  exponential backoff until ``metrc_max_attempts``;
- a manager may retry a failed entry or resolve it by hand with a note; manual-mode stores
  export pending entries as METRC upload CSVs and mark them exported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import OutboxEntry, utcnow
from backoffice.domain.enums import OutboxKind, OutboxStatus
from backoffice.errors import NotFound, RuleViolation, ValidationError
from backoffice.metrc.errors import MetrcError, MetrcUnavailable
from backoffice.services import audit, settings
from backoffice.services.actor import SYSTEM, Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.event_words import plural

IDEMPOTENT = {OutboxKind.CHANGE_LOCATION}
SENDABLE = {OutboxKind.CHANGE_LOCATION, OutboxKind.ADJUST, OutboxKind.SALES_RECEIPT}
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


class Sender(Protocol):
    """Sends one journaled call; raises a MetrcError when METRC does not take it."""

    def __call__(self, kind: OutboxKind, payload: list[dict[str, Any]]) -> None: ...


@dataclass(frozen=True)
class Attempt:
    """A call about to be sent again after its answer was lost: METRC may already have it."""

    entry_id: int
    kind: OutboxKind
    chunk: list[dict[str, Any]]  # what is about to be sent
    delivered: list[dict[str, Any]]  # earlier elements of the same entry METRC has taken
    created_at: datetime


class AppliedCheck(Protocol):
    """Asks METRC whether an earlier attempt of this call already took effect."""

    kinds: frozenset[OutboxKind]  # the kinds this check can answer for

    def __call__(self, attempt: Attempt) -> bool: ...


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: OutboxKind
    status: OutboxStatus
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    summary: str
    doc: str


@dataclass
class SyncResult:
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    stopped_at: int | None = None
    reason: str = ""
    changes: Changes = Changes.OUTBOX | Changes.AUDIT


@dataclass(frozen=True)
class EntryChange:
    """A manager's retry or resolution of one entry."""

    entry_id: int
    status: OutboxStatus
    changes: Changes = Changes.OUTBOX | Changes.AUDIT


def _summary(entry: OutboxEntry) -> str:
    payload = json.loads(entry.payload)
    if not isinstance(payload, list):
        return ""
    elements = [e for e in payload if isinstance(e, dict)]
    labels = [e.get("Label") or e.get("ExternalReceiptNumber") or "" for e in elements]
    shown = ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")
    receipts = any("ExternalReceiptNumber" in e or "Transactions" in e for e in elements)
    return f"{plural(len(payload), 'receipt' if receipts else 'package')}: {shown}"


def list_entries(
    db: Database, actor: Actor, *, statuses: set[OutboxStatus] | None = None, limit: int = 500
) -> list[OutboxRow]:
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        query = select(OutboxEntry).order_by(OutboxEntry.id).limit(limit)
        if statuses:
            query = query.where(OutboxEntry.status.in_([s.value for s in statuses]))
        return [
            OutboxRow(
                e.id,
                e.kind,
                e.status,
                e.created_at,
                e.attempts,
                e.next_attempt_at,
                e.last_error,
                _summary(e),
                f"{e.doc_type} #{e.doc_id}" if e.doc_id else e.doc_type,
            )
            for e in session.scalars(query)
        ]


def _backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_MAX)


def sync(
    db: Database,
    send: Sender,
    *,
    already_applied: AppliedCheck | None = None,
    now: Callable[[], datetime] = utcnow,
    limit: int = 100,
    chunk_size: int | None = None,
) -> SyncResult:
    """Send due entries in order until the queue is empty, waits, or stops at a failure.

    ``chunk_size`` is the most objects one call may carry (None: any). An entry whose answer
    may have been lost is first checked with ``already_applied`` when it can tell, so METRC
    does not receive the same change twice."""
    result = SyncResult()
    max_attempts = settings.read(db, settings.METRC_MAX_ATTEMPTS)
    checkable = IDEMPOTENT | (already_applied.kinds if already_applied is not None else frozenset())
    for _ in range(limit):
        with db.transaction() as session:
            entry = session.scalar(
                select(OutboxEntry)
                .where(
                    OutboxEntry.status.in_(
                        [OutboxStatus.PENDING.value, OutboxStatus.SENDING.value, OutboxStatus.FAILED.value]
                    ),
                    # receive sheets are keyed into METRC's web UI and closed by the METRC
                    # check; they must not hold back sales, which are due within 24 hours
                    OutboxEntry.kind.in_([k.value for k in SENDABLE]),
                )
                .order_by(OutboxEntry.id)
                .limit(1)
                .with_for_update()
            )
            if entry is None:
                return result
            if entry.status is OutboxStatus.FAILED:
                result.stopped_at, result.reason = entry.id, f"entry {entry.id} failed: {entry.last_error}"
                return result
            interrupted = entry.status is OutboxStatus.SENDING
            if interrupted and entry.kind not in checkable:
                entry.status = OutboxStatus.FAILED
                entry.last_error = (
                    "the previous send was interrupted and METRC may have applied it; "
                    "check METRC, then retry or resolve this entry"
                )
                audit.record(session, SYSTEM, "outbox.uncertain", "outbox", entry.id, after={"status": "failed"})
                result.failed += 1
                result.stopped_at, result.reason = entry.id, entry.last_error
                return result
            if entry.next_attempt_at is not None and entry.next_attempt_at > now():
                result.waiting += 1
                result.stopped_at, result.reason = (
                    entry.id,
                    f"entry {entry.id} waits until {entry.next_attempt_at:%H:%M:%S}",
                )
                return result
            entry.status, entry.attempts = OutboxStatus.SENDING, entry.attempts + 1
            entry_id, kind, payload, attempts = entry.id, entry.kind, json.loads(entry.payload), entry.attempts
            done, created_at = entry.sent_elements, entry.created_at
        uncertain = interrupted or attempts > 1
        size = chunk_size or len(payload) or 1
        try:
            while done < len(payload):
                chunk = payload[done : done + size]
                attempt = Attempt(entry_id, kind, chunk, payload[:done], created_at)
                check = already_applied is not None and uncertain and kind in already_applied.kinds
                if not (check and already_applied(attempt)):  # type: ignore[misc]
                    send(kind, chunk)
                uncertain = False  # the calls after the first one of this run start fresh
                done += len(chunk)
                _record_progress(db, entry_id, done, len(payload), now())
        except MetrcError as exc:
            _record_failure(db, entry_id, exc, attempts, max_attempts, now(), checkable)
            if isinstance(exc, MetrcUnavailable) and attempts < max_attempts:
                result.waiting += 1
            else:
                result.failed += 1
            result.stopped_at, result.reason = entry_id, str(exc)
            return result
        if not payload:
            _record_progress(db, entry_id, 0, 0, now())
        result.sent += 1
    return result


def _entry(session: Any, entry_id: int) -> OutboxEntry:
    entry = session.get(OutboxEntry, entry_id)
    if entry is None:
        raise NotFound(f"there is no outbox entry {entry_id}")
    return entry


def _record_progress(db: Database, entry_id: int, done: int, total: int, now: datetime) -> None:
    with db.transaction() as session:
        entry = _entry(session, entry_id)
        entry.sent_elements = done
        if done >= total:
            entry.status, entry.sent_at, entry.last_error, entry.next_attempt_at = OutboxStatus.SENT, now, None, None
            audit.record(session, SYSTEM, "outbox.sent", "outbox", entry_id, after={"kind": entry.kind.value})


def _record_failure(
    db: Database,
    entry_id: int,
    exc: MetrcError,
    attempts: int,
    max_attempts: int,
    now: datetime,
    checkable: frozenset[OutboxKind] | set[OutboxKind],
) -> None:
    with db.transaction() as session:
        entry = _entry(session, entry_id)
        entry.last_error = str(exc)
        outage = exc if isinstance(exc, MetrcUnavailable) else None
        if (
            outage is not None
            and attempts < max_attempts
            and not (outage.maybe_applied and entry.kind not in checkable)
        ):
            entry.status = OutboxStatus.PENDING
            delay = timedelta(seconds=outage.retry_after) if outage.retry_after else _backoff(attempts)
            entry.next_attempt_at = now + delay
        else:
            entry.status = OutboxStatus.FAILED
            if isinstance(exc, MetrcUnavailable) and exc.maybe_applied:
                entry.last_error += " — METRC may have applied it; check METRC before retrying"
        audit.record(
            session,
            SYSTEM,
            "outbox.failed" if entry.status is OutboxStatus.FAILED else "outbox.retry_later",
            "outbox",
            entry_id,
            after={"attempts": attempts, "error": entry.last_error[:300]},
        )


def retry(db: Database, actor: Actor, entry_id: int) -> EntryChange:
    """Put a failed entry back in the queue (after the cause was fixed)."""
    actor.require(Permission.MANAGE_OUTBOX)
    with db.transaction() as session:
        entry = _failed_entry(session, entry_id)
        entry.status, entry.next_attempt_at, entry.attempts = OutboxStatus.PENDING, None, 0
        audit.record(
            session, actor, "outbox.retry", "outbox", entry_id, before={"status": "failed"}, after={"status": "pending"}
        )
    return EntryChange(entry_id, OutboxStatus.PENDING)


def resolve(db: Database, actor: Actor, entry_id: int, note: str) -> EntryChange:
    """Close a failed entry by hand (e.g. it was entered in METRC's web UI) with a note."""
    actor.require(Permission.MANAGE_OUTBOX)
    if not note.strip():
        raise ValidationError("say how this entry was resolved (e.g. 'entered in METRC by hand')")
    with db.transaction() as session:
        entry = session.get(OutboxEntry, entry_id)
        if entry is None:
            raise NotFound(f"there is no outbox entry {entry_id}")
        if entry.status in (OutboxStatus.SENT, OutboxStatus.RESOLVED):
            raise RuleViolation(f"outbox entry {entry_id} is already {entry.status.value}")
        before = entry.status.value
        entry.status, entry.resolved_by_id, entry.resolution_note = OutboxStatus.RESOLVED, actor.user_id, note.strip()
        audit.record(
            session,
            actor,
            "outbox.resolve",
            "outbox",
            entry_id,
            before={"status": before},
            after={"status": "resolved"},
            reason=note.strip(),
        )
    return EntryChange(entry_id, OutboxStatus.RESOLVED)


def _failed_entry(session: Any, entry_id: int) -> OutboxEntry:
    entry = session.get(OutboxEntry, entry_id)
    if entry is None:
        raise NotFound(f"there is no outbox entry {entry_id}")
    if entry.status is not OutboxStatus.FAILED:
        raise RuleViolation(f"outbox entry {entry_id} is {entry.status.value}; only failed entries are retried")
    return entry
