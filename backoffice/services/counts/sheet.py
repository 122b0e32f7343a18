"""The printed count sheet's lines: the packages to count, by location, item and tag."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import CountExpected, Item, Location, Package
from backoffice.services.actor import Actor, Permission
from backoffice.services.counts.info import CountInfo, count_info, load_count


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
        count = load_count(session, count_id)
        loc_names = dict(session.execute(select(Location.id, Location.name)).all())
        rows = session.execute(
            select(CountExpected, Item.name, Package.bin)
            .outerjoin(Item, Item.id == CountExpected.item_id)
            .outerjoin(Package, Package.id == CountExpected.package_id)
            .where(CountExpected.session_id == count.id)
        ).all()
        lines = [
            SheetLine(
                e.tag,
                name or "unknown package",
                loc_names.get(e.location_id, "") if e.location_id else "",
                e.unit.value,
                None if count.blind else e.ledger_qty,
                bin or "",
            )
            for e, name, bin in rows
        ]
        return count_info(session, count), sorted(lines, key=lambda ln: (ln.location, ln.bin, ln.item, ln.tag))
