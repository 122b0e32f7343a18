"""Write METRC active packages (checked by ``backoffice.importers.metrc_packages``) into
the store: items, locations, packages and their opening ledger rows, in one transaction.

A file with bad records imports nothing unless the caller asks to skip them, and then the
result lists what was skipped. Existing packages get their descriptive fields refreshed,
but a quantity or location that differs from ours is reported, never silently overwritten:
a sync gap is explained by a count, not by quietly changing inventory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item, Location, Package
from backoffice.domain.enums import LedgerKind, LocationKind, PackageStatus
from backoffice.errors import ImportFileError, Problem
from backoffice.importers.metrc_packages import MetrcPackageRecord, parse
from backoffice.services import audit, ledger, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes


@dataclass
class PackagesImportResult:
    created: int = 0
    updated: int = 0
    items_created: int = 0
    locations_created: int = 0
    skipped: list[Problem] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    changes: Changes = Changes.INVENTORY


def _location_kind(name: str) -> LocationKind:
    lowered = name.lower()
    if "vault" in lowered or "back" in lowered:
        return LocationKind.VAULT
    if "floor" in lowered or "sales" in lowered:
        return LocationKind.FLOOR
    if "quarantine" in lowered or "hold" in lowered:
        return LocationKind.QUARANTINE
    return LocationKind.OTHER


def import_file(db: Database, actor: Actor, path: Path, *, skip_bad: bool = False) -> PackagesImportResult:
    actor.require(Permission.IMPORT_DATA)
    strict = settings.read(db, settings.STRICT_TAGS)
    records, problems = parse(path, strict_tags=strict)
    if problems and not skip_bad:
        raise ImportFileError(
            f"{Path(path).name}: {len(problems)} problem(s) in {len({p.line for p in problems})} record(s); "
            "nothing was imported. Fix the file, or import with 'skip bad records' to leave those out.",
            problems,
        )
    result = PackagesImportResult(skipped=problems)
    with db.transaction() as session:
        _apply(session, actor, records, result)
        audit.record(
            session, actor, "import.metrc_packages", "file", Path(path).name,
            after={"created": result.created, "updated": result.updated, "items_created": result.items_created,
                   "skipped_records": sorted({p.line for p in problems}), "differences": len(result.differences)},
        )
    return result


def _apply(session: Session, actor: Actor, records: list[MetrcPackageRecord], result: PackagesImportResult) -> None:
    locations = {loc.name: loc for loc in session.scalars(select(Location))}
    items_by_metrc = {i.metrc_item_id: i for i in session.scalars(select(Item).where(Item.metrc_item_id.is_not(None)))}
    items_by_name = {i.name: i for i in session.scalars(select(Item))}
    tags = [r.tag for r in records]
    existing: dict[str, Package] = {}
    for start in range(0, len(tags), 500):
        for pkg in session.scalars(select(Package).where(Package.tag.in_(tags[start:start + 500]))):
            existing[pkg.tag] = pkg
    doc = ledger.Doc("metrc_import", None)
    for rec in records:
        location = locations.get(rec.location_name)
        if location is None:
            location = Location(name=rec.location_name, kind=_location_kind(rec.location_name), metrc_name=rec.location_name)
            session.add(location)
            locations[rec.location_name] = location
            result.locations_created += 1
        # METRC's item id is the identity; two METRC items may share a name
        item = items_by_metrc.get(rec.item_metrc_id) if rec.item_metrc_id else items_by_name.get(rec.item_name)
        if item is None:
            item = Item(
                sku=f"M{rec.item_metrc_id}" if rec.item_metrc_id else f"M-{rec.tag[-8:]}",
                name=rec.item_name, category=rec.category, strain=rec.strain,
                quantity_type=rec.quantity_type, unit=rec.unit, metrc_item_id=rec.item_metrc_id,
            )
            session.add(item)
            items_by_name[item.name] = item
            if rec.item_metrc_id:
                items_by_metrc[rec.item_metrc_id] = item
            result.items_created += 1
        status = PackageStatus.FINISHED if rec.finished else (PackageStatus.ON_HOLD if rec.on_hold else PackageStatus.ACTIVE)
        pkg = existing.get(rec.tag)
        if pkg is None:
            session.flush()
            pkg = Package(
                tag=rec.tag, item=item, item_id=item.id, quantity=Decimal(0), unit=rec.unit, location=location,
                location_id=location.id, status=status, packaged_date=rec.packaged_date,
                expiration_date=rec.expiration_date, lab_state=rec.lab_state, thc_percent=rec.thc_percent,
                cbd_percent=rec.cbd_percent, received_at=rec.received_at,
                received_from_manifest=rec.manifest_number, metrc_package_id=rec.metrc_id,
            )
            session.add(pkg)
            session.flush()
            ledger.post(session, actor, pkg, LedgerKind.OPENING, rec.quantity, doc,
                        note="opening balance from METRC active packages")
            result.created += 1
            continue
        pkg.lab_state, pkg.expiration_date, pkg.packaged_date = rec.lab_state, rec.expiration_date, rec.packaged_date
        pkg.thc_percent, pkg.cbd_percent = rec.thc_percent, rec.cbd_percent
        if pkg.status is not PackageStatus.FINISHED:
            pkg.status = status
        result.updated += 1
        if pkg.quantity != rec.quantity:
            result.differences.append(f"{rec.tag}: METRC has {rec.quantity}, this store has {pkg.quantity} {pkg.unit.value}")
        if pkg.location.name != rec.location_name:
            result.differences.append(f"{rec.tag}: METRC has it in {rec.location_name}, this store in {pkg.location.name}")
