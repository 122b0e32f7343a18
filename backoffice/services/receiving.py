"""Receiving a delivery: a METRC manifest checked package by package.

Import a manifest → scan each package (its line is ticked; the received quantity is the
shipped one unless changed with a note) → accept or reject each line (a rejection has a
reason and a note) → finish: ONE transaction creates the accepted packages in the receiving
location with their ledger RECEIVE rows, the audit event, and the METRC outbox entry.

Receiving a licensed transfer is not a METRC API call: that outbox entry is the receive
sheet a person keys into METRC's web UI, and ``receiving_metrc.check_metrc`` closes it once
METRC's active packages agree. A package is accepted or rejected whole; a shipping error is
fixed by rejecting, never by adjusting after acceptance. Every scan and decision is its own
transaction, so a receiving survives closing the app or a crash.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item, Location, Manifest, ManifestLine, Package, User, utcnow
from backoffice.domain.enums import (
    LabState,
    LedgerKind,
    LocationKind,
    ManifestLineState,
    ManifestStatus,
    OutboxKind,
    PackageStatus,
    QuantityType,
)
from backoffice.domain.numbers import parse_decimal, to_money, to_quantity
from backoffice.domain.tags import validate_tag
from backoffice.domain.units import Unit, UnitFamily
from backoffice.errors import NotFound, RuleViolation, ValidationError
from backoffice.importers.manifest_file import ParsedManifest, parse_manifest_file
from backoffice.services import audit, ledger, outbox, receiving_bins, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes

# Why a package was refused; the list an associate picks from (a note says the rest).
REJECT_REASONS = (
    "Short-shipped",
    "Not in the delivery",
    "Damaged",
    "Failed lab testing",
    "On hold / lab results missing",
    "Wrong item or tag",
    "Not ordered",
    "Other",
)
NOTE_LIMIT = 400
DECIDED = (ManifestLineState.ACCEPTED, ManifestLineState.REJECTED)
_FAILED_LAB = {LabState.TEST_FAILED, LabState.RETEST_FAILED}
# testing not finished: the package is held until it passes, and a store may not take it in
_ON_HOLD_LAB = {LabState.NOT_SUBMITTED, LabState.SUBMITTED_FOR_TESTING}
_QUANTITY_TYPES = {UnitFamily.COUNT: QuantityType.COUNT_BASED, UnitFamily.WEIGHT: QuantityType.WEIGHT_BASED,
                   UnitFamily.VOLUME: QuantityType.VOLUME_BASED}


class ScanProblem(enum.StrEnum):
    """Each bad scan, and each line that may not be accepted as it stands."""

    NOT_ON_MANIFEST = "not on this manifest"
    ON_OTHER_MANIFEST = "on another open manifest"
    ALREADY_SCANNED = "already scanned"
    MANIFEST_RECEIVED = "manifest already received"
    FAILED_LAB = "failed lab testing"
    ON_HOLD = "on hold"
    UNKNOWN_ITEM = "item unknown to the store"
    IN_INVENTORY = "tag already in inventory"


class BadScan(RuleViolation):
    """A scan that ticked nothing; ``problem`` says which kind, the message what to do."""

    def __init__(self, message: str, *, problem: ScanProblem, tag: str) -> None:
        super().__init__(message)
        self.problem, self.tag = problem, tag


@dataclass(frozen=True)
class LineView:
    id: int
    tag: str
    item_name: str
    category: str
    strain: str
    shipped_quantity: Decimal
    unit: Unit
    wholesale_price: Decimal | None
    lab_state: LabState
    production_batch: str | None
    expiration_date: date | None
    state: ManifestLineState
    received_quantity: Decimal | None
    item_id: int | None
    item_sku: str | None
    scanned_at: datetime | None
    scanned_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    reject_reason: str | None
    note: str | None
    bin: str | None
    problem: ScanProblem | None
    problem_text: str | None

    @property
    def difference(self) -> Decimal | None:
        """Received minus shipped, when a quantity was received and differs."""
        if self.received_quantity is None or self.received_quantity == self.shipped_quantity:
            return None
        return self.received_quantity - self.shipped_quantity


@dataclass(frozen=True)
class ManifestView:
    id: int
    manifest_number: str
    shipper_name: str
    shipper_license: str
    transporter_license: str | None
    driver_name: str | None
    vehicle: str | None
    estimated_arrival: datetime | None
    status: ManifestStatus
    imported_at: datetime
    imported_by: str | None
    finished_at: datetime | None
    finished_by: str | None
    receiving_location: str | None
    lines: list[LineView]

    def count(self, state: ManifestLineState) -> int:
        return sum(1 for line in self.lines if line.state is state)

    @property
    def undecided(self) -> int:
        return sum(1 for line in self.lines if line.state not in DECIDED)

    @property
    def seen(self) -> int:
        """Lines whose package was scanned (decided or not)."""
        return sum(1 for line in self.lines if line.scanned_at is not None)


@dataclass(frozen=True)
class ManifestSummary:
    id: int
    manifest_number: str
    shipper_name: str
    estimated_arrival: datetime | None
    status: ManifestStatus
    imported_at: datetime
    packages: int
    scanned: int
    decided: int


@dataclass(frozen=True)
class ImportResult:
    manifest_id: int
    manifest_number: str
    packages: int
    shipper_name: str
    already_imported: bool
    status: ManifestStatus
    unknown_items: int
    changes: Changes = Changes.MANIFESTS | Changes.AUDIT


@dataclass(frozen=True)
class ScanResult:
    line: LineView
    scanned: int  # lines of the manifest scanned so far
    total: int
    message: str
    changes: Changes = Changes.MANIFESTS

    @property
    def problem(self) -> ScanProblem | None:
        return self.line.problem

    @property
    def ok(self) -> bool:
        return self.line.problem is None


@dataclass(frozen=True)
class LineChange:
    """The line after a quantity, expiration, decision or item change."""

    lines: list[LineView]
    message: str
    changes: Changes = Changes.MANIFESTS | Changes.AUDIT


@dataclass(frozen=True)
class AcceptResult:
    accepted: list[str]
    left: list[tuple[str, str]]  # (tag, why it was not accepted)
    changes: Changes = Changes.MANIFESTS | Changes.AUDIT


@dataclass(frozen=True)
class ReceivedPackage:
    tag: str
    item_name: str
    quantity: Decimal
    unit: Unit
    bin: str | None


@dataclass(frozen=True)
class FinishResult:
    manifest_id: int
    manifest_number: str
    location: str
    received: list[ReceivedPackage]
    rejected: int
    outbox_id: int
    changes: Changes = field(default=Changes.MANIFESTS | Changes.INVENTORY | Changes.OUTBOX | Changes.AUDIT)


# --- look-ups ---------------------------------------------------------------------------------

def _manifest(session: Session, manifest_id: int, *, lock: bool = False) -> Manifest:
    query = select(Manifest).where(Manifest.id == manifest_id)
    manifest = session.scalar(query.with_for_update() if lock else query)
    if manifest is None:
        raise NotFound(f"there is no manifest #{manifest_id}")
    return manifest


def _open_manifest(session: Session, manifest_id: int, *, lock: bool = False) -> Manifest:
    manifest = _manifest(session, manifest_id, lock=lock)
    if manifest.status is ManifestStatus.RECEIVED:
        raise RuleViolation(
            f"manifest {manifest.manifest_number} was received on {_local(manifest.finished_at)}; it can no longer "
            "change. Fix a mistake found now with an adjustment or a return, not here."
        )
    return manifest


def find_manifest(db: Database, number: str) -> int:
    """The id of manifest ``number`` (leading zeros may be left out, as spreadsheets do)."""
    wanted = number.strip()
    with db.read() as session:
        found = session.scalar(select(Manifest.id).where(Manifest.manifest_number.in_({wanted, wanted.zfill(10)})))
    if found is None:
        raise NotFound(f"there is no manifest {wanted}; import it first (backoffice import manifest FILE)")
    return found


def _line(session: Session, manifest: Manifest, tag: str, *, lock: bool = False) -> ManifestLine:
    query = select(ManifestLine).where(ManifestLine.manifest_id == manifest.id, ManifestLine.tag == tag)
    line = session.scalar(query.with_for_update() if lock else query)
    if line is None:
        raise NotFound(f"tag {tag} is not on manifest {manifest.manifest_number}")
    return line


def _tag(session: Session, raw: str) -> str:
    return validate_tag(raw, strict=settings.get(session, settings.STRICT_TAGS))


def _local(when: datetime | None) -> str:
    return "" if when is None else f"{when.astimezone():%Y-%m-%d %H:%M}"


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _key(name: str, category: str) -> tuple[str, str]:
    return " ".join(name.split()).lower(), " ".join(category.split()).lower()


def _match_items(session: Session, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Item ids for (name, category) pairs, matched without regard to case (runs of spaces in a
    file count as one); the oldest item wins when the catalogue holds a name twice."""
    keys = {_key(name, category) for name, category in wanted}
    names = {name for name, _ in keys}
    found: dict[tuple[str, str], int] = {}
    rows = session.execute(
        select(Item.id, Item.name, Item.category).where(func.lower(Item.name).in_(names)).order_by(Item.id)
    ) if names else []
    for item_id, name, category in rows:
        key = _key(name, category)
        if key in keys:
            found.setdefault(key, item_id)
    return found


