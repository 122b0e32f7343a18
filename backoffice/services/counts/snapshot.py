"""Starting a count: freeze what the ledger, a POS inventory export and METRC's active
packages (a file, or fetched through the connector) expect for the count's scope.

Every source is read and checked before anything is written: a bad file starts nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import CountExpected, CountSession, Item, Location, Package, utcnow
from backoffice.domain.enums import CountStatus, PackageStatus
from backoffice.domain.numbers import to_money
from backoffice.domain.units import Unit, convert
from backoffice.domain.variance import unit_price
from backoffice.errors import ImportFileError, ValidationError
from backoffice.importers import metrc_packages, pos_inventory_file
from backoffice.importers.metrc_packages import MetrcPackageRecord
from backoffice.metrc.keys import MetrcKeyStore
from backoffice.services import audit, metrc_connection, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.counts.info import CHUNK, CountInfo, count_info
from backoffice.services.counts.scope import Scope, check_scope


@dataclass(frozen=True)
class _External:
    """One system's quantity for a tag, plus what that system says about the package."""

    quantity: Decimal
    unit: Unit | None
    category: str | None = None
    location: str | None = None
    item_metrc_id: int | None = None
    item_name: str | None = None
    sku: str | None = None


def _metrc_snapshot(records: Sequence[MetrcPackageRecord]) -> dict[str, _External]:
    return {
        r.tag: _External(r.quantity, r.unit, r.category, r.location_name, r.item_metrc_id, r.item_name)
        for r in records
        if not r.finished
    }


def _load_metrc(
    metrc_file: Path | None, metrc_packages_data: Sequence[Mapping[str, Any]] | None, strict: bool
) -> tuple[dict[str, _External] | None, str | None]:
    if metrc_file is not None and metrc_packages_data is not None:
        raise ValidationError("give METRC's packages either as a file or from the connector, not both")
    if metrc_file is None and metrc_packages_data is None:
        return None, None
    if metrc_file is not None:
        records, problems = metrc_packages.parse(Path(metrc_file), strict_tags=strict)
        source = Path(metrc_file).name
    else:
        source = "METRC active packages (fetched)"
        records, problems = metrc_packages.parse_records(list(metrc_packages_data or []), source, strict_tags=strict)
    if problems:
        raise ImportFileError(
            f"{source}: {len(problems)} problem(s) in METRC's package list; the count was not started. "
            "Fix the file (or fetch it again) and start the count again.",
            problems,
        )
    return _metrc_snapshot(records), source


def _load_pos(pos_file: Path | None, strict: bool) -> tuple[dict[str, _External] | None, str | None]:
    if pos_file is None:
        return None, None
    records = pos_inventory_file.parse(pos_file, strict_tags=strict)
    snapshot = {r.tag: _External(r.quantity, r.unit, None, r.room, None, r.product, r.sku) for r in records}
    return snapshot, Path(pos_file).name


def _in_units(ext: _External | None, unit: Unit, tag: str, system: str, notes: list[str]) -> Decimal | None:
    if ext is None:
        return None
    if ext.unit is None or ext.unit is unit:
        return ext.quantity
    if ext.unit.family is not unit.family:
        notes.append(
            f"{tag}: {system} counts it in {ext.unit.value}, this store in {unit.value}; "
            f"{system}'s quantity is left out"
        )
        return None
    return convert(ext.quantity, ext.unit, unit).quantize(Decimal("0.0001"))


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError("give the count a name, e.g. 'Gummies 10 mg, vault and floor'")
    if len(name) > 120:
        raise ValidationError("a count name is at most 120 characters")
    return name


def start_count_with_metrc(
    db: Database,
    actor: Actor,
    name: str,
    scope: Scope,
    *,
    blind: bool = True,
    pos_file: Path | None = None,
    keys: MetrcKeyStore | None = None,
) -> CountInfo:
    """Open a count with METRC's active packages fetched now through the connector, with the
    user's own METRC key (several states require per-user keys). Nothing is fetched for a
    count that would be refused anyway."""
    actor.require(Permission.COUNT)
    _check_name(name)
    data = metrc_connection.fetch_active_packages(db, actor, keys=keys)
    return start_count(db, actor, name, scope, blind=blind, pos_file=pos_file, metrc_packages_data=data)


def start_count(
    db: Database,
    actor: Actor,
    name: str,
    scope: Scope,
    *,
    blind: bool = True,
    pos_file: Path | None = None,
    metrc_file: Path | None = None,
    metrc_packages_data: Sequence[Mapping[str, Any]] | None = None,
) -> CountInfo:
    """Open a count and freeze the three systems' expectations for its scope.

    The POS export and METRC's list are read and checked before anything is written: a bad
    file starts nothing."""
    actor.require(Permission.COUNT)
    name = _check_name(name)
    strict = settings.read(db, settings.STRICT_TAGS)
    pos, pos_source = _load_pos(pos_file, strict)
    metrc, metrc_source = _load_metrc(metrc_file, metrc_packages_data, strict)
    notes: list[str] = []
    with db.transaction() as session:
        scope = check_scope(session, scope)
        snapshot_at = utcnow()
        count = CountSession(
            name=name,
            scope=scope.to_json(),
            blind=blind,
            status=CountStatus.OPEN,
            started_by_id=actor.user_id,
            snapshot_at=snapshot_at,
            pos_source=pos_source,
            metrc_source=metrc_source,
        )
        session.add(count)
        session.flush()
        rows = _expected_rows(session, count.id, scope, pos, metrc, notes)
        if rows:
            session.execute(insert(CountExpected), rows)
        audit.record(
            session,
            actor,
            "count.start",
            "count",
            count.id,
            after={
                "name": name,
                "scope": json.loads(scope.to_json()),
                "blind": blind,
                "lines": len(rows),
                "pos": pos_source,
                "metrc": metrc_source,
            },
            reason="; ".join(notes)[:400] or None,
        )
        session.flush()
        info = count_info(session, count)
    return replace(info, notes=tuple(notes))


