"""Counting: a scan's feedback, appending a counted quantity, and keying in a printed sheet.

Entries are never updated, so several counters on several workstations never overwrite each
other: a tag's count is the sum of its entries since its last recount.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import CountEntry, CountExpected, CountSession, Item, Package, utcnow
from backoffice.domain.enums import LocationKind
from backoffice.domain.numbers import parse_decimal, to_quantity
from backoffice.domain.units import Unit
from backoffice.domain.variance import effective_entries
from backoffice.errors import ValidationError
from backoffice.importers.count_sheet_file import parse_keyed_sheet
from backoffice.services import audit, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.counts.info import CHUNK, load_count, open_count, usernames
from backoffice.services.locations import location_named
from backoffice.services.tags import checked_tag
from backoffice.services.transfers import NotRecorded

MAX_COUNT = Decimal(1_000_000)  # a typo guard: no package holds a million units


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


def _check_quantity(quantity: Decimal | str | int) -> Decimal:
    value = to_quantity(parse_decimal(quantity, what="counted quantity"), what="counted quantity")
    if value < 0:
        raise ValidationError(f"a counted quantity cannot be negative ({value}); count what is there, 0 if nothing")
    if value >= MAX_COUNT:
        raise ValidationError(f"{value} is not believable for one package; check the number")
    return value


def record_count(
    db: Database,
    actor: Actor,
    count_id: int,
    tag: str,
    quantity: Decimal | str | int,
    *,
    location: str | None = None,
    recount: bool = False,
    note: str | None = None,
    workstation: str | None = None,
) -> TagCount:
    """Append one counted quantity for ``tag``; ``recount`` replaces the tag's earlier entries.

    Counting a package on the sales floor that the ledger still has elsewhere is refused
    (transfer-before-move): its location change must be recorded first."""
    actor.require(Permission.COUNT)
    value = _check_quantity(quantity)
    if note is not None and len(note) > 400:
        raise ValidationError("a count note is at most 400 characters")
    with db.transaction() as session:
        count = open_count(session, count_id)
        tag = checked_tag(session, tag)
        pkg = session.scalar(select(Package).where(Package.tag == tag))
        loc = location_named(session, location) if location else None
        if pkg is not None and loc is not None and loc.kind is LocationKind.FLOOR and pkg.location_id != loc.id:
            raise NotRecorded(
                f"STOP: package {tag} is recorded in {pkg.location.name}, not on {loc.name}. Record its transfer "
                "(the METRC location change) first, then count it here.",
                tag=tag,
                from_location=pkg.location.name,
                to_location=loc.name,
            )
        expected = session.scalar(
            select(CountExpected).where(CountExpected.session_id == count.id, CountExpected.tag == tag)
        )
        session.add(
            CountEntry(
                session_id=count.id,
                tag=tag,
                package_id=pkg.id if pkg else None,
                quantity=value,
                location_id=loc.id if loc else None,
                in_scope=expected is not None,
                supersedes_previous=recount,
                counted_by_id=actor.user_id,
                counted_at=utcnow(),
                workstation=workstation,
                note=note,
            )
        )
        session.flush()
        if recount:
            audit.record(
                session, actor, "count.recount", "count", count.id, after={"tag": tag, "quantity": value}, reason=note
            )
        return _tag_count(session, count, tag, pkg, expected)


def record_unit(
    db: Database,
    actor: Actor,
    count_id: int,
    tag: str,
    *,
    location: str | None = None,
    workstation: str | None = None,
) -> TagCount:
    """One Retail ID unit code scanned: one unit of its package counted. A unit code stands for
    a whole sellable unit, so only a package counted by the each takes it; weighed product is
    weighed and typed."""
    actor.require(Permission.COUNT)
    with db.read() as session:
        tag = checked_tag(session, tag)
        unit = session.scalar(select(Package.unit).where(Package.tag == tag))
    if unit is not None and unit is not Unit.EACH:
        raise ValidationError(
            f"package {tag} is counted in {unit.value}, not by the each: a unit code counts one unit only; "
            "scan its tag and type what the scale shows"
        )
    return record_count(db, actor, count_id, tag, 1, location=location, workstation=workstation)


def _tag_count(
    session: Session, count: CountSession, tag: str, pkg: Package | None, expected: CountExpected | None
) -> TagCount:
    entries = effective_entries(
        list(
            session.scalars(
                select(CountEntry)
                .where(CountEntry.session_id == count.id, CountEntry.tag == tag)
                .order_by(CountEntry.id)
            )
        ),
        lambda e: e.supersedes_previous,
    )
    names = usernames(session)
    item = pkg.item.name if pkg else _item_name(session, expected)
    return TagCount(
        tag,
        item,
        pkg.location.name if pkg else None,
        pkg.unit if pkg else (expected.unit if expected else None),
        pkg is not None,
        expected is not None,
        sum((e.quantity for e in entries), Decimal(0)) if entries else None,
        len(entries),
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
        count = load_count(session, count_id)
        tag = checked_tag(session, tag)
        pkg = session.scalar(select(Package).where(Package.tag == tag))
        expected = session.scalar(
            select(CountExpected).where(CountExpected.session_id == count.id, CountExpected.tag == tag)
        )
        return _tag_count(session, count, tag, pkg, expected)


@dataclass(frozen=True)
class SheetImport:
    file: str
    recorded: int
    blank: int
    changes: Changes = Changes.COUNTS | Changes.AUDIT


def import_sheet(
    db: Database,
    actor: Actor,
    count_id: int,
    path: Path | str,
    *,
    location: str | None = None,
    workstation: str | None = None,
) -> SheetImport:
    """Key in a printed count sheet: a CSV of tag, quantity (blank quantity = box left empty).

    Each line states the count for its tag, so it supersedes earlier entries for that tag
    and importing the same sheet twice changes nothing. All lines or none are recorded."""
    actor.require(Permission.COUNT)
    strict = settings.read(db, settings.STRICT_TAGS)
    sheet = parse_keyed_sheet(path, strict_tags=strict)
    with db.transaction() as session:
        count = open_count(session, count_id)
        loc = location_named(session, location) if location else None
        tags = [line.tag for line in sheet.lines]
        packages = {
            p.tag: p
            for start in range(0, len(tags), CHUNK)
            for p in session.scalars(select(Package).where(Package.tag.in_(tags[start : start + CHUNK])))
        }
        expected = set(session.scalars(select(CountExpected.tag).where(CountExpected.session_id == count.id)))
        now = utcnow()
        for line in sheet.lines:
            pkg = packages.get(line.tag)
            session.add(
                CountEntry(
                    session_id=count.id,
                    tag=line.tag,
                    package_id=pkg.id if pkg else None,
                    quantity=line.quantity,
                    location_id=loc.id if loc else None,
                    in_scope=line.tag in expected,
                    supersedes_previous=True,
                    counted_by_id=actor.user_id,
                    counted_at=now,
                    workstation=workstation,
                    note=f"count sheet {sheet.file}, line {line.line}",
                )
            )
        audit.record(
            session,
            actor,
            "count.import_sheet",
            "count",
            count.id,
            after={"file": sheet.file, "lines": len(sheet.lines), "blank": sheet.blank},
        )
    return SheetImport(sheet.file, len(sheet.lines), sheet.blank)
