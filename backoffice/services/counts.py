"""Cycle counts: a slice of inventory counted against the ledger, the POS and METRC.

- ``start_count`` freezes what each system believes at one instant (``snapshot_at``): this
  store's ledger, a POS inventory export and METRC's active packages (file or connector).
- ``record_count`` appends a counted quantity for a tag. Entries are never updated, so
  several counters on several workstations never overwrite each other: a tag's count is the
  sum of its entries since its last recount (a recount supersedes what came before).
- ``variance_lines`` compares counted against each system. Sales and other ledger movements
  between the snapshot and the moment a tag was counted are accounted for (shown as
  conflicts), not reported as variance. Adjustments made for this count are shown beside
  the variance they resolve. Blind counts hide expected figures from counters until submit.
- ``submit`` freezes the count and stores its accuracy figures; afterwards corrections are
  new adjustments.
Packages counted that are out of scope or unknown to every system are listed, never dropped.
"""

from __future__ import annotations

import enum
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import (
    Adjustment,
    CountEntry,
    CountExpected,
    CountSession,
    Item,
    LedgerEntry,
    Location,
    Package,
    User,
    utcnow,
)
from backoffice.domain.enums import CountStatus, LedgerKind, LocationKind, PackageStatus
from backoffice.domain.numbers import parse_decimal, to_money, to_quantity
from backoffice.domain.tags import validate_tag
from backoffice.domain.units import Unit, convert
from backoffice.errors import ImportFileError, NotFound, RuleViolation, ValidationError
from backoffice.importers import metrc_packages, pos_inventory_file
from backoffice.importers.count_sheet_file import parse_keyed_sheet
from backoffice.importers.metrc_packages import MetrcPackageRecord
from backoffice.services import audit, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.transfers import NotRecorded

MAX_COUNT = Decimal(1_000_000)  # a typo guard: no package holds a million units
_CHUNK = 500


# --- scope ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """Which packages a count covers; every non-empty filter must match (empty = any)."""

    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"categories": list(self.categories), "brands": list(self.brands),
                           "skus": list(self.skus), "locations": list(self.locations)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Scope:
        data = json.loads(text)
        return cls(*(tuple(data.get(k, ())) for k in ("categories", "brands", "skus", "locations")))

    def describe(self) -> str:
        parts = [", ".join(values) for values in (self.categories, self.brands, self.skus) if values]
        where = ", ".join(self.locations) if self.locations else "all locations"
        return f"{' · '.join(parts) or 'everything'} in {where}"

    def matches(self, category: str | None, brand: str | None, sku: str | None, location: str | None) -> bool:
        """An unknown value (None) never satisfies a filter that is set."""
        return all(not wanted or value in wanted for wanted, value in (
            (self.categories, category), (self.brands, brand), (self.skus, sku), (self.locations, location)))


@dataclass(frozen=True)
class ScopeChoices:
    categories: list[str]
    brands: list[str]
    locations: list[str]


def scope_choices(db: Database) -> ScopeChoices:
    """What a count can be scoped by, for the start dialog."""
    with db.read() as session:
        return ScopeChoices(
            list(session.scalars(select(Item.category).distinct().order_by(Item.category))),
            [b for b in session.scalars(select(Item.brand).distinct().order_by(Item.brand)) if b],
            list(session.scalars(select(Location.name).where(Location.active).order_by(Location.name))),
        )


def _check_scope(session: Session, scope: Scope) -> Scope:
    clean = Scope(*(tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
                    for values in (scope.categories, scope.brands, scope.skus, scope.locations)))
    for values, column, what in ((clean.categories, Item.category, "category"), (clean.brands, Item.brand, "brand"),
                                 (clean.skus, Item.sku, "item SKU"), (clean.locations, Location.name, "location")):
        if not values:
            continue
        known = set(session.scalars(select(column).where(column.in_(values))))
        unknown = [v for v in values if v not in known]
        if unknown:
            raise ValidationError(f"no {what} named {', '.join(map(repr, unknown))} in this store; "
                                  f"check the spelling (the Inventory tab lists them)")
    return clean


# --- what callers get back --------------------------------------------------------------------

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


class LineStatus(enum.StrEnum):
    MATCH = "match"
    VARIANCE = "variance"
    RESOLVED = "resolved"  # the variance is covered by adjustments made for this count
    NOT_COUNTED = "not counted"
    COUNTED = "counted"  # blind: counted, result hidden from the counter
    FOUND = "out of scope"  # counted, known to this store, but not in the count's scope
    UNKNOWN = "unknown tag"  # counted, not in this store's ledger
    SYSTEM_ONLY = "not in ledger"  # POS or METRC lists it, this store's ledger does not; not counted


