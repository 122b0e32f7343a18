"""Room-to-room transfers with transfer-before-move.

DRAFT → RECORDED: the METRC location change is written to the ledger (the package's
location becomes the destination) and queued for METRC, *before* anyone carries product.
RECORDED → MOVED: every package was scanned at the destination. A scan at a destination
without a recorded transfer there is refused (``NotRecorded`` carries what the UI needs to
offer "create and record it now"). A package is in at most one open transfer. Whole
packages move; part of a package is first split into a new package with a tag from the
store's pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Location, Package, Transfer, TransferLine, utcnow
from backoffice.domain.enums import LedgerKind, LocationKind, OutboxKind, PackageStatus, TransferStatus
from backoffice.domain.numbers import parse_decimal, to_quantity
from backoffice.errors import NotFound, RuleViolation, ValidationError
from backoffice.services import audit, ledger, outbox, tag_pool
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.locations import location_named
from backoffice.services.tags import checked_tag

OPEN = (TransferStatus.DRAFT, TransferStatus.RECORDED)


class NotRecorded(RuleViolation):
    """A package was scanned at a destination before its location change was recorded."""

    def __init__(
        self, message: str, *, tag: str, from_location: str, to_location: str, draft_transfer_id: int | None = None
    ) -> None:
        super().__init__(message)
        self.tag, self.from_location, self.to_location = tag, from_location, to_location
        self.draft_transfer_id = draft_transfer_id


@dataclass(frozen=True)
class LineInfo:
    tag: str
    item: str
    quantity: Decimal
    unit: str
    moved: bool
    split_from: str | None


@dataclass(frozen=True)
class TransferInfo:
    id: int
    status: TransferStatus
    from_location: str
    to_location: str
    created_at: datetime
    recorded_at: datetime | None
    moved_at: datetime | None
    lines: list[LineInfo] = field(default_factory=list)
    changes: Changes = Changes.TRANSFERS | Changes.INVENTORY
    split_tag: str | None = None  # the pool tag a split put on the new package

    @property
    def moved_count(self) -> int:
        return sum(1 for line in self.lines if line.moved)


# --- look-ups ---------------------------------------------------------------------------------


def _package(session: Session, tag: str) -> Package:
    tag = checked_tag(session, tag)
    pkg = session.scalar(select(Package).where(Package.tag == tag))
    if pkg is None:
        raise NotFound(f"tag {tag} is not in this store's inventory; check the label or receive its manifest first")
    return pkg


def _transfer(session: Session, transfer_id: int) -> Transfer:
    transfer = session.get(Transfer, transfer_id)
    if transfer is None:
        raise NotFound(f"there is no transfer #{transfer_id}")
    return transfer


def _open_line(session: Session, package_id: int) -> TransferLine | None:
    return session.scalar(
        select(TransferLine)
        .join(Transfer)
        .where(TransferLine.package_id == package_id, Transfer.status.in_(OPEN), TransferLine.moved_at.is_(None))
    )


def _info(session: Session, transfer: Transfer) -> TransferInfo:
    names = dict(session.execute(select(Location.id, Location.name)).all())
    lines = []
    for line in transfer.lines:
        pkg = session.get_one(Package, line.package_id)
        source = session.get(Package, line.split_from_package_id) if line.split_from_package_id else None
        lines.append(
            LineInfo(
                pkg.tag,
                pkg.item.name,
                line.quantity,
                pkg.unit.value,
                line.moved_at is not None,
                source.tag if source else None,
            )
        )
    return TransferInfo(
        transfer.id,
        transfer.status,
        names[transfer.from_location_id],
        names[transfer.to_location_id],
        transfer.created_at,
        transfer.recorded_at,
        transfer.moved_at,
        lines,
    )


def get_transfer(db: Database, actor: Actor, transfer_id: int) -> TransferInfo:
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        return _info(session, _transfer(session, transfer_id))


def list_transfers(db: Database, actor: Actor, *, open_only: bool = False, limit: int = 200) -> list[TransferInfo]:
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        query = select(Transfer).order_by(Transfer.id.desc()).limit(limit)
        if open_only:
            query = query.where(Transfer.status.in_(OPEN))
        return [_info(session, t) for t in session.scalars(query)]


# --- building a draft -------------------------------------------------------------------------


def _check_movable(session: Session, pkg: Package, source: Location, destination: Location) -> None:
    if pkg.status is PackageStatus.FINISHED:
        raise RuleViolation(f"package {pkg.tag} is finished (empty); it cannot move")
    if pkg.status is PackageStatus.ON_HOLD and destination.kind is LocationKind.FLOOR:
        raise RuleViolation(f"package {pkg.tag} is on hold; on-hold product may not go to the sales floor")
    if destination.kind is LocationKind.FLOOR and not pkg.lab_state.sellable:
        raise RuleViolation(
            f"package {pkg.tag} has lab state {pkg.lab_state.value}; only TestPassed, RetestPassed, NotRequired "
            "or Remediated product may go to the sales floor"
        )
    if pkg.location_id != source.id:
        raise RuleViolation(f"package {pkg.tag} is in {pkg.location.name}, not in {source.name}")
    if pkg.quantity <= 0:
        raise RuleViolation(f"package {pkg.tag} holds nothing to move")
    line = _open_line(session, pkg.id)
    if line is not None:
        raise RuleViolation(
            f"package {pkg.tag} is already on open transfer #{line.transfer_id}; finish or cancel that one first"
        )


def create_transfer(
    db: Database,
    actor: Actor,
    from_location: str,
    to_location: str,
    tags: list[str],
    *,
    note: str | None = None,
    splits: Sequence[tuple[str, Decimal | str]] = (),
) -> TransferInfo:
    """A draft of whole packages (``tags``) and of parts of packages (``splits``: tag, quantity),
    each part cut into a new package with a tag from the pool; all in one transaction."""
    actor.require(Permission.TRANSFER)
    if from_location == to_location:
        raise ValidationError("a transfer needs two different locations")
    with db.transaction() as session:
        source, destination = location_named(session, from_location), location_named(session, to_location)
        transfer = Transfer(
            from_location_id=source.id,
            to_location_id=destination.id,
            created_by_id=actor.user_id,
            note=note,
            status=TransferStatus.DRAFT,
        )
        session.add(transfer)
        session.flush()
        for tag in dict.fromkeys(tags):  # a tag listed twice is one line
            _add_line(session, transfer, source, destination, _package(session, tag))
        audit.record(
            session,
            actor,
            "transfer.create",
            "transfer",
            transfer.id,
            after={"from": source.name, "to": destination.name, "tags": [p for p in dict.fromkeys(tags)]},
        )
        for tag, quantity in splits:
            _split(session, actor, transfer, tag, parse_decimal(quantity, what=f"split quantity of {tag}"))
        return _info(session, transfer)


def _add_line(
    session: Session,
    transfer: Transfer,
    source: Location,
    destination: Location,
    pkg: Package,
    *,
    split_from: Package | None = None,
) -> None:
    _check_movable(session, pkg, source, destination)
    line = TransferLine(
        package_id=pkg.id, quantity=pkg.quantity, split_from_package_id=split_from.id if split_from else None
    )
    transfer.lines.append(line)  # saved through the relationship's cascade
    session.flush()


def _draft(session: Session, transfer_id: int) -> Transfer:
    transfer = _transfer(session, transfer_id)
    if transfer.status is not TransferStatus.DRAFT:
        raise RuleViolation(f"transfer #{transfer.id} is {transfer.status.value}; only a draft can be changed")
    return transfer


def add_package(db: Database, actor: Actor, transfer_id: int, tag: str) -> TransferInfo:
    actor.require(Permission.TRANSFER)
    with db.transaction() as session:
        transfer = _draft(session, transfer_id)
        pkg = _package(session, tag)
        if any(line.package_id == pkg.id for line in transfer.lines):
            raise RuleViolation(f"package {pkg.tag} is already on transfer #{transfer.id}")
        _add_line(
            session,
            transfer,
            session.get_one(Location, transfer.from_location_id),
            session.get_one(Location, transfer.to_location_id),
            pkg,
        )
        audit.record(session, actor, "transfer.add", "transfer", transfer.id, after={"tag": pkg.tag})
        return _info(session, transfer)


def split_into(db: Database, actor: Actor, transfer_id: int, tag: str, quantity: Decimal) -> TransferInfo:
    """Move part of a package: cut ``quantity`` into a new package with the next pool tag
    (ledger: split out of the source, split into the new one) and put that on the transfer; the
    answer's ``split_tag`` says which tag the new package carries."""
    actor.require(Permission.TRANSFER)
    with db.transaction() as session:
        transfer = _draft(session, transfer_id)
        new_tag = _split(session, actor, transfer, tag, quantity)
        return replace(_info(session, transfer), split_tag=new_tag)


