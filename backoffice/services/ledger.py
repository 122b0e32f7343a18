"""The stock ledger: the only code that changes a package's quantity or location.

Every change appends a ledger row in the caller's transaction; the package's balance is
kept beside it and ``check_balances`` proves the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.db.batches import in_chunks, insert_rows, insert_rows_written, update_rows
from backoffice.db.engine import Database
from backoffice.db.models import LedgerEntry, Location, Package, table_of, utcnow
from backoffice.domain.enums import LedgerKind, PackageStatus
from backoffice.errors import RuleViolation
from backoffice.services import audit
from backoffice.services.actor import Actor, Permission


@dataclass(frozen=True)
class Doc:
    """The document that caused a change (manifest 12, transfer 7, adjustment 3, …)."""

    type: str
    id: int | None


def post(
    session: Session,
    actor: Actor,
    package: Package,
    kind: LedgerKind,
    delta: Decimal,
    doc: Doc,
    *,
    to_location: Location | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Apply a quantity change and/or a move to ``package`` and journal it."""
    new_quantity = package.quantity + delta
    if new_quantity < 0:
        raise RuleViolation(
            f"package {package.tag} holds {package.quantity} {package.unit.value}; "
            f"taking {-delta} would leave {new_quantity}. Count it and adjust first."
        )
    entry = LedgerEntry(
        package_id=package.id,
        at=at or utcnow(),
        kind=kind,
        quantity_delta=delta,
        unit=package.unit,
        from_location_id=package.location_id if to_location is not None else None,
        to_location_id=to_location.id if to_location is not None else None,
        doc_type=doc.type,
        doc_id=doc.id,
        user_id=actor.user_id,
        note=note,
    )
    session.add(entry)
    package.quantity = new_quantity
    if to_location is not None:
        if to_location.id != package.location_id:
            package.bin = None  # a bin is a place in one room: a package on the floor is in no vault bin
        package.location = to_location
        package.location_id = to_location.id
    if (
        new_quantity == 0
        and package.status is not PackageStatus.FINISHED
        and kind in (LedgerKind.SALE, LedgerKind.ADJUSTMENT, LedgerKind.SPLIT_OUT)
    ):
        package.status = PackageStatus.FINISHED
        package.finished_at = entry.at
    return entry


@dataclass(frozen=True, slots=True)  # a month's import makes 100,000 of them
class Posting:
    """One quantity change for ``post_many`` (no move)."""

    package_id: int
    kind: LedgerKind
    delta: Decimal
    doc: Doc
    at: datetime
    note: str | None = None


def post_many(session: Session, actor: Actor, postings: Sequence[Posting]) -> None:
    """``post`` for thousands of quantity changes at once (a day's POS sales): the same rules,
    applied in the order given, written with one statement per table instead of one ORM
    object per row. Nothing here puts stock back into a finished package (a return does not reopen it).
    ORM Package objects already loaded in ``session`` are expired, so they reload."""
    ids = sorted({p.package_id for p in postings})
    state: dict[int, dict[str, Any]] = {}
    session.flush()  # then Core rows: the ORM's per-row loading is not needed here
    connection = session.connection()
    for chunk in in_chunks(ids):
        for row in connection.execute(select(*_STATE).where(Package.id.in_(chunk)).with_for_update()):
            state[row.id] = dict(zip(_STATE_KEYS, row, strict=True))
    started = {pid: pkg["status"] for pid, pkg in state.items()}
    for p in postings:
        pkg = state[p.package_id]
        new_quantity = pkg["quantity"] + p.delta
        if new_quantity < 0:
            raise RuleViolation(
                f"package {pkg['tag']} holds {pkg['quantity']} {pkg['unit'].value}; "
                f"taking {-p.delta} would leave {new_quantity}. Count it and adjust first."
            )
        pkg["quantity"] = new_quantity
        if new_quantity == 0 and pkg["status"] is not PackageStatus.FINISHED and p.kind in _FINISHING:
            pkg["status"], pkg["finished_at"] = PackageStatus.FINISHED, p.at
        elif p.delta > 0 and pkg["status"] is PackageStatus.FINISHED:
            raise RuleViolation(f"package {pkg['tag']} is finished; only a manager's adjustment brings it back")
    if not postings:
        return
    # in index order: each package's rows go to one place in the (package, time) index; the
    # rows are built a statement (10,000) at a time, so a month's sales are not all held as dicts
    ordered = sorted(postings, key=lambda p: (p.package_id, p.at))
    table = table_of(LedgerEntry)
    for batch in in_chunks(ordered, 10_000):
        rows = [
            {
                "package_id": p.package_id,
                "at": p.at,
                "kind": p.kind,
                "quantity_delta": p.delta,
                "unit": state[p.package_id]["unit"],
                "from_location_id": None,
                "to_location_id": None,
                "doc_type": p.doc.type,
                "doc_id": p.doc.id,
                "user_id": actor.user_id,
                "note": p.note,
            }
            for p in batch
        ]
        written = insert_rows_written(connection, table, rows)
        if written is not None:  # SQLite: the audit event hashes the rows as written, without reading them back
            audit.note_written_ledger_rows(session, written)
        else:
            insert_rows(connection, table, rows)
    # only the packages that finish get their status written: status is in two of the package
    # indexes, and setting it (even to the same value) rewrites their entries
    finishing = {pid for pid, pkg in state.items() if pkg["status"] is not started[pid]}
    changes = sorted(state.items())
    update_rows(
        connection,
        table_of(Package),
        ("id",),
        [
            {"id": pid, "quantity": pkg["quantity"], "version": pkg["version"] + 1}
            for pid, pkg in changes
            if pid not in finishing
        ],
    )
    update_rows(
        connection,
        table_of(Package),
        ("id",),
        [
            {
                "id": pid,
                "quantity": pkg["quantity"],
                "status": pkg["status"],
                "finished_at": pkg["finished_at"],
                "version": pkg["version"] + 1,
            }
            for pid, pkg in changes
            if pid in finishing
        ],
    )
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Package) and obj.id in state:
            session.expire(obj)


_FINISHING = (LedgerKind.SALE, LedgerKind.ADJUSTMENT, LedgerKind.SPLIT_OUT)
# what post_many reads of each package, as plain dicts (a Row's _asdict costs more than the query)
_STATE = (Package.id, Package.tag, Package.quantity, Package.unit, Package.status, Package.finished_at, Package.version)
_STATE_KEYS = tuple(column.key for column in _STATE)


@dataclass(frozen=True)
class BalanceMismatch:
    tag: str
    package_quantity: Decimal
    ledger_quantity: Decimal


def check_balances(db: Database, actor: Actor) -> list[BalanceMismatch]:
    """Packages whose stored quantity differs from the sum of their ledger rows (part of
    verifying the audit trail, so it needs the same permission)."""
    actor.require(Permission.VIEW_AUDIT)
    with db.read() as session:
        sums = (
            select(LedgerEntry.package_id, func.sum(LedgerEntry.quantity_delta).label("total"))
            .group_by(LedgerEntry.package_id)
            .subquery()
        )
        rows = session.execute(
            select(Package.tag, Package.quantity, sums.c.total)
            .outerjoin(sums, sums.c.package_id == Package.id)
            .where(func.coalesce(sums.c.total, 0) != Package.quantity)
        ).all()
    return [BalanceMismatch(tag, qty, Decimal(total or 0)) for tag, qty, total in rows]