@dataclass(frozen=True)
class VarianceLine:
    tag: str
    item: str
    sku: str
    category: str
    brand: str
    location: str  # where the ledger has it
    counted_at_locations: str  # where counters found it
    unit: Unit | None
    in_scope: bool
    known: bool  # in this store's ledger
    ledger: Decimal | None  # frozen at the snapshot
    pos: Decimal | None
    metrc: Decimal | None
    sold_since: Decimal | None  # sales between the snapshot and the count: conflicts, not variance
    sales_since: int | None  # how many sale rows that is
    moved_since: Decimal | None  # other ledger changes in that window (receipts, splits, other adjustments)
    counted: Decimal | None
    counted_by: str
    expected: Decimal | None  # ledger at the snapshot + movements up to the count
    variance: Decimal | None  # counted − expected
    variance_pos: Decimal | None
    variance_metrc: Decimal | None
    unit_price: Decimal | None
    value: Decimal | None  # variance × price
    adjusted: Decimal  # adjustments made for this count
    remaining: Decimal | None  # variance not yet explained by those adjustments
    status: LineStatus
    hidden: bool  # blind count: expected figures withheld from this user
    bin: str = ""  # the package's bin in its room, where the counter finds it

    @property
    def needs_attention(self) -> bool:
        return self.status in (LineStatus.VARIANCE, LineStatus.UNKNOWN, LineStatus.FOUND, LineStatus.SYSTEM_ONLY,
                               LineStatus.NOT_COUNTED)


@dataclass(frozen=True)
class TagCount:
    """What a counter learns from a scan: the package, and what has been counted for it."""

    tag: str
    item: str
    location: str | None
    unit: Unit | None
    known: bool
    in_scope: bool
    counted: Decimal | None  # this count's total for the tag so far
    entries: int
    counted_by: str
    changes: Changes = Changes.COUNTS

    def describe(self) -> str:
        if not self.known:
            return f"{self.tag} is not in this store's inventory: set it aside and tell a manager"
        if not self.in_scope:
            return f"{self.item} ({self.tag}) is outside this count's scope; it is listed as found"
        return f"{self.item} ({self.tag})"


# --- start ------------------------------------------------------------------------------------

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
    return {r.tag: _External(r.quantity, r.unit, r.category, r.location_name, r.item_metrc_id, r.item_name)
            for r in records if not r.finished}


def _load_metrc(metrc_file: Path | None, metrc_packages_data: Sequence[Mapping[str, Any]] | None,
                strict: bool) -> tuple[dict[str, _External] | None, str | None]:
    if metrc_file is not None and metrc_packages_data is not None:
        raise ValidationError("give METRC's packages either as a file or from the connector, not both")
    if metrc_file is None and metrc_packages_data is None:
        return None, None
    if metrc_file is not None:
        records, problems = metrc_packages.parse(Path(metrc_file), strict_tags=strict)
        source = Path(metrc_file).name
    else:
        source = "METRC packages/v1/active"
        records, problems = metrc_packages.parse_records(list(metrc_packages_data or []), source, strict_tags=strict)
    if problems:
        raise ImportFileError(
            f"{source}: {len(problems)} problem(s) in METRC's package list; the count was not started. "
            "Fix the file (or fetch it again) and start the count again.", problems)
    return _metrc_snapshot(records), source


def _load_pos(pos_file: Path | None, strict: bool) -> tuple[dict[str, _External] | None, str | None]:
    if pos_file is None:
        return None, None
    records = pos_inventory_file.parse(pos_file, strict_tags=strict)
    return {r.tag: _External(r.quantity, r.unit, None, r.room, None, r.product, r.sku) for r in records}, Path(pos_file).name


def _in_units(ext: _External | None, unit: Unit, tag: str, system: str, notes: list[str]) -> Decimal | None:
    if ext is None:
        return None
    if ext.unit is None or ext.unit is unit:
        return ext.quantity
    if ext.unit.family is not unit.family:
        notes.append(f"{tag}: {system} counts it in {ext.unit.value}, this store in {unit.value}; "
                     f"{system}'s quantity is left out")
        return None
    return convert(ext.quantity, ext.unit, unit).quantize(Decimal("0.0001"))


def start_count(db: Database, actor: Actor, name: str, scope: Scope, *, blind: bool = True,
                pos_file: Path | None = None, metrc_file: Path | None = None,
                metrc_packages_data: Sequence[Mapping[str, Any]] | None = None) -> CountInfo:
    """Open a count and freeze the three systems' expectations for its scope.

    The POS export and METRC's list are read and checked before anything is written: a bad
    file starts nothing."""
    actor.require(Permission.COUNT)
    name = name.strip()
    if not name:
        raise ValidationError("give the count a name, e.g. 'Gummies 10 mg, vault and floor'")
    if len(name) > 120:
        raise ValidationError("a count name is at most 120 characters")
    strict = settings.read(db, settings.STRICT_TAGS)
    pos, pos_source = _load_pos(pos_file, strict)
    metrc, metrc_source = _load_metrc(metrc_file, metrc_packages_data, strict)
    notes: list[str] = []
    with db.transaction() as session:
        scope = _check_scope(session, scope)
        snapshot_at = utcnow()
        count = CountSession(name=name, scope=scope.to_json(), blind=blind, status=CountStatus.OPEN,
                             started_by_id=actor.user_id, snapshot_at=snapshot_at, pos_source=pos_source,
                             metrc_source=metrc_source)
        session.add(count)
        session.flush()
        rows = _expected_rows(session, count.id, scope, pos, metrc, notes)
        if rows:
            session.execute(insert(CountExpected), rows)
        audit.record(session, actor, "count.start", "count", count.id,
                     after={"name": name, "scope": json.loads(scope.to_json()), "blind": blind,
                            "lines": len(rows), "pos": pos_source, "metrc": metrc_source},
                     reason="; ".join(notes)[:400] or None)
        session.flush()
        info = _info(session, count)
    return replace(info, notes=tuple(notes))


