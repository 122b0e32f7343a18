"""What the sales floor needs today, and what budtenders should know (sell soon, new).

Need per item = max(floor par, daily velocity × days of cover) − floor on hand, where the
daily velocity is the last 28 days of sales (from ``sales_daily``). Vault packages are
chosen first-expired-first-out until the need is covered; each suggestion says its math.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from backoffice.db.engine import Database
from backoffice.db.models import Item, LedgerEntry, Location, Package, SalesDaily, Transfer, TransferLine
from backoffice.domain.enums import LabState, LedgerKind, LocationKind, PackageStatus, QuantityType
from backoffice.services import transfers
from backoffice.services.actor import Actor, Permission
from backoffice.services.event_words import plural

VELOCITY_DAYS = 28


@dataclass(frozen=True)
class Suggestion:
    item_id: int
    sku: str
    item: str
    unit: str
    floor_on_hand: Decimal
    floor_par: Decimal
    daily_velocity: Decimal
    need: Decimal
    tags: list[str]
    covers: Decimal
    why: str


def suggest(db: Database, actor: Actor, *, today: date, days_of_cover: int = 3) -> list[Suggestion]:
    actor.require(Permission.VIEW_INVENTORY)
    since = today - timedelta(days=VELOCITY_DAYS)
    with db.read() as session:
        floor_ids = [i for (i,) in session.execute(select(Location.id).where(Location.kind == LocationKind.FLOOR))]
        vault_ids = [i for (i,) in session.execute(select(Location.id).where(Location.kind == LocationKind.VAULT))]
        if not floor_ids or not vault_ids:
            return []
        active = Package.status == PackageStatus.ACTIVE
        on_floor = dict(
            session.execute(
                select(Package.item_id, func.sum(Package.quantity))
                .where(active, Package.location_id.in_(floor_ids))
                .group_by(Package.item_id)
            ).all()
        )
        sold = dict(
            session.execute(
                select(SalesDaily.item_id, func.sum(SalesDaily.units))
                .where(SalesDaily.day >= since, SalesDaily.day < today)
                .group_by(SalesDaily.item_id)
            ).all()
        )
        busy = (
            select(TransferLine.package_id)
            .join(Transfer)
            .where(Transfer.status.in_(transfers.OPEN), TransferLine.moved_at.is_(None))
        )
        sellable = [s.value for s in LabState if s.sellable]
        vault = session.execute(
            select(Package.item_id, Package.tag, Package.quantity)
            .where(
                active,
                Package.location_id.in_(vault_ids),
                Package.lab_state.in_(sellable),
                Package.quantity > 0,
                Package.id.not_in(busy),
            )
            .order_by(
                Package.item_id,
                Package.expiration_date.is_(None),
                Package.expiration_date,
                Package.received_at,
                Package.id,
            )
        ).all()
        by_item: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
        for item_id, tag, qty in vault:
            by_item[item_id].append((tag, qty))
        items = session.scalars(select(Item).where(Item.id.in_(list(by_item)))).all()
    out = []
    for item in items:
        velocity = (Decimal(sold.get(item.id) or 0) / VELOCITY_DAYS).quantize(Decimal("0.01"), ROUND_HALF_UP)
        target = max(item.floor_par, velocity * days_of_cover)
        if item.quantity_type is QuantityType.COUNT_BASED:  # nobody moves 4.54 of an item sold by the each
            target = target.to_integral_value(ROUND_CEILING)
        have = Decimal(on_floor.get(item.id) or 0)
        need = target - have
        if need <= 0:
            continue
        chosen, covered = [], Decimal(0)
        for tag, qty in by_item[item.id]:
            if covered >= need:
                break
            chosen.append(tag)
            covered += qty
        why = (
            f"floor has {_plain(have)}; target max(par {_plain(item.floor_par)}, {velocity:f}/day × {days_of_cover} "
            f"days) = {_plain(target)}{' (whole units)' if item.quantity_type is QuantityType.COUNT_BASED else ''}; "
            f"need {_plain(need)}; {plural(len(chosen), 'vault package')}, earliest expiry first, "
            f"add {_plain(covered)}"
        )
        out.append(
            Suggestion(
                item.id,
                item.sku,
                item.name,
                item.unit.value,
                have,
                item.floor_par,
                velocity,
                need,
                chosen,
                covered,
                why,
            )
        )
    return sorted(out, key=lambda s: (-(s.need / s.floor_par if s.floor_par else s.need), s.item))


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def create_from(
    db: Database, actor: Actor, suggestions: list[Suggestion], *, from_location: str, to_location: str
) -> transfers.TransferInfo:
    """One step from suggestions to a draft transfer of their packages."""
    tags = [tag for s in suggestions for tag in s.tags]
    return transfers.create_transfer(db, actor, from_location, to_location, tags, note="replenishment")


@dataclass(frozen=True)
class ShelfNote:
    tag: str
    item: str
    brand: str
    quantity: Decimal
    unit: str
    location: str
    on: date | None  # expiry for "sell soon", first day on the floor for "new"


def sell_soon(db: Database, actor: Actor, *, today: date, within_days: int = 30) -> list[ShelfNote]:
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        rows = session.execute(
            select(
                Package.tag,
                Item.name,
                Item.brand,
                Package.quantity,
                Package.unit,
                Location.name,
                Package.expiration_date,
            )
            .join(Item, Item.id == Package.item_id)
            .join(Location, Location.id == Package.location_id)
            .where(
                Package.status == PackageStatus.ACTIVE,
                Package.quantity > 0,
                Package.expiration_date.is_not(None),
                Package.expiration_date <= today + timedelta(days=within_days),
                Location.kind.in_([LocationKind.FLOOR.value, LocationKind.VAULT.value]),
            )
            .order_by(Package.expiration_date, Item.name)
        ).all()
    return [ShelfNote(t, n, b, q, u.value, loc, d) for t, n, b, q, u, loc, d in rows]


def new_on_floor(db: Database, actor: Actor, *, today: date, days: int = 7) -> list[ShelfNote]:
    actor.require(Permission.VIEW_INVENTORY)
    since = today - timedelta(days=days)
    with db.read() as session:
        floor_ids = [i for (i,) in session.execute(select(Location.id).where(Location.kind == LocationKind.FLOOR))]
        first_on_floor = (
            select(LedgerEntry.package_id, func.min(LedgerEntry.at).label("first"))
            .where(LedgerEntry.kind == LedgerKind.TRANSFER, LedgerEntry.to_location_id.in_(floor_ids))
            .group_by(LedgerEntry.package_id)
            .subquery()
        )
        rows = session.execute(
            select(
                Package.tag,
                Item.name,
                Item.brand,
                Package.quantity,
                Package.unit,
                Location.name,
                first_on_floor.c.first,
            )
            .join(first_on_floor, first_on_floor.c.package_id == Package.id)
            .join(Item, Item.id == Package.item_id)
            .join(Location, Location.id == Package.location_id)
            .where(Package.status == PackageStatus.ACTIVE, Package.location_id.in_(floor_ids))
            .order_by(first_on_floor.c.first.desc())
        ).all()
    return [
        ShelfNote(t, n, b, q, u.value, loc, first.date()) for t, n, b, q, u, loc, first in rows if first.date() >= since
    ]