def _usernames(session: Session) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.username)).all())


@dataclass(frozen=True)
class _Known:
    """What the store knows about a manifest's tags and items beyond the manifest itself."""

    skus: dict[int, str]
    packages: dict[str, tuple[PackageStatus, str, int]]  # tag → status, location name, package id
    catalogue_categories: dict[str, str]  # lower-case item name → a category the catalogue has it in


def _known(session: Session, lines: Sequence[ManifestLine]) -> _Known:
    item_ids = {line.item_id for line in lines if line.item_id is not None}
    skus = dict(session.execute(select(Item.id, Item.sku).where(Item.id.in_(item_ids))).all()) \
        if item_ids else {}
    packages: dict[str, tuple[PackageStatus, str, int]] = {}
    tags = [line.tag for line in lines]
    for start in range(0, len(tags), 500):
        for tag, status, location, package_id in session.execute(
            select(Package.tag, Package.status, Location.name, Package.id)
            .join(Location, Location.id == Package.location_id).where(Package.tag.in_(tags[start:start + 500]))
        ):
            packages[tag] = (status, location, package_id)
    unknown = {" ".join(line.item_name.split()).lower() for line in lines if line.item_id is None}
    categories = dict(session.execute(
        select(func.lower(Item.name), Item.category).where(func.lower(Item.name).in_(unknown))
    ).all()) if unknown else {}
    return _Known(skus, packages, categories)


def _known_one(session: Session, line: ManifestLine, sku: str | None) -> _Known:
    """``_known`` for the line just scanned, in one query when its item is known (a scan's path)."""
    if line.item_id is None or sku is None:
        return _known(session, [line])
    existing = session.execute(
        select(Package.status, Location.name, Package.id).join(Location, Location.id == Package.location_id)
        .where(Package.tag == line.tag)
    ).first()
    return _Known({line.item_id: sku}, {line.tag: (existing[0], existing[1], existing[2])} if existing else {}, {})


