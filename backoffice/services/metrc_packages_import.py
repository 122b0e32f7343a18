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
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.batches import in_chunks
from backoffice.db.engine import Database
from backoffice.db.models import Item, Location, Package, PendingPackageChange
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
    changed: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # tag, before, after
    held: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # waiting for a manager
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
        _apply(session, actor, records, result, Path(path).name)
        audit.record(
            session,
            actor,
            "import.metrc_packages",
            "file",
            Path(path).name,
            after={
                "created": result.created,
                "updated": result.updated,
                "items_created": result.items_created,
                "skipped_records": sorted({p.line for p in problems}),
                "differences": len(result.differences),
                "changed": len(result.changed),
                "held": len(result.held),
            },
        )
        for tag, before, after in result.changed:  # every field the file changed, with before and after
            audit.record(
                session,
                actor,
                "package.import_update",
                "package",
                tag,
                before=before,
                after=after,
                reason=f"METRC packages file {Path(path).name}",
            )
        for tag, before, after in result.held:
            audit.record(
                session,
                actor,
                "package.change_held",
                "package",
                tag,
                before=before,
                after=after,
                reason=f"METRC packages file {Path(path).name} would lift a hold or a failed lab state; "
                "a manager must accept it",
            )
    return result


# Descriptive fields a METRC file may refresh directly.
_PLAIN_FIELDS = ("expiration_date", "packaged_date", "thc_percent", "cbd_percent")


def _update(
    session: Session,
    actor: Actor,
    pkg: Package,
    rec: MetrcPackageRecord,
    status: PackageStatus,
    source: str,
    result: PackagesImportResult,
) -> None:
    """Refresh an existing package from its METRC record. A file never makes a package
    sellable by itself: lifting a hold or a failed lab state waits for a manager
    (``pending_changes``); changes that restrict it (a new hold, a failed test) apply at once."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    held_before: dict[str, Any] = {}
    held_after: dict[str, Any] = {}
    for name in _PLAIN_FIELDS:
        if getattr(pkg, name) != getattr(rec, name):
            before[name], after[name] = getattr(pkg, name), getattr(rec, name)
            setattr(pkg, name, getattr(rec, name))
    if rec.lab_state is not pkg.lab_state:
        lifts = rec.lab_state.sellable and not pkg.lab_state.sellable
        (held_before if lifts else before)["lab_state"] = pkg.lab_state
        (held_after if lifts else after)["lab_state"] = rec.lab_state
        if not lifts:
            pkg.lab_state = rec.lab_state
    if pkg.status is not PackageStatus.FINISHED and status is not pkg.status:
        lifts = pkg.status is PackageStatus.ON_HOLD
        (held_before if lifts else before)["status"] = pkg.status
        (held_after if lifts else after)["status"] = status
        if not lifts:
            pkg.status = status
    if after:
        result.changed.append((pkg.tag, before, after))
    if held_after:
        changes = {name: {"before": held_before[name], "after": held_after[name]} for name in held_after}
        session.add(
            PendingPackageChange(
                package_id=pkg.id,
                source=source,
                changes=audit.canonical_json(changes) or "{}",
                created_by_id=actor.user_id,
            )
        )
        result.held.append((pkg.tag, held_before, held_after))


def _apply(
    session: Session, actor: Actor, records: list[MetrcPackageRecord], result: PackagesImportResult, source: str
) -> None:
    locations = {loc.name: loc for loc in session.scalars(select(Location))}
    items_by_metrc = {i.metrc_item_id: i for i in session.scalars(select(Item).where(Item.metrc_item_id.is_not(None)))}
    items_by_name = {i.name: i for i in session.scalars(select(Item))}
    tags = [r.tag for r in records]
    existing: dict[str, Package] = {}
    for chunk in in_chunks(tags):
        for found in session.scalars(select(Package).where(Package.tag.in_(chunk))):
            existing[found.tag] = found
    doc = ledger.Doc("metrc_import", None)
    for rec in records:
        location = locations.get(rec.location_name)
        if location is None:
            location = Location(
                name=rec.location_name, kind=_location_kind(rec.location_name), metrc_name=rec.location_name
            )
            session.add(location)
            locations[rec.location_name] = location
            result.locations_created += 1
        # METRC's item id is the identity; two METRC items may share a name
        item = items_by_metrc.get(rec.item_metrc_id) if rec.item_metrc_id else items_by_name.get(rec.item_name)
        if item is None:
            item = Item(
                sku=f"M{rec.item_metrc_id}" if rec.item_metrc_id else f"M-{rec.tag[-8:]}",
                name=rec.item_name,
                category=rec.category,
                strain=rec.strain,
                quantity_type=rec.quantity_type,
                unit=rec.unit,
                metrc_item_id=rec.item_metrc_id,
            )
            session.add(item)
            items_by_name[item.name] = item
            if rec.item_metrc_id:
                items_by_metrc[rec.item_metrc_id] = item
            result.items_created += 1
        status = (
            PackageStatus.FINISHED if rec.finished else PackageStatus.ON_HOLD if rec.on_hold else PackageStatus.ACTIVE
        )
        pkg = existing.get(rec.tag)
        if pkg is None:
            session.flush()
            pkg = Package(
                tag=rec.tag,
                item=item,
                item_id=item.id,
                quantity=Decimal(0),
                unit=rec.unit,
                location=location,
                location_id=location.id,
                status=status,
                packaged_date=rec.packaged_date,
                expiration_date=rec.expiration_date,
                lab_state=rec.lab_state,
                thc_percent=rec.thc_percent,
                cbd_percent=rec.cbd_percent,
                received_at=rec.received_at,
                received_from_manifest=rec.manifest_number,
                metrc_package_id=rec.metrc_id,
            )
            session.add(pkg)
            session.flush()
            ledger.post(
                session,
                actor,
                pkg,
                LedgerKind.OPENING,
                rec.quantity,
                doc,
                note="opening balance from METRC active packages",
            )
            result.created += 1
            continue
        _update(session, actor, pkg, rec, status, source, result)
        result.updated += 1
        if pkg.quantity != rec.quantity:
            result.differences.append(
                f"{rec.tag}: METRC has {rec.quantity}, this store has {pkg.quantity} {pkg.unit.value}"
            )
        if pkg.location.name != rec.location_name:
            result.differences.append(
                f"{rec.tag}: METRC has it in {rec.location_name}, this store in {pkg.location.name}"
            )