def _split(session: Session, actor: Actor, transfer: Transfer, tag: str, quantity: Decimal) -> str:
    """Cut ``quantity`` of package ``tag`` into a new package with the next unused pool tag, on
    ``transfer``; the new tag is returned (a used tag is never offered again)."""
    quantity = to_quantity(Decimal(quantity))
    source_pkg = _package(session, tag)
    if not 0 < quantity < source_pkg.quantity:
        raise ValidationError(
            f"split quantity must be more than 0 and less than the package's {source_pkg.quantity} "
            f"{source_pkg.unit.value}; to move all of it, add the whole package"
        )
    pool = tag_pool.take_next(session)
    new_pkg = Package(
        tag=pool.tag,
        item_id=source_pkg.item_id,
        quantity=Decimal(0),
        unit=source_pkg.unit,
        location_id=source_pkg.location_id,
        status=PackageStatus.ACTIVE,
        packaged_date=source_pkg.packaged_date,
        expiration_date=source_pkg.expiration_date,
        lab_state=source_pkg.lab_state,
        thc_percent=source_pkg.thc_percent,
        cbd_percent=source_pkg.cbd_percent,
        total_thc_percent=source_pkg.total_thc_percent,
        coa_reference=source_pkg.coa_reference,
        received_at=source_pkg.received_at,
        received_from_manifest=source_pkg.received_from_manifest,
        source_package_id=source_pkg.id,
    )
    session.add(new_pkg)
    session.flush()
    pool.used_by_package_id, pool.used_at = new_pkg.id, utcnow()
    doc = ledger.Doc("transfer", transfer.id)
    ledger.post(session, actor, source_pkg, LedgerKind.SPLIT_OUT, -quantity, doc, note=f"split into {new_pkg.tag}")
    ledger.post(session, actor, new_pkg, LedgerKind.SPLIT_IN, quantity, doc, note=f"split from {source_pkg.tag}")
    _add_line(
        session,
        transfer,
        session.get_one(Location, transfer.from_location_id),
        session.get_one(Location, transfer.to_location_id),
        new_pkg,
        split_from=source_pkg,
    )
    audit.record(
        session,
        actor,
        "package.split",
        "package",
        source_pkg.tag,
        after={"new_tag": new_pkg.tag, "quantity": quantity, "transfer": transfer.id},
    )
    return new_pkg.tag