def _expected_rows(session: Session, count_id: int, scope: Scope, pos: dict[str, _External] | None,
                   metrc: dict[str, _External] | None, notes: list[str]) -> list[dict[str, Any]]:
    query = (select(Package, Item, Location).join(Item, Item.id == Package.item_id)
             .join(Location, Location.id == Package.location_id))
    for values, column in ((scope.categories, Item.category), (scope.brands, Item.brand), (scope.skus, Item.sku),
                           (scope.locations, Location.name)):
        if values:
            query = query.where(column.in_(values))
    pos, metrc = pos or {}, metrc or {}
    rows: dict[str, dict[str, Any]] = {}

    def add(pkg: Package, item: Item, loc: Location) -> None:
        ledger_qty = Decimal(0) if pkg.status is PackageStatus.FINISHED else pkg.quantity
        rows[pkg.tag] = _row(count_id, pkg.tag, pkg.id, item.id, loc.id, pkg.unit, ledger_qty,
                             _in_units(pos.get(pkg.tag), pkg.unit, pkg.tag, "the POS", notes),
                             _in_units(metrc.get(pkg.tag), pkg.unit, pkg.tag, "METRC", notes),
                             item.price * _per_item_unit(pkg.unit, item.unit))

    for pkg, item, loc in session.execute(query.where(Package.status != PackageStatus.FINISHED)):
        add(pkg, item, loc)
    others = sorted((set(pos) | set(metrc)) - rows.keys())
    known: set[str] = set()
    for start in range(0, len(others), _CHUNK):
        for pkg, item, loc in session.execute(query.where(Package.tag.in_(others[start:start + _CHUNK]))):
            known.add(pkg.tag)
            # finished here, in scope, yet the POS or METRC still holds stock of it: worth a line
            if any(src.get(pkg.tag) is not None and src[pkg.tag].quantity > 0 for src in (pos, metrc)):
                add(pkg, item, loc)
    known |= _known_tags(session, [t for t in others if t not in known])  # known but out of scope
    strangers = [t for t in others if t not in known]  # never in this store's ledger
    _place_strangers(session, count_id, scope, strangers, pos, metrc, rows, notes)
    return sorted(rows.values(), key=lambda r: r["tag"])


def _row(count_id: int, tag: str, package_id: int | None, item_id: int | None, location_id: int | None, unit: Unit,
         ledger_qty: Decimal | None, pos_qty: Decimal | None, metrc_qty: Decimal | None, price: Decimal) -> dict[str, Any]:
    return {"session_id": count_id, "tag": tag, "package_id": package_id, "item_id": item_id,
            "location_id": location_id, "unit": unit, "ledger_qty": ledger_qty, "pos_qty": pos_qty,
            "metrc_qty": metrc_qty, "unit_price": to_money(price)}


def _per_item_unit(package_unit: Unit, item_unit: Unit) -> Decimal:
    """How many of the item's price units one package unit is (1 when they are the same)."""
    if package_unit is item_unit or package_unit.family is not item_unit.family:
        return Decimal(1)
    return convert(Decimal(1), package_unit, item_unit)


def _known_tags(session: Session, tags: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(tags), _CHUNK):
        found.update(session.scalars(select(Package.tag).where(Package.tag.in_(tags[start:start + _CHUNK]))))
    return found


