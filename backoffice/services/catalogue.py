"""The catalogue: the items (SKUs) the store carries. Items come in from a delivery's manifest
lines (``create_item_from_line``), which also links every open manifest line of that item."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item, Manifest, ManifestLine
from backoffice.domain.enums import ManifestStatus, QuantityType
from backoffice.domain.numbers import to_money
from backoffice.domain.units import UnitFamily
from backoffice.errors import RuleViolation, ValidationError
from backoffice.services import audit
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.receiving.lookup import clean_tag, item_key, line_row, match_items, open_manifest

_QUANTITY_TYPES = {UnitFamily.COUNT: QuantityType.COUNT_BASED, UnitFamily.WEIGHT: QuantityType.WEIGHT_BASED,
                   UnitFamily.VOLUME: QuantityType.VOLUME_BASED}


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
        manifest = open_manifest(session, manifest_id)
        line = line_row(session, manifest, clean_tag(session, tag))
        if line.item_id is not None:
            existing = session.get(Item, line.item_id)
            raise RuleViolation(f"{line.tag} is already matched to item {existing.sku if existing else line.item_id} "
                                f"({line.item_name}); nothing to create")
        item_id = match_items(session, [(line.item_name, line.category)]).get(item_key(line.item_name, line.category))
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