# --- record, move, cancel ---------------------------------------------------------------------


def record(db: Database, actor: Actor, transfer_id: int, *, move_date: datetime | None = None) -> TransferInfo:
    """The digital step: location change in the ledger and queued for METRC, in one transaction."""
    actor.require(Permission.TRANSFER)
    with db.transaction() as session:
        transfer = _draft(session, transfer_id)
        if not transfer.lines:
            raise RuleViolation(f"transfer #{transfer.id} has no packages; scan or add some first")
        destination = session.get_one(Location, transfer.to_location_id)
        source = session.get_one(Location, transfer.from_location_id)
        when = move_date or utcnow()
        doc = ledger.Doc("transfer", transfer.id)
        payload = []
        for line in transfer.lines:
            pkg = session.get_one(Package, line.package_id)
            _check_movable_for_record(session, pkg, source, destination, transfer.id)
            ledger.post(session, actor, pkg, LedgerKind.TRANSFER, Decimal(0), doc, to_location=destination, at=when)
            payload.append({"Label": pkg.tag, "Location": destination.metrc_name, "MoveDate": when.date().isoformat()})
        entry = outbox.enqueue(
            session, actor, OutboxKind.CHANGE_LOCATION, payload, doc, f"transfer:{transfer.id}:record"
        )
        transfer.status, transfer.recorded_at, transfer.recorded_by_id = TransferStatus.RECORDED, when, actor.user_id
        audit.record(
            session,
            actor,
            "transfer.record",
            "transfer",
            transfer.id,
            before={"status": "draft"},
            after={"status": "recorded", "outbox": entry.id, "tags": [p["Label"] for p in payload]},
        )
        info = _info(session, transfer)
    return TransferInfo(**{**info.__dict__, "changes": info.changes | Changes.OUTBOX})