def _place_strangers(session: Session, count_id: int, scope: Scope, tags: Sequence[str], pos: dict[str, _External],
                     metrc: dict[str, _External], rows: dict[str, dict[str, Any]], notes: list[str]) -> None:
    """Tags the POS or METRC lists but this store has never had: a line when what that system
    says about them (METRC's category and room, the POS's SKU and room) puts them in scope."""
    if not tags:
        return
    items_by_metrc = {i.metrc_item_id: i for i in session.scalars(select(Item).where(Item.metrc_item_id.is_not(None)))}
    items_by_sku = {i.sku: i for i in session.scalars(select(Item))}
    locations = {}
    for loc in session.scalars(select(Location)):
        locations[loc.metrc_name] = loc
        locations[loc.name] = loc
    unplaced: list[str] = []
    for tag in tags:
        m, p = metrc.get(tag), pos.get(tag)
        item = (items_by_metrc.get(m.item_metrc_id) if m and m.item_metrc_id else None) or \
               (items_by_sku.get(p.sku) if p and p.sku else None)
        loc = locations.get((m.location if m else None) or (p.location if p else None) or "")
        category = item.category if item else (m.category if m else None)
        in_scope = scope.matches(category, item.brand if item else None, item.sku if item else None,
                                 loc.name if loc else None)
        if not in_scope:
            if m is None:  # a METRC package out of scope is someone else's count; a POS-only tag is lost otherwise
                unplaced.append(tag)
            continue
        unit = (m.unit if m else None) or (p.unit if p else None) or (item.unit if item else Unit.EACH)
        rows[tag] = _row(count_id, tag, None, item.id if item else None, loc.id if loc else None, unit, None,
                         _in_units(p, unit, tag, "the POS", notes), _in_units(m, unit, tag, "METRC", notes),
                         item.price * _per_item_unit(unit, item.unit) if item else Decimal(0))
    if unplaced:
        shown = ", ".join(unplaced[:10]) + (f" and {len(unplaced) - 10} more" if len(unplaced) > 10 else "")
        notes.append(f"{len(unplaced)} tag(s) in the POS export are unknown to this store and to METRC and could not "
                     f"be placed in this count's scope: {shown}. Find them in the POS and correct it there.")


# --- reading counts ---------------------------------------------------------------------------

def _session(session: Session, count_id: int, *, lock: bool = False, share: bool = False) -> CountSession:
    query = select(CountSession).where(CountSession.id == count_id)
    if lock or share:
        query = query.with_for_update(read=share and not lock)
    count = session.scalar(query)
    if count is None:
        raise NotFound(f"there is no count #{count_id}")
    return count


def _open(session: Session, count_id: int, *, lock: bool = False) -> CountSession:
    """The count, share-locked so a submit waits for entries in flight (and vice versa)."""
    count = _session(session, count_id, lock=lock, share=not lock)
    if count.status is not CountStatus.OPEN:
        raise RuleViolation(
            f"count #{count.id} ({count.name}) was submitted {count.submitted_at:%Y-%m-%d %H:%M} UTC and is frozen; "
            "correct inventory with an adjustment instead"
        )
    return count


def _usernames(session: Session) -> dict[int | None, str]:
    names: dict[int | None, str] = dict(session.execute(select(User.id, User.username)).all())
    names[None] = "system"
    return names


def _info(session: Session, count: CountSession) -> CountInfo:
    names = _usernames(session)
    in_ledger = (CountExpected.session_id == count.id, CountExpected.ledger_qty.is_not(None))
    expected = session.scalar(select(func.count()).select_from(CountExpected).where(*in_ledger))
    counted = session.scalar(
        select(func.count(CountEntry.tag.distinct())).join(
            CountExpected, (CountExpected.session_id == CountEntry.session_id) & (CountExpected.tag == CountEntry.tag))
        .where(CountEntry.session_id == count.id, *in_ledger))
    entries = session.scalar(select(func.count()).select_from(CountEntry).where(CountEntry.session_id == count.id))
    return CountInfo(
        count.id, count.name, Scope.from_json(count.scope), count.blind, count.status, count.snapshot_at,
        names.get(count.started_by_id, "?"), count.pos_source, count.metrc_source, int(expected or 0),
        int(counted or 0), int(entries or 0), count.submitted_at,
        names.get(count.submitted_by_id) if count.submitted_by_id else None, count.lines_counted, count.lines_matching,
        count.unit_variance, count.dollar_variance,
    )


def get_count(db: Database, count_id: int) -> CountInfo:
    with db.read() as session:
        return _info(session, _session(session, count_id))


def list_counts(db: Database, *, limit: int = 100) -> list[CountInfo]:
    """Newest first."""
    with db.read() as session:
        return [_info(session, c) for c in session.scalars(select(CountSession).order_by(CountSession.id.desc())
                                                           .limit(limit))]


# --- counting ---------------------------------------------------------------------------------

def _effective(entries: Sequence[Any]) -> list[Any]:
    """A tag's entries that count: everything since its last recount (entries in id order)."""
    start = 0
    for position, entry in enumerate(entries):
        if entry.supersedes_previous:
            start = position
    return list(entries[start:])


def _check_quantity(quantity: Decimal | str | int) -> Decimal:
    value = to_quantity(parse_decimal(quantity, what="counted quantity"), what="counted quantity")
    if value < 0:
        raise ValidationError(f"a counted quantity cannot be negative ({value}); count what is there, 0 if nothing")
    if value >= MAX_COUNT:
        raise ValidationError(f"{value} is not believable for one package; check the number")
    return value


def _location_named(session: Session, name: str) -> Location:
    loc = session.scalar(select(Location).where(Location.name == name))
    if loc is None:
        names = ", ".join(session.scalars(select(Location.name).order_by(Location.name)))
        raise NotFound(f"there is no location {name!r}; locations are: {names}")
    return loc