def _problem(line: ManifestLine, known: _Known) -> tuple[ScanProblem, str] | None:
    """Why ``line`` may not be accepted as it stands, or None."""
    item = f"{line.item_name} ({line.category})"
    existing = known.packages.get(line.tag)
    if existing is not None and existing[2] != line.package_id:
        status, location, _ = existing
        return ScanProblem.IN_INVENTORY, (
            f"STOP: tag {line.tag} is already a package in this store ({status.value.replace('_', ' ')}, "
            f"{location}). A METRC tag is never used twice: set the package aside, reject it "
            f"(reason “Wrong item or tag”) and call the shipper."
        )
    if line.lab_state in _FAILED_LAB:
        return ScanProblem.FAILED_LAB, (
            f"STOP: package {line.tag}, {item}, failed lab testing ({line.lab_state.value}). It may not be "
            f"accepted: set it aside and reject it (reason “Failed lab testing”)."
        )
    if line.lab_state in _ON_HOLD_LAB:
        return ScanProblem.ON_HOLD, (
            f"STOP: package {line.tag}, {item}, is on hold: its lab testing is not finished "
            f"({line.lab_state.value}). Untested product may not be accepted: set it aside and reject it "
            f"(reason “On hold / lab results missing”)."
        )
    if line.item_id is None:
        other = known.catalogue_categories.get(" ".join(line.item_name.split()).lower())
        where = f" The catalogue has “{line.item_name}” as {other}, not {line.category}." if other else ""
        return ScanProblem.UNKNOWN_ITEM, (
            f"Item “{line.item_name}” ({line.category}) of package {line.tag} is not in this store's catalogue.{where} "
            f"Create the item from this manifest line (Create item), then accept the package, or reject it."
        )
    return None


def _view(line: ManifestLine, known: _Known, names: dict[int, str]) -> LineView:
    problem = _problem(line, known) if line.state is not ManifestLineState.REJECTED else None
    return LineView(
        id=line.id, tag=line.tag, item_name=line.item_name, category=line.category, strain=line.strain,
        shipped_quantity=line.shipped_quantity, unit=line.unit, wholesale_price=line.wholesale_price,
        lab_state=line.lab_state, production_batch=line.production_batch, expiration_date=line.expiration_date,
        state=line.state, received_quantity=line.received_quantity, item_id=line.item_id,
        item_sku=known.skus.get(line.item_id) if line.item_id is not None else None,
        scanned_at=line.scanned_at, scanned_by=names.get(line.scanned_by_id) if line.scanned_by_id else None,
        decided_at=line.decided_at, decided_by=names.get(line.decided_by_id) if line.decided_by_id else None,
        reject_reason=line.reject_reason, note=line.note, bin=line.suggested_bin,
        problem=problem[0] if problem else None, problem_text=problem[1] if problem else None,
    )


def _views(session: Session, lines: Sequence[ManifestLine]) -> list[LineView]:
    known, names = _known(session, lines), _usernames(session)
    return [_view(line, known, names) for line in lines]


# --- reading ----------------------------------------------------------------------------------

def get_manifest(db: Database, actor: Actor, manifest_id: int) -> ManifestView:
    """A manifest with every line, its state and what stands in the way of accepting it."""
    actor.require(Permission.RECEIVE)
    with db.read() as session:
        manifest = _manifest(session, manifest_id)
        lines = session.scalars(
            select(ManifestLine).where(ManifestLine.manifest_id == manifest.id).order_by(ManifestLine.id)
        ).all()
        names = _usernames(session)
        known = _known(session, lines)
        location = session.get(Location, manifest.receiving_location_id) if manifest.receiving_location_id else None
        return ManifestView(
            id=manifest.id, manifest_number=manifest.manifest_number, shipper_name=manifest.shipper_name,
            shipper_license=manifest.shipper_license, transporter_license=manifest.transporter_license,
            driver_name=manifest.driver_name, vehicle=manifest.vehicle, estimated_arrival=manifest.estimated_arrival,
            status=manifest.status, imported_at=manifest.created_at,
            imported_by=names.get(manifest.imported_by_id) if manifest.imported_by_id else None,
            finished_at=manifest.finished_at,
            finished_by=names.get(manifest.finished_by_id) if manifest.finished_by_id else None,
            receiving_location=location.name if location else None,
            lines=[_view(line, known, names) for line in lines],
        )


def list_manifests(db: Database, actor: Actor, *, open_only: bool = False, limit: int = 200) -> list[ManifestSummary]:
    """Newest first, with how far each receiving got (for reopening one in progress)."""
    actor.require(Permission.RECEIVE)
    scanned = func.count(ManifestLine.scanned_at)
    decided = func.sum(case((ManifestLine.state.in_([state.value for state in DECIDED]), 1), else_=0))
    query = (
        select(Manifest, func.count(ManifestLine.id), scanned, decided)
        .outerjoin(ManifestLine, ManifestLine.manifest_id == Manifest.id)
        .group_by(Manifest.id).order_by(Manifest.id.desc()).limit(limit)
    )
    if open_only:
        query = query.where(Manifest.status == ManifestStatus.OPEN)
    with db.read() as session:
        return [
            ManifestSummary(m.id, m.manifest_number, m.shipper_name, m.estimated_arrival, m.status, m.created_at,
                            total, seen, int(done or 0))
            for m, total, seen, done in session.execute(query)
        ]


