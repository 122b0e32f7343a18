"""The stock ledger: the only code that changes a package's quantity or location.

Every change appends a ledger row in the caller's transaction; the package's balance is
kept beside it and ``check_balances`` proves the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import LedgerEntry, Location, Package, utcnow
from backoffice.domain.enums import LedgerKind, PackageStatus
from backoffice.errors import RuleViolation
from backoffice.services.actor import Actor


@dataclass(frozen=True)
class Doc:
    """The document that caused a change (manifest 12, transfer 7, adjustment 3, …)."""

    type: str
    id: int | None


def post(session: Session, actor: Actor, package: Package, kind: LedgerKind, delta: Decimal, doc: Doc,
         *, to_location: Location | None = None, note: str | None = None,
         at: datetime | None = None) -> LedgerEntry:
    """Apply a quantity change and/or a move to ``package`` and journal it."""
    new_quantity = package.quantity + delta
    if new_quantity < 0:
        raise RuleViolation(
            f"package {package.tag} holds {package.quantity} {package.unit.value}; "
            f"taking {-delta} would leave {new_quantity}. Count it and adjust first."
        )
    entry = LedgerEntry(
        package_id=package.id, at=at or utcnow(), kind=kind, quantity_delta=delta, unit=package.unit,
        from_location_id=package.location_id if to_location is not None else None,
        to_location_id=to_location.id if to_location is not None else None,
        doc_type=doc.type, doc_id=doc.id, user_id=actor.user_id, note=note,
    )
    session.add(entry)
    package.quantity = new_quantity
    if to_location is not None:
        package.location = to_location
        package.location_id = to_location.id
    if new_quantity == 0 and package.status is not PackageStatus.FINISHED and kind in (
        LedgerKind.SALE, LedgerKind.ADJUSTMENT, LedgerKind.SPLIT_OUT
    ):
        package.status = PackageStatus.FINISHED
        package.finished_at = entry.at
    return entry


@dataclass(frozen=True)
class BalanceMismatch:
    tag: str
    package_quantity: Decimal
    ledger_quantity: Decimal


def check_balances(db: Database) -> list[BalanceMismatch]:
    """Packages whose stored quantity differs from the sum of their ledger rows."""
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