def record_count(db: Database, actor: Actor, count_id: int, tag: str, quantity: Decimal | str | int, *,
                 location: str | None = None, recount: bool = False, note: str | None = None,
                 workstation: str | None = None) -> TagCount:
    """Append one counted quantity for ``tag``; ``recount`` replaces the tag's earlier entries.

    Counting a package on the sales floor that the ledger still has elsewhere is refused
    (transfer-before-move): its location change must be recorded first."""
    actor.require(Permission.COUNT)
    value = _check_quantity(quantity)
    if note is not None and len(note) > 400:
        raise ValidationError("a count note is at most 400 characters")
    with db.transaction() as session:
        count = _open(session, count_id)
        tag = validate_tag(tag, strict=settings.get(session, settings.STRICT_TAGS))
        pkg = session.scalar(select(Package).where(Package.tag == tag))
        loc = _location_named(session, location) if location else None
        if pkg is not None and loc is not None and loc.kind is LocationKind.FLOOR and pkg.location_id != loc.id:
            raise NotRecorded(
                f"STOP: package {tag} is recorded in {pkg.location.name}, not on {loc.name}. Record its transfer "
                "(the METRC location change) first, then count it here.",
                tag=tag, from_location=pkg.location.name, to_location=loc.name,
            )
        expected = session.scalar(select(CountExpected).where(CountExpected.session_id == count.id,
                                                              CountExpected.tag == tag))
        session.add(CountEntry(session_id=count.id, tag=tag, package_id=pkg.id if pkg else None, quantity=value,
                               location_id=loc.id if loc else None, in_scope=expected is not None,
                               supersedes_previous=recount, counted_by_id=actor.user_id, counted_at=utcnow(),
                               workstation=workstation, note=note))
        session.flush()
        if recount:
            audit.record(session, actor, "count.recount", "count", count.id, after={"tag": tag, "quantity": value},
                         reason=note)
        return _tag_count(session, count, tag, pkg, expected)


def _tag_count(session: Session, count: CountSession, tag: str, pkg: Package | None,
               expected: CountExpected | None) -> TagCount:
    entries = _effective(list(session.scalars(select(CountEntry).where(
        CountEntry.session_id == count.id, CountEntry.tag == tag).order_by(CountEntry.id))))
    names = _usernames(session)
    item = pkg.item.name if pkg else _item_name(session, expected)
    return TagCount(
        tag, item, pkg.location.name if pkg else None, pkg.unit if pkg else (expected.unit if expected else None),
        pkg is not None, expected is not None,
        sum((e.quantity for e in entries), Decimal(0)) if entries else None, len(entries),
        ", ".join(dict.fromkeys(names.get(e.counted_by_id, "?") for e in entries)),
    )


def _item_name(session: Session, expected: CountExpected | None) -> str:
    if expected is not None and expected.item_id is not None:
        return session.get(Item, expected.item_id).name  # type: ignore[union-attr]
    return "unknown package"


def tag_status(db: Database, actor: Actor, count_id: int, tag: str) -> TagCount:
    """What a scan shows before a quantity is entered: the package and its count so far."""
    actor.require(Permission.COUNT)
    with db.read() as session:
        count = _session(session, count_id)
        tag = validate_tag(tag, strict=settings.get(session, settings.STRICT_TAGS))
        pkg = session.scalar(select(Package).where(Package.tag == tag))
        expected = session.scalar(select(CountExpected).where(CountExpected.session_id == count.id,
                                                              CountExpected.tag == tag))
        return _tag_count(session, count, tag, pkg, expected)


@dataclass(frozen=True)
class SheetImport:
    file: str
    recorded: int
    blank: int
    changes: Changes = Changes.COUNTS | Changes.AUDIT


def import_sheet(db: Database, actor: Actor, count_id: int, path: Path | str, *, location: str | None = None,
                 workstation: str | None = None) -> SheetImport:
    """Key in a printed count sheet: a CSV of tag, quantity (blank quantity = box left empty).

    Each line states the count for its tag, so it supersedes earlier entries for that tag
    and importing the same sheet twice changes nothing. All lines or none are recorded."""
    actor.require(Permission.COUNT)
    strict = settings.read(db, settings.STRICT_TAGS)
    sheet = parse_keyed_sheet(path, strict_tags=strict)
    with db.transaction() as session:
        count = _open(session, count_id)
        loc = _location_named(session, location) if location else None
        tags = [line.tag for line in sheet.lines]
        packages = {p.tag: p for start in range(0, len(tags), _CHUNK)
                    for p in session.scalars(select(Package).where(Package.tag.in_(tags[start:start + _CHUNK])))}
        expected = set(session.scalars(select(CountExpected.tag).where(CountExpected.session_id == count.id)))
        now = utcnow()
        for line in sheet.lines:
            pkg = packages.get(line.tag)
            session.add(CountEntry(session_id=count.id, tag=line.tag, package_id=pkg.id if pkg else None,
                                   quantity=line.quantity, location_id=loc.id if loc else None,
                                   in_scope=line.tag in expected, supersedes_previous=True,
                                   counted_by_id=actor.user_id, counted_at=now, workstation=workstation,
                                   note=f"count sheet {sheet.file}, line {line.line}"))
        audit.record(session, actor, "count.import_sheet", "count", count.id,
                     after={"file": sheet.file, "lines": len(sheet.lines), "blank": sheet.blank})
    return SheetImport(sheet.file, len(sheet.lines), sheet.blank)