# --- import -----------------------------------------------------------------------------------

def import_file(db: Database, actor: Actor, path: Path | str) -> ImportResult:
    """Read a manifest JSON or CSV (every problem reported, nothing written on one) and import it."""
    actor.require(Permission.RECEIVE)
    with db.read() as session:
        tz, strict = settings.get(session, settings.TIMEZONE), settings.get(session, settings.STRICT_TAGS)
    return import_manifest(db, actor, parse_manifest_file(path, store_tz=tz, strict_tags=strict))


def import_manifest(db: Database, actor: Actor, parsed: ParsedManifest) -> ImportResult:
    """Store a parsed manifest with its lines matched to the store's items. A manifest
    already imported is recognised and returned as it is, never doubled."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        license_number = settings.get(session, settings.LICENSE_NUMBER)
        if parsed.recipient_license and parsed.recipient_license != license_number:
            raise RuleViolation(
                f"manifest {parsed.manifest_number} is addressed to {parsed.recipient_name or 'another store'} "
                f"(license {parsed.recipient_license}), not to this store (license {license_number}). "
                "Do not unload it; call the shipper."
            )
        existing = session.scalar(select(Manifest).where(Manifest.manifest_number == parsed.manifest_number))
        if existing is not None:
            return _already_imported(session, existing, parsed)
        manifest = Manifest(
            manifest_number=parsed.manifest_number, metrc_transfer_id=parsed.transfer_id,
            delivery_id=parsed.delivery_id, shipper_name=parsed.shipper_name, shipper_license=parsed.shipper_license,
            transporter_license=parsed.transporter_license, driver_name=parsed.driver_name, vehicle=parsed.vehicle,
            estimated_arrival=parsed.estimated_arrival, status=ManifestStatus.OPEN,
            source_sha256=parsed.source_sha256, imported_by_id=actor.user_id,
        )
        session.add(manifest)
        session.flush()
        items = _match_items(session, ((p.item_name, p.category) for p in parsed.lines))
        rows = [{
            "manifest_id": manifest.id, "tag": p.tag, "item_name": p.item_name, "category": p.category,
            "strain": p.strain, "shipped_quantity": p.shipped_quantity, "unit": p.unit,
            "wholesale_price": p.wholesale_price, "lab_state": p.lab_state, "production_batch": p.production_batch,
            "item_id": items.get(_key(p.item_name, p.category)), "state": ManifestLineState.PENDING,
        } for p in parsed.lines]
        session.execute(insert(ManifestLine), rows)
        unknown = sum(1 for row in rows if row["item_id"] is None)
        audit.record(session, actor, "manifest.import", "manifest", parsed.manifest_number,
                     after={"shipper": parsed.shipper_name, "shipper_license": parsed.shipper_license,
                            "packages": len(rows), "unknown_items": unknown, "sha256": parsed.source_sha256})
        return ImportResult(manifest.id, manifest.manifest_number, len(rows), manifest.shipper_name, False,
                            manifest.status, unknown)


def _already_imported(session: Session, manifest: Manifest, parsed: ParsedManifest) -> ImportResult:
    ours = dict(session.execute(
        select(ManifestLine.tag, ManifestLine.item_id).where(ManifestLine.manifest_id == manifest.id)
    ).all())
    theirs = {p.tag for p in parsed.lines}
    if set(ours) != theirs:
        added, missing = len(theirs - set(ours)), len(set(ours) - theirs)
        raise RuleViolation(
            f"manifest {manifest.manifest_number} was imported on {_local(manifest.created_at)} with other packages: "
            f"this file has {added} tag(s) the earlier import lacks and lacks {missing} it has. A METRC manifest "
            "does not change once it leaves the shipper: check that this is the right file."
        )
    return ImportResult(manifest.id, manifest.manifest_number, len(ours), manifest.shipper_name, True,
                        manifest.status, sum(1 for item_id in ours.values() if item_id is None),
                        changes=Changes.NONE)


# --- scanning ---------------------------------------------------------------------------------

def scan(db: Database, actor: Actor, manifest_id: int, raw_tag: str) -> ScanResult:
    """Tick the line of a scanned package and set its received quantity to the shipped one.
    A tag that ticks nothing raises BadScan; a ticked line that may not be accepted as it
    stands comes back with its problem and a message saying what to do."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        tag = _tag(session, raw_tag)
        found = session.execute(  # the line, its manifest's state and its item's SKU in one query
            select(ManifestLine, Manifest.status, Item.sku)
            .join(Manifest, Manifest.id == ManifestLine.manifest_id)
            .outerjoin(Item, Item.id == ManifestLine.item_id)
            .where(ManifestLine.manifest_id == manifest_id, ManifestLine.tag == tag)
            .with_for_update(of=ManifestLine)
        ).first()
        if found is None or found[1] is ManifestStatus.RECEIVED:
            manifest = _manifest(session, manifest_id)
            if manifest.status is ManifestStatus.RECEIVED:
                raise BadScan(f"manifest {manifest.manifest_number} was already received on "
                              f"{_local(manifest.finished_at)}; open the delivery this package came with.",
                              problem=ScanProblem.MANIFEST_RECEIVED, tag=tag)
            raise _not_here(session, manifest, tag)
        line, _, sku = found
        if line.state is not ManifestLineState.PENDING:
            raise _again(session, line)
        if line.item_id is None:  # the item may have been created since the import
            line.item_id = _match_items(session, [(line.item_name, line.category)]).get(_key(line.item_name,
                                                                                              line.category))
        line.state, line.scanned_at, line.scanned_by_id = ManifestLineState.SCANNED, utcnow(), actor.user_id
        line.received_quantity = line.shipped_quantity
        session.flush()
        view = _view(line, _known_one(session, line, sku), {actor.user_id: actor.username} if actor.user_id else {})
        scanned, total = session.execute(
            select(func.count(ManifestLine.scanned_at), func.count(ManifestLine.id))
            .where(ManifestLine.manifest_id == manifest_id)
        ).one()
    message = view.problem_text or (
        f"{tag} ticked: {line.item_name}, {_number(line.shipped_quantity)} {line.unit.value} "
        f"({scanned}/{total} scanned)."
    )
    return ScanResult(view, scanned, total, message)