def _expected_rows(
    session: Session,
    count_id: int,
    scope: Scope,
    pos: dict[str, _External] | None,
    metrc: dict[str, _External] | None,
    notes: list[str],
) -> list[dict[str, Any]]:
    query = (
        select(Package, Item, Location)
        .join(Item, Item.id == Package.item_id)
        .join(Location, Location.id == Package.location_id)
    )
    for values, column in (
        (scope.categories, Item.category),
        (scope.brands, Item.brand),
        (scope.skus, Item.sku),
        (scope.locations, Location.name),
    ):
        if values:
            query = query.where(column.in_(values))
    pos, metrc = pos or {}, metrc or {}
    rows: dict[str, dict[str, Any]] = {}

    def add(pkg: Package, item: Item, loc: Location) -> None:
        ledger_qty = Decimal(0) if pkg.status is PackageStatus.FINISHED else pkg.quantity
        rows[pkg.tag] = _row(
            count_id,
            pkg.tag,
            pkg.id,
            item.id,
            loc.id,
            pkg.unit,
            ledger_qty,
            _in_units(pos.get(pkg.tag), pkg.unit, pkg.tag, "the POS", notes),
            _in_units(metrc.get(pkg.tag), pkg.unit, pkg.tag, "METRC", notes),
            unit_price(item.price, pkg.unit, item.unit),
        )

    for pkg, item, loc in session.execute(query.where(Package.status != PackageStatus.FINISHED)):
        add(pkg, item, loc)
    others = sorted((set(pos) | set(metrc)) - rows.keys())
    known: set[str] = set()
    for start in range(0, len(others), CHUNK):
        for pkg, item, loc in session.execute(query.where(Package.tag.in_(others[start : start + CHUNK]))):
            known.add(pkg.tag)
            # finished here, in scope, yet the POS or METRC still holds stock of it: worth a line
            if any(src.get(pkg.tag) is not None and src[pkg.tag].quantity > 0 for src in (pos, metrc)):
                add(pkg, item, loc)
    known |= _known_tags(session, [t for t in others if t not in known])  # known but out of scope
    strangers = [t for t in others if t not in known]  # never in this store's ledger
    _place_strangers(session, count_id, scope, strangers, pos, metrc, rows, notes)
    return sorted(rows.values(), key=lambda r: r["tag"])


def _row(
    count_id: int,
    tag: str,
    package_id: int | None,
    item_id: int | None,
    location_id: int | None,
    unit: Unit,
    ledger_qty: Decimal | None,
    pos_qty: Decimal | None,
    metrc_qty: Decimal | None,
    price: Decimal,
) -> dict[str, Any]:
    return {
        "session_id": count_id,
        "tag": tag,
        "package_id": package_id,
        "item_id": item_id,
        "location_id": location_id,
        "unit": unit,
        "ledger_qty": ledger_qty,
        "pos_qty": pos_qty,
        "metrc_qty": metrc_qty,
        "unit_price": to_money(price),
    }


def _known_tags(session: Session, tags: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(tags), CHUNK):
        found.update(session.scalars(select(Package.tag).where(Package.tag.in_(tags[start : start + CHUNK]))))
    return found


def _place_strangers(
    session: Session,
    count_id: int,
    scope: Scope,
    tags: Sequence[str],
    pos: dict[str, _External],
    metrc: dict[str, _External],
    rows: dict[str, dict[str, Any]],
    notes: list[str],
) -> None:
    """Tags the POS or METRC lists but this store has never had: a line when what that system
    says about them (METRC's category and room, the POS's SKU and room) puts them in scope."""
    if not tags:
        return
    items_by_metrc = {i.metrc_item_id: i for i in session.scalars(select(Item).where(Item.metrc_item_id.is_not(None)))}
    items_by_sku = {i.sku: i for i in session.scalars(select(Item))}
    locations: dict[str, Location] = {}
    for known in session.scalars(select(Location)):
        locations[known.metrc_name] = known
        locations[known.name] = known
    unplaced: list[str] = []
    for tag in tags:
        m, p = metrc.get(tag), pos.get(tag)
        item = (items_by_metrc.get(m.item_metrc_id) if m and m.item_metrc_id else None) or (
            items_by_sku.get(p.sku) if p and p.sku else None
        )
        loc = locations.get((m.location if m else None) or (p.location if p else None) or "")
        category = item.category if item else (m.category if m else None)
        in_scope = scope.matches(
            category, item.brand if item else None, item.sku if item else None, loc.name if loc else None
        )
        if not in_scope:
            if m is None:  # a METRC package out of scope is someone else's count; a POS-only tag is lost otherwise
                unplaced.append(tag)
            continue
        unit = (m.unit if m else None) or (p.unit if p else None) or (item.unit if item else Unit.EACH)
        rows[tag] = _row(
            count_id,
            tag,
            None,
            item.id if item else None,
            loc.id if loc else None,
            unit,
            None,
            _in_units(p, unit, tag, "the POS", notes),
            _in_units(m, unit, tag, "METRC", notes),
            unit_price(item.price, unit, item.unit) if item else Decimal(0),
        )
    if unplaced:
        shown = ", ".join(unplaced[:10]) + (f" and {len(unplaced) - 10} more" if len(unplaced) > 10 else "")
        notes.append(
            f"{len(unplaced)} tag(s) in the POS export are unknown to this store and to METRC and could not "
            f"be placed in this count's scope: {shown}. Find them in the POS and correct it there."
        )