# --- variances --------------------------------------------------------------------------------

@dataclass
class _Movements:
    sold: Decimal = Decimal(0)
    sales: int = 0
    other: Decimal = Decimal(0)
    after_snapshot: Decimal = Decimal(0)  # every change since the snapshot, for packages found out of scope


@dataclass
class _Counted:
    quantity: Decimal
    at: datetime
    by: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Pkg:
    id: int
    quantity: Decimal
    unit: Unit
    item_id: int
    location: str
    bin: str | None


@dataclass(frozen=True)
class _ItemInfo:
    name: str
    sku: str
    category: str
    brand: str
    price: Decimal
    unit: Unit


def _counted(session: Session, count_id: int) -> dict[str, _Counted]:
    names = _usernames(session)
    loc_names = dict(session.execute(select(Location.id, Location.name)).all())
    by_tag: dict[str, list[Any]] = defaultdict(list)
    for entry in session.execute(
            select(CountEntry.tag, CountEntry.quantity, CountEntry.counted_at, CountEntry.counted_by_id,
                   CountEntry.location_id, CountEntry.supersedes_previous)
            .where(CountEntry.session_id == count_id).order_by(CountEntry.id)):
        by_tag[entry.tag].append(entry)
    result: dict[str, _Counted] = {}
    for tag, entries in by_tag.items():
        effective = _effective(entries)
        result[tag] = _Counted(
            sum((e.quantity for e in effective), Decimal(0)), max(e.counted_at for e in effective),
            list(dict.fromkeys(names.get(e.counted_by_id, "?") for e in effective)),
            list(dict.fromkeys(loc_names[e.location_id] for e in effective if e.location_id is not None)),
        )
    return result


def _movements(session: Session, package_ids: Sequence[int], since: datetime, until: Mapping[int, datetime],
               excluded_adjustments: set[int]) -> dict[int, _Movements]:
    """Ledger changes after the snapshot, per package, up to the moment each was counted."""
    moves: dict[int, _Movements] = defaultdict(_Movements)
    for start in range(0, len(package_ids), _CHUNK):
        rows = session.execute(
            select(LedgerEntry.package_id, LedgerEntry.at, LedgerEntry.kind, LedgerEntry.quantity_delta,
                   LedgerEntry.doc_type, LedgerEntry.doc_id)
            .where(LedgerEntry.package_id.in_(package_ids[start:start + _CHUNK]), LedgerEntry.at > since)
        )
        for package_id, at, kind, delta, doc_type, doc_id in rows:
            move = moves[package_id]
            move.after_snapshot += delta
            if doc_type == "adjustment" and doc_id in excluded_adjustments:
                continue  # this count's own corrections are shown as "adjusted", not as movement
            end = until.get(package_id)
            if end is not None and at > end:
                continue
            if kind is LedgerKind.SALE:
                move.sold -= delta
                move.sales += 1
            else:
                move.other += delta
    return moves


def _lines(session: Session, count: CountSession, *, hide: bool) -> list[VarianceLine]:
    # plain column rows, not ORM objects: a whole-store count has 50,000 lines
    expected = {e.tag: e for e in session.execute(
        select(CountExpected.tag, CountExpected.package_id, CountExpected.item_id, CountExpected.location_id,
               CountExpected.unit, CountExpected.ledger_qty, CountExpected.pos_qty, CountExpected.metrc_qty,
               CountExpected.unit_price).where(CountExpected.session_id == count.id))}
    counted = _counted(session, count.id)
    tags = sorted(set(expected) | set(counted))
    packages: dict[str, _Pkg] = {}
    for start in range(0, len(tags), _CHUNK):
        for tag, *fields in session.execute(
                select(Package.tag, Package.id, Package.quantity, Package.unit, Package.item_id, Location.name,
                       Package.bin)
                .join(Location, Location.id == Package.location_id).where(Package.tag.in_(tags[start:start + _CHUNK]))):
            packages[tag] = _Pkg(*fields)
    adjustments: dict[int, Decimal] = defaultdict(Decimal)
    adjustment_ids: set[int] = set()
    for adj in session.scalars(select(Adjustment).where(Adjustment.count_session_id == count.id)):
        adjustments[adj.package_id] += adj.quantity_delta
        adjustment_ids.add(adj.id)
    until = {packages[t].id: c.at for t, c in counted.items() if t in packages}
    moves = _movements(session, [p.id for p in packages.values()], count.snapshot_at, until, adjustment_ids)
    item_ids = sorted({p.item_id for p in packages.values()} | {e.item_id for e in expected.values() if e.item_id})
    items: dict[int, _ItemInfo] = {}
    for start in range(0, len(item_ids), _CHUNK):
        for item_id, *fields in session.execute(
                select(Item.id, Item.name, Item.sku, Item.category, Item.brand, Item.price, Item.unit)
                .where(Item.id.in_(item_ids[start:start + _CHUNK]))):
            items[item_id] = _ItemInfo(*fields)
    loc_names = dict(session.execute(select(Location.id, Location.name)).all())
    lines = [_line(tag, expected.get(tag), counted.get(tag), packages.get(tag), moves, adjustments, items, loc_names,
                   count, hide) for tag in tags]
    return sorted(lines, key=_size_key)