def _not_here(session: Session, manifest: Manifest, tag: str) -> BadScan:
    other = session.execute(
        select(Manifest.manifest_number, Manifest.shipper_name).join(ManifestLine)
        .where(ManifestLine.tag == tag, Manifest.status == ManifestStatus.OPEN, Manifest.id != manifest.id)
        .limit(1)
    ).first()
    if other is not None:
        return BadScan(
            f"Tag {tag} is not on manifest {manifest.manifest_number}: it is on manifest {other[0]} from {other[1]}, "
            "which is also open. Keep it with that delivery and scan it there.",
            problem=ScanProblem.ON_OTHER_MANIFEST, tag=tag)
    return BadScan(
        f"Tag {tag} is not on manifest {manifest.manifest_number}. Do not accept it: set the package aside and "
        f"call the shipper, {manifest.shipper_name} (license {manifest.shipper_license}).",
        problem=ScanProblem.NOT_ON_MANIFEST, tag=tag)


def _again(session: Session, line: ManifestLine) -> BadScan:
    who = session.get(User, line.scanned_by_id) if line.scanned_by_id else None
    when = f" at {_local(line.scanned_at)}" if line.scanned_at else ""
    by = f" by {who.username}" if who else ""
    state = "" if line.state is ManifestLineState.SCANNED else f" and {line.state.value}"
    return BadScan(
        f"Tag {line.tag} ({line.item_name}) was already scanned{when}{by}{state}. A package is scanned once: "
        "if a second package carries this tag, set it aside and call the shipper.",
        problem=ScanProblem.ALREADY_SCANNED, tag=line.tag)


# --- quantities, expiration dates, items ------------------------------------------------------

def set_received_quantity(db: Database, actor: Actor, manifest_id: int, tag: str, quantity: Decimal | str,
                          note: str = "") -> LineChange:
    """What actually arrived in a scanned package; a difference from the shipped quantity needs a note."""
    actor.require(Permission.RECEIVE)
    received = to_quantity(parse_decimal(quantity, what="received quantity"), what="received quantity")
    note = _clean_note(note)
    with db.transaction() as session:
        manifest = _open_manifest(session, manifest_id)
        line = _line(session, manifest, _tag(session, tag), lock=True)
        if line.state is not ManifestLineState.SCANNED:
            raise RuleViolation(_not_scanned_words(line, "change its received quantity"))
        if received <= 0:
            raise ValidationError(f"received quantity must be more than 0; if nothing of {line.tag} arrived, "
                                  "reject it (reason “Not in the delivery”)")
        if received != line.shipped_quantity and not note:
            raise ValidationError(
                f"{line.tag}: {_number(received)} {line.unit.value} received but {_number(line.shipped_quantity)} "
                "shipped. Say why in a note (e.g. “scale shows 452.8 g”)."
            )
        before = {"received_quantity": line.received_quantity, "note": line.note}
        line.received_quantity, line.note = received, note or line.note
        audit.record(session, actor, "manifest.quantity", "package", line.tag, before=before,
                     after={"received_quantity": received, "shipped_quantity": line.shipped_quantity,
                            "manifest": manifest.manifest_number, "note": line.note})
        views = _views(session, [line])
    return LineChange(views, f"{line.tag}: received {_number(received)} {line.unit.value}.")


