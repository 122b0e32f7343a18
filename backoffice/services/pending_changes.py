"""Changes an imported file asked for that only a manager may make: lifting a package's hold
or its failed lab state. The import leaves the package as it was and records the change
here; a manager accepts it (the package then changes, audited with before and after) or
rejects it, with a note either way."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item, Package, PendingPackageChange, User, utcnow
from backoffice.domain.enums import LabState, PackageStatus
from backoffice.errors import NotFound, RuleViolation, ValidationError
from backoffice.services import audit
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes

_DECODE: dict[str, Any] = {"lab_state": LabState, "status": PackageStatus}


@dataclass(frozen=True)
class PendingChange:
    id: int
    tag: str
    source: str
    changes: dict[str, dict[str, str]]  # field → {"before": …, "after": …}
    status: str
    created_at: datetime
    note: str | None
    item: str
    imported_by: str | None  # None: a scheduled import with no user

    def describe(self) -> str:
        return ", ".join(f"{name} {c['before']} → {c['after']}" for name, c in self.changes.items())


@dataclass(frozen=True)
class Decision:
    change: PendingChange
    changes: Changes = Changes.INVENTORY | Changes.AUDIT


def list_changes(db: Database, actor: Actor, *, pending_only: bool = True) -> list[PendingChange]:
    actor.require(Permission.VIEW_INVENTORY)
    query = _views().order_by(PendingPackageChange.id)
    if pending_only:
        query = query.where(PendingPackageChange.status == "pending")
    with db.read() as session:
        return [_view(row, tag, item, by) for row, tag, item, by in session.execute(query)]


def _views() -> Select[PendingPackageChange, str, str, str]:  # the user is None for a scheduled import
    return (
        select(PendingPackageChange, Package.tag, Item.name, User.username)
        .join(Package, Package.id == PendingPackageChange.package_id)
        .join(Item, Item.id == Package.item_id)
        .outerjoin(User, User.id == PendingPackageChange.created_by_id)
    )


def _view(row: PendingPackageChange, tag: str, item: str, imported_by: str | None) -> PendingChange:
    return PendingChange(
        row.id, tag, row.source, json.loads(row.changes), row.status, row.created_at, row.note, item, imported_by
    )


def _view_of(session: Session, change_id: int) -> PendingChange:
    row, tag, item, by = session.execute(_views().where(PendingPackageChange.id == change_id)).one()
    return _view(row, tag, item, by)


def accept(db: Database, actor: Actor, change_id: int, note: str) -> Decision:
    """Make the change, if the package still is as the file found it."""
    return _decide(db, actor, change_id, note, accept=True)


def reject(db: Database, actor: Actor, change_id: int, note: str) -> Decision:
    """Leave the package as it is and close the change."""
    return _decide(db, actor, change_id, note, accept=False)


def _decide(db: Database, actor: Actor, change_id: int, note: str, *, accept: bool) -> Decision:
    actor.require(Permission.ACCEPT_HELD_CHANGES)
    note = note.strip()
    if not note:
        raise ValidationError("say why in a note (e.g. the COA or the METRC hold release you checked)")
    with db.transaction() as session:
        row = session.get(PendingPackageChange, change_id, with_for_update=True)
        if row is None:
            raise NotFound(f"there is no pending change #{change_id}; see the list of pending changes")
        if row.status != "pending":
            raise RuleViolation(f"change #{change_id} was already {row.status}")
        package = session.get(Package, row.package_id)
        assert package is not None  # a foreign key holds it
        fields = json.loads(row.changes)
        before = {name: getattr(package, name) for name in fields}
        if accept:
            moved = [name for name, c in fields.items() if str(getattr(package, name)) != c["before"]]
            if moved:
                raise RuleViolation(
                    f"package {package.tag} changed since the file was imported ({', '.join(moved)}); "
                    "reject this change and import a current METRC file"
                )
            for name, c in fields.items():
                setattr(package, name, _DECODE[name](c["after"]))
        row.status, row.decided_at, row.decided_by_id, row.note = (
            "accepted" if accept else "rejected",
            utcnow(),
            actor.user_id,
            note,
        )
        audit.record(
            session,
            actor,
            "package.change_accepted" if accept else "package.change_rejected",
            "package",
            package.tag,
            before=before,
            after={name: getattr(package, name) for name in fields},
            reason=f"change #{row.id} from {row.source}: {note}",
        )
        session.flush()
        return Decision(_view_of(session, row.id))