def _size_key(line: VarianceLine) -> tuple[Decimal, Decimal, str]:
    return (-abs(line.value or 0), -abs(line.variance or 0), line.tag)


def _line(tag: str, exp: Any, cnt: _Counted | None, pkg: _Pkg | None, moves: Mapping[int, _Movements],
          adjustments: Mapping[int, Decimal], items: Mapping[int, _ItemInfo], loc_names: Mapping[int, str],
          count: CountSession, hide: bool) -> VarianceLine:
    """One tag's line; ``exp`` is its frozen expectation row (None when found out of scope)."""
    item = items.get(pkg.item_id) if pkg else (items.get(exp.item_id) if exp and exp.item_id else None)
    unit = pkg.unit if pkg else (exp.unit if exp else None)
    move = moves.get(pkg.id, _Movements()) if pkg else _Movements()
    adjusted = adjustments.get(pkg.id, Decimal(0)) if pkg else Decimal(0)
    if exp is not None and exp.ledger_qty is not None:
        ledger_qty: Decimal | None = exp.ledger_qty
    elif pkg is not None:  # found out of scope: the ledger's balance at the snapshot
        ledger_qty = pkg.quantity - move.after_snapshot
    else:
        ledger_qty = None
    window = move.other - move.sold
    expected = ledger_qty + window if ledger_qty is not None else None
    pos_qty, metrc_qty = (exp.pos_qty, exp.metrc_qty) if exp else (None, None)
    quantity = cnt.quantity if cnt else None
    price = exp.unit_price if exp else (item.price * _per_item_unit(unit, item.unit) if item and unit else None)

    def versus(system: Decimal | None, source: str | None) -> Decimal | None:
        if quantity is None or source is None:
            return None
        return quantity - ((system or Decimal(0)) + window)

    variance = quantity - (expected or Decimal(0)) if quantity is not None else None
    status = _status(exp, cnt, pkg, variance, adjusted)
    if hide and status in (LineStatus.MATCH, LineStatus.VARIANCE, LineStatus.RESOLVED):
        status = LineStatus.COUNTED
    value = _money(variance * price) if variance is not None and price is not None else None
    location = pkg.location if pkg else (loc_names.get(exp.location_id, "") if exp and exp.location_id else "")
    line = VarianceLine(
        tag=tag, item=item.name if item else "unknown package", sku=item.sku if item else "",
        category=item.category if item else "", brand=item.brand if item else "", location=location,
        counted_at_locations=", ".join(cnt.locations) if cnt else "", unit=unit,
        in_scope=exp is not None, known=pkg is not None, ledger=ledger_qty, pos=pos_qty, metrc=metrc_qty,
        sold_since=move.sold if pkg else None, sales_since=move.sales if pkg else None,
        moved_since=move.other if pkg else None, counted=quantity, counted_by=", ".join(cnt.by) if cnt else "",
        expected=expected, variance=variance, variance_pos=versus(pos_qty, count.pos_source),
        variance_metrc=versus(metrc_qty, count.metrc_source), unit_price=price, value=value, adjusted=adjusted,
        remaining=variance - adjusted if variance is not None else None, status=status, hidden=False,
        bin=(pkg.bin or "") if pkg else "",
    )
    if hide:
        line = replace(line, ledger=None, pos=None, metrc=None, sold_since=None, sales_since=None, moved_since=None,
                       expected=None, variance=None, variance_pos=None, variance_metrc=None, value=None,
                       adjusted=Decimal(0), remaining=None, hidden=True)
    return line


def _money(amount: Decimal) -> Decimal:
    value = to_money(amount)
    return abs(value) if value == 0 else value  # no "-0.00"


def _status(exp: Any, cnt: _Counted | None, pkg: _Pkg | None, variance: Decimal | None,
            adjusted: Decimal) -> LineStatus:
    if cnt is None:
        return LineStatus.NOT_COUNTED if exp is not None and exp.ledger_qty is not None else LineStatus.SYSTEM_ONLY
    if pkg is None:
        return LineStatus.UNKNOWN
    if exp is None:
        return LineStatus.FOUND
    if variance == 0:
        return LineStatus.MATCH
    return LineStatus.RESOLVED if variance == adjusted else LineStatus.VARIANCE


