"""Read side of inventory: browsing, tag look-up, and a package's full history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import aliased

from backoffice.db.engine import Database
from backoffice.db.models import AuditEvent, Item, LedgerEntry, Location, Package, User
from backoffice.domain.enums import LabState, LedgerKind, PackageStatus
from backoffice.domain.units import Unit
from backoffice.services.actor import Actor, Permission
from backoffice.services.event_words import audit_sentence, ledger_sentence


@dataclass(frozen=True)
class PackageRow:
    id: int
    tag: str
    sku: str
    item: str
    brand: str
    category: str
    quantity: Decimal
    unit: Unit
    location: str
    bin: str | None
    expiration_date: date | None
    lab_state: LabState
    status: PackageStatus
    price: Decimal


COLUMNS = ("item", "brand", "category", "tag", "quantity", "unit", "location", "expiration_date", "lab_state")
_SORT = {
    "item": Item.name,
    "brand": Item.brand,
    "category": Item.category,
    "tag": Package.tag,
    "quantity": Package.quantity,
    "unit": Package.unit,
    "location": Location.name,
    "expiration_date": Package.expiration_date,
    "lab_state": Package.lab_state,
}


def _base(text: str, include_finished: bool) -> Select[*tuple[Any, ...]]:
    query = (
        select(
            Package.id,
            Package.tag,
            Item.sku,
            Item.name,
            Item.brand,
            Item.category,
            Package.quantity,
            Package.unit,
            Location.name,
            Package.bin,
            Package.expiration_date,
            Package.lab_state,
            Package.status,
            Item.price,
        )
        .join(Item, Item.id == Package.item_id)
        .join(Location, Location.id == Package.location_id)
    )
    if not include_finished:
        query = query.where(Package.status != PackageStatus.FINISHED)
    for word in text.split():
        if len(word) == 24 and word.isalnum():  # a whole tag: use the unique index
            query = query.where(Package.tag == word.upper())
            continue
        like = f"%{word}%"
        # match the 5,000 items and the few locations once, not once per package row
        items = select(Item.id).where(
            or_(Item.sku.like(like), Item.name.like(like), Item.brand.like(like), Item.category.like(like))
        )
        locations = select(Location.id).where(Location.name.like(like))
        query = query.where(or_(Package.tag.like(like), Package.item_id.in_(items), Package.location_id.in_(locations)))
    return query


def search_packages(
    db: Database,
    actor: Actor,
    text: str = "",
    *,
    include_finished: bool = False,
    sort: str = "item",
    descending: bool = False,
    offset: int = 0,
    limit: int = 500,
) -> list[PackageRow]:
    """One page of packages matching every word of ``text`` (tag, SKU, name, brand,
    category, location), sorted in the database so paging stays consistent."""
    actor.require(Permission.VIEW_INVENTORY)
    column = _SORT.get(sort, Item.name)
    order = column.desc() if descending else column.asc()
    query = _base(text, include_finished).order_by(order, Package.id).offset(offset).limit(limit)
    with db.read() as session:
        return [PackageRow(*row) for row in session.execute(query)]


def find_by_tag(db: Database, actor: Actor, tag: str) -> PackageRow | None:
    rows = search_packages(db, actor, tag, include_finished=True, limit=1)
    return rows[0] if rows else None


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime
    what: str
    quantity_delta: Decimal | None
    detail: str
    who: str


_FROM, _TO = aliased(Location, name="from_location"), aliased(Location, name="to_location")  # made once, not per call


def package_history(db: Database, actor: Actor, tag: str) -> list[HistoryEvent]:
    """Everything that happened to a package: ledger rows (receive, moves, sales, adjustments)
    and audit events about it, oldest first — the trace that explains a variance."""
    actor.require(Permission.VIEW_INVENTORY)
    src, dst = _FROM, _TO
    with db.read() as session:
        pkg = session.scalar(select(Package).where(Package.tag == tag))
        if pkg is None:
            return []
        events: list[HistoryEvent] = []
        ledger_rows = session.execute(
            select(LedgerEntry, src.name, dst.name, User.username)
            .outerjoin(src, src.id == LedgerEntry.from_location_id)
            .outerjoin(dst, dst.id == LedgerEntry.to_location_id)
            .outerjoin(User, User.id == LedgerEntry.user_id)
            .where(LedgerEntry.package_id == pkg.id)
            .order_by(LedgerEntry.at, LedgerEntry.id)
        ).all()
        for entry, from_name, to_name, username in ledger_rows:
            manifest = pkg.received_from_manifest if entry.kind is LedgerKind.RECEIVE else None
            detail = ledger_sentence(
                entry.kind,
                entry.quantity_delta,
                entry.unit,
                from_name,
                to_name,
                entry.doc_type,
                entry.doc_id,
                entry.note,
                manifest,
            )
            events.append(
                HistoryEvent(
                    entry.at, entry.kind.value.replace("_", " "), entry.quantity_delta, detail, username or "system"
                )
            )
        audits = session.scalars(
            select(AuditEvent)
            .where(and_(AuditEvent.entity_type == "package", AuditEvent.entity_id == tag))
            .order_by(AuditEvent.id)
        ).all()
        for ev in audits:
            detail = audit_sentence(ev.action, ev.entity_type, ev.entity_id, ev.before, ev.after, ev.reason)
            events.append(HistoryEvent(ev.at, ev.action.replace(".", " ").replace("_", " "), None, detail, ev.username))
    return sorted(events, key=lambda e: e.at)


class ActiveSearch:
    """Every unfinished package in memory, for filtering as fast as a person types.

    A large store has ≈50,000 of them: one query loads them (off the GUI thread), and each
    keystroke then filters a precomputed lower-case text per package in a few milliseconds
    instead of a join-and-sort over the whole packages table. Finished packages (the other
    200,000) stay in the database and are searched there."""

    def __init__(self, rows: list[PackageRow]) -> None:
        self.rows = rows
        self._text = {r.id: f"{r.tag} {r.sku} {r.item} {r.brand} {r.category} {r.location}".lower() for r in rows}
        self._sorted: dict[str, list[tuple[str, PackageRow]]] = {}
        self._by_tag = {r.tag: r for r in rows}

    def find(self, tag: str) -> PackageRow | None:
        return self._by_tag.get(tag)

    @classmethod
    def load(cls, db: Database, actor: Actor) -> ActiveSearch:
        actor.require(Permission.VIEW_INVENTORY)
        with db.read() as session:
            return cls([PackageRow(*row) for row in session.execute(_base("", False))])

    def _pairs(self, sort: str) -> list[tuple[str, PackageRow]]:
        """(search text, row) in the order of one column, computed once per column."""
        if sort not in self._sorted:
            key = _ROW_KEYS.get(sort, _ROW_KEYS["item"])
            ordered = sorted(self.rows, key=lambda r: (key(r), r.id))
            self._sorted[sort] = [(self._text[r.id], r) for r in ordered]
        return self._sorted[sort]

    def search(self, text: str, *, sort: str = "item", descending: bool = False) -> list[PackageRow]:
        pairs = self._pairs(sort)
        for word in text.lower().split():
            pairs = [pair for pair in pairs if word in pair[0]]
        rows = [row for _, row in pairs]
        return rows[::-1] if descending else rows


_ROW_KEYS = {
    "item": lambda r: r.item,
    "brand": lambda r: r.brand,
    "category": lambda r: r.category,
    "tag": lambda r: r.tag,
    "quantity": lambda r: r.quantity,
    "unit": lambda r: r.unit.value,
    "location": lambda r: r.location,
    "expiration_date": lambda r: r.expiration_date or date.max,
    "lab_state": lambda r: r.lab_state.value,
}