def _check_movable_for_record(
    session: Session, pkg: Package, source: Location, destination: Location, transfer_id: int
) -> None:
    """Re-check at record time: the package may have been sold out or put on hold since the draft."""
    line = _open_line(session, pkg.id)
    if line is not None and line.transfer_id != transfer_id:
        raise RuleViolation(f"package {pkg.tag} is on open transfer #{line.transfer_id} too")
    if pkg.status is PackageStatus.FINISHED or pkg.quantity <= 0:
        raise RuleViolation(f"package {pkg.tag} is now empty; remove it from transfer #{transfer_id}")
    if pkg.location_id != source.id:
        raise RuleViolation(f"package {pkg.tag} is now in {pkg.location.name}, not {source.name}")
    if destination.kind is LocationKind.FLOOR and (pkg.status is PackageStatus.ON_HOLD or not pkg.lab_state.sellable):
        raise RuleViolation(
            f"package {pkg.tag} may not go to the sales floor ({pkg.status.value}, lab {pkg.lab_state.value})"
        )


def confirm_arrival(db: Database, actor: Actor, tag: str, at_location: str) -> TransferInfo:
    """The physical step: a package scanned at ``at_location``. Refused unless a recorded
    transfer brings it there; the last package scanned completes the transfer (MOVED)."""
    actor.require(Permission.TRANSFER)
    with db.transaction() as session:
        pkg = _package(session, tag)
        here = location_named(session, at_location)
        line = session.scalar(
            select(TransferLine)
            .join(Transfer)
            .where(TransferLine.package_id == pkg.id, Transfer.status.in_(OPEN), TransferLine.moved_at.is_(None))
        )
        if line is None:
            if pkg.location_id == here.id:
                raise RuleViolation(f"package {pkg.tag} is already recorded in {here.name}; nothing to confirm")
            raise NotRecorded(
                f"STOP: package {pkg.tag} has no recorded transfer to {here.name}. Its METRC location is still "
                f"{pkg.location.name}. Record the transfer first, then move the product.",
                tag=pkg.tag,
                from_location=pkg.location.name,
                to_location=here.name,
            )
        transfer = line.transfer
        destination = session.get_one(Location, transfer.to_location_id)
        if transfer.status is TransferStatus.DRAFT:
            raise NotRecorded(
                f"STOP: transfer #{transfer.id} is still a draft. Record it (the METRC location change) before "
                "moving the product.",
                tag=pkg.tag,
                from_location=pkg.location.name,
                to_location=destination.name,
                draft_transfer_id=transfer.id,
            )
        if destination.id != here.id:
            raise RuleViolation(
                f"package {pkg.tag} is on transfer #{transfer.id} to {destination.name}, not to {here.name}; take it there"
            )
        now = utcnow()
        line.moved_at, line.moved_by_id = now, actor.user_id
        if all(ln.moved_at is not None for ln in transfer.lines):
            transfer.status, transfer.moved_at, transfer.moved_by_id = TransferStatus.MOVED, now, actor.user_id
        audit.record(
            session,
            actor,
            "transfer.arrived",
            "package",
            pkg.tag,
            after={"transfer": transfer.id, "location": here.name, "transfer_status": transfer.status.value},
        )
        return _info(session, transfer)


def cancel(db: Database, actor: Actor, transfer_id: int, *, reason: str) -> TransferInfo:
    """Only a draft can be cancelled: once recorded, METRC has (or will have) the new location,
    so undoing it is a new transfer back, with its own record."""
    actor.require(Permission.TRANSFER)
    if not reason.strip():
        raise ValidationError("say why the transfer is cancelled")
    with db.transaction() as session:
        transfer = _draft(session, transfer_id)
        transfer.status = TransferStatus.CANCELLED
        audit.record(
            session,
            actor,
            "transfer.cancel",
            "transfer",
            transfer.id,
            reason=reason.strip(),
            before={"status": "draft"},
            after={"status": "cancelled"},
        )
        return _info(session, transfer)


def record_now(db: Database, actor: Actor, tag: str, from_location: str, to_location: str) -> TransferInfo:
    """The one-click path after a refused scan: a transfer of this package, recorded at once."""
    draft = create_transfer(db, actor, from_location, to_location, [tag], note="created from a refused scan")
    return record(db, actor, draft.id)