def variance_lines(db: Database, actor: Actor, count_id: int) -> list[VarianceLine]:
    """Every line of the count, the largest dollar variance first."""
    actor.require(Permission.COUNT)
    with db.read() as session:
        count = _session(session, count_id)
        hide = count.blind and count.status is CountStatus.OPEN and not actor.can(Permission.APPROVE_ADJUSTMENT)
        return _lines(session, count, hide=hide)


@dataclass(frozen=True)
class Accuracy:
    lines_counted: int
    lines_matching: int
    unit_variance: Decimal  # sum of |variance| in each package's unit
    dollar_variance: Decimal  # sum of |variance × price|

    @property
    def percent(self) -> Decimal | None:
        if not self.lines_counted:
            return None
        return (Decimal(self.lines_matching) * 100 / self.lines_counted).quantize(Decimal("0.1"))


def accuracy_of(lines: Iterable[VarianceLine]) -> Accuracy:
    """Lines counted (in scope or found), how many matched the ledger before any adjustment."""
    counted = [ln for ln in lines if ln.counted is not None and ln.variance is not None]
    return Accuracy(
        len(counted), sum(1 for ln in counted if ln.variance == 0),
        sum((abs(ln.variance) for ln in counted if ln.variance is not None), Decimal(0)),
        sum((abs(ln.value) for ln in counted if ln.value is not None), Decimal(0)),
    )


# --- submit -----------------------------------------------------------------------------------

def submit(db: Database, actor: Actor, count_id: int, *, uncounted_as_zero: bool = False) -> CountInfo:
    """Freeze the count and store its accuracy figures.

    Packages the ledger expects but nobody counted stop the submit, unless the counter says
    they were looked for and not found (``uncounted_as_zero``): they are then recorded as 0."""
    actor.require(Permission.COUNT)
    with db.transaction() as session:
        count = _open(session, count_id, lock=True)
        lines = _lines(session, count, hide=False)
        missing = [ln for ln in lines if ln.status is LineStatus.NOT_COUNTED]
        if missing and not uncounted_as_zero:
            shown = ", ".join(ln.tag for ln in missing[:5]) + (" …" if len(missing) > 5 else "")
            raise RuleViolation(
                f"{len(missing)} package(s) in scope are not counted yet ({shown}). Count them, or submit saying "
                "they were looked for and not found (they are then recorded as 0)"
            )
        if missing:
            now = utcnow()
            package_ids = dict(session.execute(select(CountExpected.tag, CountExpected.package_id).where(
                CountExpected.session_id == count.id)).all())
            session.execute(insert(CountEntry), [
                {"session_id": count.id, "tag": ln.tag, "package_id": package_ids.get(ln.tag), "quantity": Decimal(0),
                 "in_scope": True, "supersedes_previous": True, "counted_by_id": actor.user_id, "counted_at": now,
                 "note": "not found; recorded as 0 at submit"} for ln in missing])
            lines = _lines(session, count, hide=False)
        figures = accuracy_of(lines)
        count.status, count.submitted_at, count.submitted_by_id = CountStatus.SUBMITTED, utcnow(), actor.user_id
        count.lines_counted, count.lines_matching = figures.lines_counted, figures.lines_matching
        count.unit_variance, count.dollar_variance = figures.unit_variance, to_money(figures.dollar_variance)
        audit.record(session, actor, "count.submit", "count", count.id, before={"status": "open"},
                     after={"status": "submitted", "lines_counted": figures.lines_counted,
                            "lines_matching": figures.lines_matching, "unit_variance": figures.unit_variance,
                            "dollar_variance": figures.dollar_variance, "recorded_as_zero": len(missing)})
        session.flush()
        return _info(session, count)


# --- count sheet ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SheetLine:
    tag: str
    item: str
    location: str
    unit: str
    expected: Decimal | None  # printed only on counts that are not blind
    bin: str = ""


def sheet_lines(db: Database, actor: Actor, count_id: int) -> tuple[CountInfo, list[SheetLine]]:
    """The packages to count, by location, item and tag, for the printed sheet."""
    actor.require(Permission.COUNT)
    with db.read() as session:
        count = _session(session, count_id)
        loc_names = dict(session.execute(select(Location.id, Location.name)).all())
        rows = session.execute(
            select(CountExpected, Item.name, Package.bin).outerjoin(Item, Item.id == CountExpected.item_id)
            .outerjoin(Package, Package.id == CountExpected.package_id).where(CountExpected.session_id == count.id)
        ).all()
        lines = [SheetLine(e.tag, name or "unknown package", loc_names.get(e.location_id, "") if e.location_id else "",
                           e.unit.value, None if count.blind else e.ledger_qty, bin or "") for e, name, bin in rows]
        return _info(session, count), sorted(lines, key=lambda ln: (ln.location, ln.bin, ln.item, ln.tag))
