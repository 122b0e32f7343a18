"""A count as callers see it (``CountInfo``), and the lookups every part of a count shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.db.batches import IN_CHUNK
from backoffice.db.engine import Database
from backoffice.db.models import CountEntry, CountExpected, CountSession, User
from backoffice.domain.enums import CountStatus
from backoffice.errors import NotFound, RuleViolation
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.counts.scope import Scope

CHUNK = IN_CHUNK  # bounded IN lists (SQLite caps the parameters of one statement)


@dataclass(frozen=True)
class CountInfo:
    id: int
    name: str
    scope: Scope
    blind: bool
    status: CountStatus
    snapshot_at: datetime
    started_by: str
    pos_source: str | None
    metrc_source: str | None
    expected_lines: int  # packages the ledger expects in scope
    counted_lines: int  # of those, counted so far
    entries: int
    submitted_at: datetime | None
    submitted_by: str | None
    lines_counted: int | None
    lines_matching: int | None
    unit_variance: Decimal | None
    dollar_variance: Decimal | None
    metrc_lines_compared: int | None  # frozen at submit, for counts with a METRC snapshot
    metrc_lines_agreeing: int | None
    notes: tuple[str, ...] = ()  # what the snapshot could not place (start only)
    changes: Changes = Changes.COUNTS | Changes.AUDIT

    @property
    def is_open(self) -> bool:
        return self.status is CountStatus.OPEN

    @property
    def accuracy(self) -> Decimal | None:
        """Share of counted lines that matched, in %, once submitted."""
        if not self.lines_counted or self.lines_matching is None:
            return None
        return (Decimal(self.lines_matching) * 100 / self.lines_counted).quantize(Decimal("0.1"))

    @property
    def metrc_agreement(self) -> Decimal | None:
        """Share of counted lines where METRC agreed with the count, in %, once submitted."""
        if not self.metrc_lines_compared or self.metrc_lines_agreeing is None:
            return None
        return (Decimal(self.metrc_lines_agreeing) * 100 / self.metrc_lines_compared).quantize(Decimal("0.1"))


def load_count(session: Session, count_id: int, *, lock: bool = False, share: bool = False) -> CountSession:
    query = select(CountSession).where(CountSession.id == count_id)
    if lock or share:
        query = query.with_for_update(read=share and not lock)
    count = session.scalar(query)
    if count is None:
        raise NotFound(f"there is no count #{count_id}")
    return count


def open_count(session: Session, count_id: int, *, lock: bool = False) -> CountSession:
    """The count, share-locked so a submit waits for entries in flight (and vice versa)."""
    count = load_count(session, count_id, lock=lock, share=not lock)
    if count.status is not CountStatus.OPEN:
        raise RuleViolation(
            f"count #{count.id} ({count.name}) was submitted {count.submitted_at:%Y-%m-%d %H:%M} UTC and is frozen; "
            "correct inventory with an adjustment instead"
        )
    return count


def usernames(session: Session) -> dict[int | None, str]:
    names: dict[int | None, str] = dict(session.execute(select(User.id, User.username)).all())
    names[None] = "system"
    return names


def count_info(session: Session, count: CountSession) -> CountInfo:
    names = usernames(session)
    in_ledger = (CountExpected.session_id == count.id, CountExpected.ledger_qty.is_not(None))
    expected = session.scalar(select(func.count()).select_from(CountExpected).where(*in_ledger))
    counted = session.scalar(
        select(func.count(CountEntry.tag.distinct()))
        .join(
            CountExpected, (CountExpected.session_id == CountEntry.session_id) & (CountExpected.tag == CountEntry.tag)
        )
        .where(CountEntry.session_id == count.id, *in_ledger)
    )
    entries = session.scalar(select(func.count()).select_from(CountEntry).where(CountEntry.session_id == count.id))
    return CountInfo(
        count.id,
        count.name,
        Scope.from_json(count.scope),
        count.blind,
        count.status,
        count.snapshot_at,
        names.get(count.started_by_id, "?"),
        count.pos_source,
        count.metrc_source,
        int(expected or 0),
        int(counted or 0),
        int(entries or 0),
        count.submitted_at,
        names.get(count.submitted_by_id) if count.submitted_by_id else None,
        count.lines_counted,
        count.lines_matching,
        count.unit_variance,
        count.dollar_variance,
        count.metrc_lines_compared,
        count.metrc_lines_agreeing,
    )


def get_count(db: Database, actor: Actor, count_id: int) -> CountInfo:
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        return count_info(session, load_count(session, count_id))


def list_counts(db: Database, actor: Actor, *, limit: int = 100) -> list[CountInfo]:
    """Newest first."""
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        return [
            count_info(session, c)
            for c in session.scalars(select(CountSession).order_by(CountSession.id.desc()).limit(limit))
        ]