def set_expiration(db: Database, actor: Actor, manifest_id: int, tag: str, expires: date | None, *,
                   same_batch: bool = True) -> LineChange:
    """The expiration date on a package's label, until the receiving is finished; also set on
    the manifest's other packages of the same item and production batch when ``same_batch``
    (one batch, one label). Rejected packages take no date: they are not received."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = _open_manifest(session, manifest_id)
        line = _line(session, manifest, _tag(session, tag), lock=True)
        if line.state is ManifestLineState.REJECTED:
            raise RuleViolation(f"{line.tag} is rejected: it is not received, so it needs no expiration date")
        lines = [line]
        if same_batch and line.production_batch:
            lines += session.scalars(select(ManifestLine).where(
                ManifestLine.manifest_id == manifest.id, ManifestLine.id != line.id,
                ManifestLine.production_batch == line.production_batch, ManifestLine.item_name == line.item_name,
                ManifestLine.state != ManifestLineState.REJECTED,
            ).order_by(ManifestLine.id)).all()
        for each in lines:
            each.expiration_date = expires
        audit.record(session, actor, "manifest.expiration", "manifest", manifest.manifest_number,
                     after={"tags": [each.tag for each in lines], "expiration_date": expires})
        views = _views(session, lines)
    shown = expires.isoformat() if expires else "no date"
    return LineChange(views, f"Expiration {shown} set on {len(lines)} package(s).")


@dataclass(frozen=True)
class ItemCreated:
    sku: str
    item_id: int
    created: bool  # False: an item with this name and category existed after all, and was linked
    lines_linked: int
    changes: Changes = Changes.MANIFESTS | Changes.INVENTORY | Changes.AUDIT


def create_item_from_line(db: Database, actor: Actor, manifest_id: int, tag: str, *, sku: str = "") -> ItemCreated:
    """Add a manifest line's item to the catalogue (name, category, strain, unit, vendor, unit cost
    from the wholesale price; no shelf price yet) and link every open manifest line of that item."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = _open_manifest(session, manifest_id)
        line = _line(session, manifest, _tag(session, tag))
        if line.item_id is not None:
            existing = session.get(Item, line.item_id)
            raise RuleViolation(f"{line.tag} is already matched to item {existing.sku if existing else line.item_id} "
                                f"({line.item_name}); nothing to create")
        item_id = _match_items(session, [(line.item_name, line.category)]).get(_key(line.item_name, line.category))
        created = item_id is None
        if item_id is None:
            item = Item(
                sku=_new_sku(session, sku, line), name=line.item_name, category=line.category, strain=line.strain,
                vendor=manifest.shipper_name, quantity_type=_QUANTITY_TYPES[line.unit.family], unit=line.unit,
                unit_cost=to_money(line.wholesale_price / line.shipped_quantity) if line.wholesale_price else Decimal(0),
            )
            session.add(item)
            session.flush()
            item_id = item.id
            audit.record(session, actor, "item.create", "item", item.sku,
                         after={"name": item.name, "category": item.category, "unit": item.unit.value,
                                "unit_cost": item.unit_cost, "from_manifest": manifest.manifest_number,
                                "tag": line.tag})
        open_ids = select(Manifest.id).where(Manifest.status == ManifestStatus.OPEN)
        linked = session.execute(
            update(ManifestLine)
            .where(ManifestLine.item_id.is_(None), ManifestLine.manifest_id.in_(open_ids),
                   func.lower(ManifestLine.item_name) == line.item_name.lower(),
                   func.lower(ManifestLine.category) == line.category.lower())
            .values(item_id=item_id).execution_options(synchronize_session=False)
        ).rowcount
        final_sku = session.scalar(select(Item.sku).where(Item.id == item_id))
    return ItemCreated(final_sku or "", item_id, created, linked)


def _new_sku(session: Session, wanted: str, line: ManifestLine) -> str:
    wanted = wanted.strip()
    if wanted:
        if session.scalar(select(Item.id).where(Item.sku == wanted)) is not None:
            raise ValidationError(f"SKU {wanted} is taken by another item; choose another or leave it empty")
        return wanted
    base = f"R-{line.tag[-10:]}"
    taken = set(session.scalars(select(Item.sku).where(Item.sku.like(f"{base}%"))))
    return next(candidate for n in range(1, len(taken) + 2)
                if (candidate := base if n == 1 else f"{base}-{n}") not in taken)


# --- decisions --------------------------------------------------------------------------------

def accept(db: Database, actor: Actor, manifest_id: int, tags: Sequence[str]) -> AcceptResult:
    """Accept scanned packages whole, at their received quantity. All or none: a tag that may
    not be accepted (not scanned, failed lab, on hold, unknown item, …) refuses the lot."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = _open_manifest(session, manifest_id)
        wanted = list(dict.fromkeys(_tag(session, t) for t in tags))
        lines = _lines_by_tag(session, manifest, wanted)
        known = _known(session, lines)
        refusals = [(line.tag, why) for line in lines if (why := _why_not_acceptable(line, known))]
        if refusals:
            listed = "; ".join(why for _, why in refusals[:5])
            more = f"; and {len(refusals) - 5} more" if len(refusals) > 5 else ""
            raise RuleViolation(f"nothing was accepted: {listed}{more}")
        _decide_accept(session, actor, manifest, lines)
    return AcceptResult([line.tag for line in lines], [])


def accept_scanned(db: Database, actor: Actor, manifest_id: int) -> AcceptResult:
    """Accept every scanned package that may be accepted; the others stay for a decision each."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = _open_manifest(session, manifest_id)
        scanned = session.scalars(select(ManifestLine).where(
            ManifestLine.manifest_id == manifest.id, ManifestLine.state == ManifestLineState.SCANNED
        ).order_by(ManifestLine.id).with_for_update()).all()
        known = _known(session, scanned)
        left = [(line.tag, why) for line in scanned if (why := _why_not_acceptable(line, known))]
        refused = {tag for tag, _ in left}
        chosen = [line for line in scanned if line.tag not in refused]
        if chosen:
            _decide_accept(session, actor, manifest, chosen)
    return AcceptResult([line.tag for line in chosen], left)


def _lines_by_tag(session: Session, manifest: Manifest, tags: Sequence[str]) -> list[ManifestLine]:
    found = {line.tag: line for line in session.scalars(select(ManifestLine).where(
        ManifestLine.manifest_id == manifest.id, ManifestLine.tag.in_(tags)).with_for_update())}
    missing = [tag for tag in tags if tag not in found]
    if missing:
        raise NotFound(f"not on manifest {manifest.manifest_number}: {', '.join(missing[:5])}")
    return [found[tag] for tag in tags]


def _why_not_acceptable(line: ManifestLine, known: _Known) -> str | None:
    if line.state is not ManifestLineState.SCANNED:
        return _not_scanned_words(line, "accept it")
    problem = _problem(line, known)
    return problem[1] if problem else None


def _not_scanned_words(line: ManifestLine, action: str) -> str:
    if line.state is ManifestLineState.PENDING:
        return f"{line.tag} has not been scanned; scan the package to {action}"
    return _decided_words(line, action)


def _decided_words(line: ManifestLine, action: str) -> str:
    return f"{line.tag} is already {line.state.value}; undo that decision to {action}"


