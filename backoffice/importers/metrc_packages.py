"""METRC active packages (``GET packages/v1/active`` JSON) → items, locations, packages.

Every record is checked before anything is written. A file with bad records imports
nothing unless the caller asks to skip them, and then the result lists what was skipped.
Existing packages get their descriptive fields refreshed, but a quantity or location that
differs from ours is reported, never silently overwritten: a sync gap is explained by a
count, not by quietly changing inventory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item, Location, Package
from backoffice.domain.enums import (
    LabState,
    LedgerKind,
    LocationKind,
    PackageStatus,
    QuantityType,
)
from backoffice.domain.numbers import parse_decimal, to_quantity
from backoffice.domain.tags import tag_problem
from backoffice.domain.units import Unit, parse_unit
from backoffice.errors import ImportFileError, Problem, ValidationError
from backoffice.importers.json_file import load_json
from backoffice.services import audit, ledger, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes


@dataclass(frozen=True)
class MetrcPackageRecord:
    record: int
    metrc_id: int | None
    tag: str
    quantity: Decimal
    unit: Unit
    location_name: str
    packaged_date: date | None
    expiration_date: date | None
    lab_state: LabState
    on_hold: bool
    finished: bool
    received_at: datetime | None
    manifest_number: str | None
    item_metrc_id: int | None
    item_name: str
    category: str
    strain: str
    quantity_type: QuantityType
    thc_percent: Decimal | None
    cbd_percent: Decimal | None


@dataclass
class PackagesImportResult:
    created: int = 0
    updated: int = 0
    items_created: int = 0
    locations_created: int = 0
    skipped: list[Problem] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    changes: Changes = Changes.INVENTORY


def parse(path: Path, *, strict_tags: bool = False) -> tuple[list[MetrcPackageRecord], list[Problem]]:
    """Read and check every record; returns the good records and the problems found."""
    name = Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"cannot read {name}: {exc}") from None
    data = load_json(text, name)
    return parse_records(data, name, strict_tags=strict_tags)


def parse_records(data: Any, name: str, *, strict_tags: bool = False) -> tuple[list[MetrcPackageRecord], list[Problem]]:
    """Check packages already decoded from JSON (a file, or the connector's ``active_packages()``)."""
    if not isinstance(data, list):
        raise ImportFileError(
            f"{name} is not a METRC active-packages list: expected a JSON array of packages, found {type(data).__name__}."
        )
    records: list[MetrcPackageRecord] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(data, start=1):
        record_problems: list[Problem] = []
        rec = _record(name, number, raw, strict_tags, record_problems)
        if rec is not None and rec.tag in seen:
            record_problems.append(Problem(name, number, "Label", f"tag {rec.tag} is also record {seen[rec.tag]}"))
        if record_problems:
            problems += record_problems
        elif rec is not None:
            seen[rec.tag] = number
            records.append(rec)
    return records, problems


def _record(name: str, number: int, raw: Any, strict: bool, problems: list[Problem]) -> MetrcPackageRecord | None:
    def bad(field_name: str, reason: str) -> None:
        problems.append(Problem(name, number, field_name, reason))

    if not isinstance(raw, dict):
        bad("", "a package record must be a JSON object")
        return None
    tag = raw.get("Label")
    if not isinstance(tag, str) or not tag:
        bad("Label", "missing package tag")
        tag = ""
    elif (why := tag_problem(tag, strict=strict)) is not None:
        bad("Label", why)
    quantity = Decimal(0)
    try:
        quantity = to_quantity(parse_decimal(raw.get("Quantity"), what="Quantity"))
        if quantity < 0:
            bad("Quantity", f"quantity {quantity} is negative")
    except ValidationError as exc:
        bad("Quantity", str(exc))
    unit = Unit.EACH
    try:
        unit = parse_unit(str(raw.get("UnitOfMeasureName") or ""))
    except ValidationError as exc:
        bad("UnitOfMeasureName", str(exc))
    item = raw.get("Item") if isinstance(raw.get("Item"), dict) else {}
    item_name = item.get("Name") or raw.get("ItemName") or raw.get("ProductName")
    if not item_name:
        bad("Item.Name", "missing item name")
    location = raw.get("LocationName") or ""
    packaged = _date(raw.get("PackagedDate"), "PackagedDate", bad)
    expires = _date(raw.get("ExpirationDate"), "ExpirationDate", bad)
    received = _datetime(raw.get("ReceivedDateTime"), "ReceivedDateTime", bad)
    qtype_raw = item.get("QuantityType") or ("CountBased" if unit is Unit.EACH else "WeightBased")
    try:
        qtype = QuantityType(qtype_raw)
    except ValueError:
        bad("Item.QuantityType", f"unknown quantity type {qtype_raw!r}")
        qtype = QuantityType.COUNT_BASED
    if problems:
        return None
    return MetrcPackageRecord(
        record=number, metrc_id=_int(raw.get("Id")), tag=tag, quantity=quantity, unit=unit,
        location_name=str(location).strip() or "Vault", packaged_date=packaged, expiration_date=expires,
        lab_state=LabState.parse(raw.get("LabTestingState")), on_hold=bool(raw.get("IsOnHold")),
        finished=bool(raw.get("FinishedDate")), received_at=received,
        manifest_number=raw.get("ReceivedFromManifestNumber"), item_metrc_id=_int(item.get("Id")),
        item_name=str(item_name).strip(), category=str(item.get("ProductCategoryName") or "Uncategorized"),
        strain=str(item.get("StrainName") or ""), quantity_type=qtype,
        thc_percent=_optional_decimal(item.get("UnitThcPercent")),
        cbd_percent=_optional_decimal(item.get("UnitCbdPercent")),
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _optional_decimal(value: Any) -> Decimal | None:
    try:
        return None if value is None else to_quantity(parse_decimal(value).quantize(Decimal("0.0001")))
    except ValidationError:
        return None


def _date(value: Any, field_name: str, bad: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        bad(field_name, f"{value!r} is not a date (expected YYYY-MM-DD)")
        return None


def _datetime(value: Any, field_name: str, bad: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        bad(field_name, f"{value!r} is not a date and time (expected ISO 8601 with offset)")
        return None
    if parsed.tzinfo is None:
        bad(field_name, f"{value!r} has no time zone offset")
        return None
    return parsed


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