def _decide_accept(session: Session, actor: Actor, manifest: Manifest, lines: Sequence[ManifestLine]) -> None:
    now = utcnow()
    for line in lines:
        line.state, line.decided_at, line.decided_by_id = ManifestLineState.ACCEPTED, now, actor.user_id
        line.reject_reason = None
        if line.received_quantity is None:
            line.received_quantity = line.shipped_quantity
    audit.record(session, actor, "manifest.accept", "manifest", manifest.manifest_number,
                 after={"tags": [line.tag for line in lines]})


def reject(db: Database, actor: Actor, manifest_id: int, tag: str, reason: str, note: str, *,
           received_quantity: Decimal | str | None = None) -> LineChange:
    """Refuse a package whole, scanned or not, with a reason from REJECT_REASONS and a note.
    ``received_quantity`` records what did arrive of a short-shipped package."""
    actor.require(Permission.RECEIVE)
    if reason not in REJECT_REASONS:
        raise ValidationError(f"choose a rejection reason from the list: {', '.join(REJECT_REASONS)}")
    note = _clean_note(note)
    if not note:
        raise ValidationError("say in a note why the package is rejected (what you saw, who you told)")
    received = None
    if received_quantity not in (None, ""):
        received = to_quantity(parse_decimal(received_quantity, what="received quantity"), what="received quantity")
        if received < 0:
            raise ValidationError("received quantity cannot be negative")
    with db.transaction() as session:
        manifest = _open_manifest(session, manifest_id)
        line = _line(session, manifest, _tag(session, tag), lock=True)
        if line.state in DECIDED:
            raise RuleViolation(_decided_words(line, "reject it"))
        if received is not None and received > line.shipped_quantity and reason == "Short-shipped":
            raise ValidationError(f"{line.tag}: {_number(received)} received is not short of "
                                  f"{_number(line.shipped_quantity)} shipped; choose another reason")
        line.state, line.decided_at, line.decided_by_id = ManifestLineState.REJECTED, utcnow(), actor.user_id
        line.reject_reason, line.note = reason, note
        if received is not None:
            line.received_quantity = received
        audit.record(session, actor, "manifest.reject", "package", line.tag, reason=f"{reason}: {note}",
                     after={"manifest": manifest.manifest_number, "received_quantity": line.received_quantity})
        views = _views(session, [line])
    return LineChange(views, f"{line.tag} rejected ({reason}).")


def undo_decision(db: Database, actor: Actor, manifest_id: int, tag: str) -> LineChange:
    """Take back an accept or reject before the receiving is finished."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = _open_manifest(session, manifest_id)
        line = _line(session, manifest, _tag(session, tag), lock=True)
        if line.state not in DECIDED:
            raise RuleViolation(f"{line.tag} is {line.state.value}: there is no decision to undo")
        before = {"state": line.state.value, "reason": line.reject_reason, "note": line.note}
        scanned = line.scanned_at is not None
        line.state = ManifestLineState.SCANNED if scanned else ManifestLineState.PENDING
        line.decided_at = line.decided_by_id = line.reject_reason = None
        if line.state is ManifestLineState.PENDING:
            line.received_quantity = line.note = None
        elif line.received_quantity is None:
            line.received_quantity = line.shipped_quantity
        elif line.received_quantity == line.shipped_quantity:
            line.note = None
        audit.record(session, actor, "manifest.undo", "package", line.tag, before=before,
                     after={"state": line.state.value, "manifest": manifest.manifest_number})
        views = _views(session, [line])
    return LineChange(views, f"{line.tag} is {line.state.value} again.")


def _clean_note(note: str | None) -> str:
    text = " ".join((note or "").split())
    if len(text) > NOTE_LIMIT:
        raise ValidationError(f"a note holds at most {NOTE_LIMIT} characters; this one has {len(text)}")
    return text


# --- finishing --------------------------------------------------------------------------------

def receiving_location(session: Session, name: str | None) -> Location:
    """The named location, or the vault; never the sales floor (product reaches it by a transfer)."""
    if name:
        loc = session.scalar(select(Location).where(Location.name == name, Location.active))
        if loc is None:
            names = ", ".join(session.scalars(select(Location.name).where(Location.active).order_by(Location.name)))
            raise NotFound(f"there is no location {name!r}; locations are: {names}")
    else:
        loc = session.scalar(select(Location).where(Location.kind == LocationKind.VAULT, Location.active)
                             .order_by(Location.id).limit(1))
        if loc is None:
            raise NotFound("this store has no vault location; add one (backoffice locations add) or choose where "
                           "to receive")
    if loc.kind is LocationKind.FLOOR:
        raise RuleViolation(f"{loc.name} is a sales floor: receive into the vault (or quarantine) and move product "
                            "to the floor by a recorded transfer")
    return loc


def suggest_bins(db: Database, actor: Actor, manifest_id: int, location: str | None = None) -> dict[str, str]:
    """Where each accepted package would go (tag → bin) if the receiving finished now."""
    actor.require(Permission.RECEIVE)
    with db.read() as session:
        manifest = _manifest(session, manifest_id)
        loc = receiving_location(session, location)
        accepted = session.scalars(select(ManifestLine).where(
            ManifestLine.manifest_id == manifest.id, ManifestLine.state == ManifestLineState.ACCEPTED
        ).order_by(ManifestLine.id)).all()
        return _bins(session, loc, accepted)


def _bins(session: Session, loc: Location, lines: Sequence[ManifestLine]) -> dict[str, str]:
    if loc.kind is not LocationKind.VAULT or not lines:
        return {}
    categories = dict(session.execute(
        select(Item.id, Item.category).where(Item.id.in_({line.item_id for line in lines}))
    ).all())
    wanted = [receiving_bins.Incoming(line.tag, categories[line.item_id], line.item_id, line.expiration_date)
              for line in lines if line.item_id is not None]
    return receiving_bins.suggest(session, loc.id, wanted)


def finish(db: Database, actor: Actor, manifest_id: int, *, location: str | None = None) -> FinishResult:
    """Receive the manifest: only when every line is accepted or rejected (see module doc)."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = _open_manifest(session, manifest_id, lock=True)
        return _finish(session, actor, manifest, location)


def accept_all(db: Database, actor: Actor, manifest_id: int, *, location: str | None = None,
               note: str = "checked on paper") -> FinishResult:
    """For stores that check deliveries on paper first: accept every undecided package at its
    shipped quantity and finish, in one transaction with the same ledger and audit rows."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = _open_manifest(session, manifest_id, lock=True)
        undecided = [line for line in manifest.lines if line.state not in DECIDED]
        known = _known(session, undecided)
        refusals = [(line.tag, problem[1]) for line in undecided if (problem := _problem(line, known))]
        if refusals:
            listed = "\n  ".join(why for _, why in refusals[:10])
            more = f"\n  … and {len(refusals) - 10} more" if len(refusals) > 10 else ""
            raise RuleViolation(f"{len(refusals)} package(s) of manifest {manifest.manifest_number} may not be "
                                f"accepted as they are; nothing was received:\n  {listed}{more}")
        for line in undecided:
            line.received_quantity = line.received_quantity or line.shipped_quantity
            line.note = line.note or note
        if undecided:
            _decide_accept(session, actor, manifest, undecided)
        return _finish(session, actor, manifest, location)


def _finish(session: Session, actor: Actor, manifest: Manifest, location_name: str | None) -> FinishResult:
    lines = list(manifest.lines)
    undecided = [line.tag for line in lines if line.state not in DECIDED]
    if undecided:
        shown = ", ".join(undecided[:5]) + (f" and {len(undecided) - 5} more" if len(undecided) > 5 else "")
        raise RuleViolation(
            f"{len(undecided)} of {len(lines)} packages on manifest {manifest.manifest_number} are neither accepted "
            f"nor rejected: {shown}. Accept each package that arrived; reject the rest (e.g. “Not in the delivery”)."
        )
    loc = receiving_location(session, location_name)
    accepted = [line for line in lines if line.state is ManifestLineState.ACCEPTED]
    known = _known(session, accepted)
    blocked = [(line.tag, problem[1]) for line in accepted if (problem := _problem(line, known))]
    if blocked:  # e.g. another workstation received the tag since it was accepted here
        raise RuleViolation("nothing was received: " + "; ".join(why for _, why in blocked[:5]))
    bins = _bins(session, loc, accepted)
    now = utcnow()
    packages = [Package(
        tag=line.tag, item_id=line.item_id, quantity=Decimal(0), unit=line.unit, location_id=loc.id,
        bin=bins.get(line.tag), status=PackageStatus.ACTIVE, expiration_date=line.expiration_date,
        lab_state=line.lab_state, received_at=now, received_from_manifest=manifest.manifest_number,
    ) for line in accepted]
    session.add_all(packages)
    session.flush()
    doc = ledger.Doc("manifest", manifest.id)
    for line, pkg in zip(accepted, packages, strict=True):
        entry = ledger.post(session, actor, pkg, LedgerKind.RECEIVE, line.received_quantity or line.shipped_quantity,
                            doc, to_location=loc, at=now, note=line.note)
        entry.from_location_id = None  # it came from outside the store
        line.package_id, line.suggested_bin = pkg.id, pkg.bin
    sheet = [_sheet_row(manifest, line, loc) for line in lines]
    entry = outbox.enqueue(session, actor, OutboxKind.RECEIVE_CONFIRM, sheet, doc,
                           f"manifest:{manifest.manifest_number}:receive")
    manifest.status, manifest.finished_at, manifest.finished_by_id = ManifestStatus.RECEIVED, now, actor.user_id
    manifest.receiving_location_id = loc.id
    rejected = [line for line in lines if line.state is ManifestLineState.REJECTED]
    audit.record(session, actor, "manifest.receive", "manifest", manifest.manifest_number,
                 before={"status": "open"},
                 after={"status": "received", "location": loc.name, "accepted": [line.tag for line in accepted],
                        "rejected": {line.tag: line.reject_reason for line in rejected}, "outbox": entry.id})
    received = [ReceivedPackage(line.tag, line.item_name, pkg.quantity, pkg.unit, pkg.bin)
                for line, pkg in zip(accepted, packages, strict=True)]
    return FinishResult(manifest.id, manifest.manifest_number, loc.name, received, len(rejected), entry.id)


def _sheet_row(manifest: Manifest, line: ManifestLine, loc: Location) -> dict[str, object]:
    """One package of the receive sheet: what to key into METRC's receive screen."""
    accepted = line.state is ManifestLineState.ACCEPTED
    return {
        "ManifestNumber": manifest.manifest_number, "Label": line.tag,
        "Decision": "Accept" if accepted else "Reject",
        "ShippedQuantity": Decimal(_number(line.shipped_quantity)),
        "ReceivedQuantity": None if line.received_quantity is None else Decimal(_number(line.received_quantity)),
        "UnitOfMeasure": line.unit.value,
        "RejectionReason": None if accepted else line.reject_reason,
        "Note": line.note, "Location": loc.metrc_name if accepted else None,
    }
