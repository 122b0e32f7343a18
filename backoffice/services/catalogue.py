"""The catalogue: the items (SKUs) the store carries, with brand, category, strain, unit,
shelf price, floor par level and vendor. Everyone who sees inventory reads it; managers and
purchasing edit it. A price change goes through ``prices.apply_price`` (stamped for the
labels, audited before and after); every other change is audited with its before and after.
Items that arrive with a delivery are created from their manifest lines; a price list from a
file is applied by ``price_list_import`` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item, Manifest, ManifestLine, Package, utcnow
from backoffice.domain.enums import ManifestStatus, PackageStatus, QuantityType
from backoffice.domain.numbers import parse_decimal, to_money, to_quantity
from backoffice.domain.units import Unit, UnitFamily, parse_unit
from backoffice.errors import NotFound, RuleViolation, ValidationError
from backoffice.services import audit, prices
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.price_list_import import PricesImported as PricesImported
from backoffice.services.price_list_import import import_prices as import_prices
from backoffice.services.receiving import lookup

QUANTITY_TYPES = {
    UnitFamily.COUNT: QuantityType.COUNT_BASED,
    UnitFamily.WEIGHT: QuantityType.WEIGHT_BASED,
    UnitFamily.VOLUME: QuantityType.VOLUME_BASED,
}
NO_PRICE = "no price yet"
# the fields a person edits, with the longest text each holds (None: not text)
FIELDS: dict[str, int | None] = {
    "name": 200,
    "brand": 80,
    "category": 80,
    "strain": 80,
    "unit": None,
    "price": None,
    "floor_par": None,
    "vendor": 120,
}
_REQUIRED = {"name", "category", "unit"}
_UNFINISHED = (PackageStatus.ACTIVE, PackageStatus.ON_HOLD)


@dataclass(frozen=True)
class ItemRow:
    id: int
    sku: str
    name: str
    brand: str
    category: str
    strain: str
    unit: Unit
    price: Decimal
    price_changed_at: datetime | None
    floor_par: Decimal
    vendor: str
    unit_cost: Decimal
    archived_at: datetime | None

    @property
    def price_text(self) -> str:
        """The shelf price as the catalogue shows it: a zero price is one nobody has set yet."""
        return NO_PRICE if self.price == 0 else f"{self.price:.2f}"


@dataclass(frozen=True)
class Facets:
    """The values the catalogue can be filtered by."""

    brands: list[str]
    categories: list[str]
    vendors: list[str]


@dataclass(frozen=True)
class ItemSaved:
    item: ItemRow
    message: str
    changes: Changes = Changes.INVENTORY | Changes.LABELS | Changes.AUDIT


def _row(item: Item) -> ItemRow:
    return ItemRow(
        item.id,
        item.sku,
        item.name,
        item.brand,
        item.category,
        item.strain,
        item.unit,
        item.price,
        item.price_changed_at,
        item.floor_par,
        item.vendor,
        item.unit_cost,
        item.archived_at,
    )


# --- reading ----------------------------------------------------------------------------------


def list_items(
    db: Database,
    actor: Actor,
    *,
    search: str = "",
    brand: str = "",
    category: str = "",
    vendor: str = "",
    archived: bool = False,
    no_price_only: bool = False,
) -> list[ItemRow]:
    """Items by name; ``search`` matches SKU, name, brand or strain (any case); the other filters
    are exact. Archived items are listed only with ``archived``."""
    actor.require(Permission.VIEW_INVENTORY)
    query = select(Item).order_by(func.lower(Item.name), Item.id)
    if text := " ".join(search.split()).lower():
        like = f"%{text}%"
        query = query.where(
            or_(
                func.lower(Item.sku).like(like),
                func.lower(Item.name).like(like),
                func.lower(Item.brand).like(like),
                func.lower(Item.strain).like(like),
            )
        )
    for column, wanted in ((Item.brand, brand), (Item.category, category), (Item.vendor, vendor)):
        if wanted:
            query = query.where(column == wanted)
    if not archived:
        query = query.where(Item.archived_at.is_(None))
    if no_price_only:
        query = query.where(Item.price == 0)
    with db.read() as session:
        return [_row(item) for item in session.scalars(query)]


def facets(db: Database, actor: Actor) -> Facets:
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:

        def values(column: Any) -> list[str]:
            return list(session.scalars(select(column).where(column != "").distinct().order_by(column)))

        return Facets(values(Item.brand), values(Item.category), values(Item.vendor))


def get_item(db: Database, actor: Actor, sku: str) -> ItemRow:
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        return _row(_item(session, sku))


def _item(session: Session, sku: str) -> Item:
    item = session.scalar(select(Item).where(Item.sku == sku.strip()))
    if item is None:
        raise NotFound(f"there is no item with SKU {sku.strip()!r}; list them with: backoffice items list")
    return item


def known_brands(session: Session) -> list[str]:
    return list(session.scalars(select(Item.brand).where(Item.brand != "").distinct()))


def brand_of(name: str, brands: list[str]) -> str:
    """The longest known brand the product name starts with (whole words, any case), or ""."""
    words = " ".join(name.split()).lower()
    fits = [b for b in brands if words == b.lower() or words.startswith(b.lower() + " ")]
    return max(fits, key=len, default="")


# --- checking what a person typed -------------------------------------------------------------


def clean_fields(values: Mapping[str, object]) -> dict[str, Any]:
    """Each given field checked and put in its stored form; an unknown field is refused."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ValidationError(f"cannot set {', '.join(unknown)}; an item has {', '.join(FIELDS)}")
    clean: dict[str, Any] = {}
    for name, value in values.items():
        what = name.replace("_", " ")
        if name == "unit":
            clean[name] = value if isinstance(value, Unit) else parse_unit(str(value))
        elif name == "price":
            clean[name] = prices.check_price(value)  # type: ignore[arg-type]
        elif name == "floor_par":
            par = to_quantity(parse_decimal(value, what=what), what=what)
            if par < 0:
                raise ValidationError(f"floor par level {par} is negative; enter 0 or more")
            clean[name] = par
        else:
            text = " ".join(str(value or "").split())
            if name in _REQUIRED and not text:
                raise ValidationError(f"an item needs a {what}")
            limit = FIELDS[name] or 0
            if len(text) > limit:
                raise ValidationError(f"{what} holds at most {limit} characters; this one has {len(text)}")
            clean[name] = text
    return clean


def _same_name_elsewhere(session: Session, name: str, category: str, item_id: int | None) -> str | None:
    """The SKU and name of another carried item with this name in this category (manifest lines are
    matched to items by name and category, so two such items would make matching guess)."""
    query = select(Item.sku + " is already “" + Item.name + "” in " + Item.category).where(
        func.lower(Item.name) == name.lower(), func.lower(Item.category) == category.lower(), Item.archived_at.is_(None)
    )
    if item_id is not None:
        query = query.where(Item.id != item_id)
    return session.scalar(query.limit(1))


def _new_sku(session: Session, wanted: str, base: str) -> str:
    """``wanted`` when free; else (when empty) ``base``, ``base-2``, … whichever is free first."""
    wanted = wanted.strip()
    if wanted:
        if len(wanted) > 40 or not wanted.isprintable():
            raise ValidationError(f"SKU {wanted!r} is not usable: at most 40 printable characters")
        if session.scalar(select(Item.id).where(Item.sku == wanted)) is not None:
            raise ValidationError(f"SKU {wanted} is taken by another item; choose another or leave it empty")
        return wanted
    taken = set(session.scalars(select(Item.sku).where(Item.sku.like(f"{base}%"))))
    return next(
        candidate for n in range(1, len(taken) + 2) if (candidate := base if n == 1 else f"{base}-{n}") not in taken
    )


# --- changing ---------------------------------------------------------------------------------


def add_item(db: Database, actor: Actor, values: Mapping[str, object], *, sku: str = "") -> ItemSaved:
    """A new item; name, category and unit are needed, the rest may follow. A price needs the
    right to set prices (and is stamped and audited like any price change)."""
    actor.require(Permission.EDIT_CATALOGUE)
    clean = clean_fields(values)
    missing = [name for name in sorted(_REQUIRED) if name not in clean]
    if missing:
        raise ValidationError(f"an item needs a {' and a '.join(missing)}")
    price = clean.pop("price", Decimal(0))
    with db.transaction() as session:
        if other := _same_name_elsewhere(session, clean["name"], clean["category"], None):
            raise RuleViolation(f"item {other}; edit that one")
        fields: dict[str, Any] = {"brand": "", "strain": "", "vendor": "", "floor_par": Decimal(0), **clean}
        item = Item(
            sku=_new_sku(session, sku, "SKU-" + clean["category"][:3].upper()),
            price=Decimal(0),
            quantity_type=QUANTITY_TYPES[clean["unit"].family],
            unit_cost=Decimal(0),
            **fields,
        )
        session.add(item)
        session.flush()
        audit.record(session, actor, "item.create", "item", item.sku, after=_audited(item))
        if price:
            prices.apply_price(session, actor, item, price)
        return ItemSaved(_row(item), f"Item {item.sku} added: {item.name}{'' if price else f' ({NO_PRICE})'}.")


def update_item(
    db: Database, actor: Actor, sku: str, values: Mapping[str, object], *, reason: str | None = None
) -> ItemSaved:
    """Change some of an item's fields; fields given with the value they have change nothing."""
    actor.require(Permission.EDIT_CATALOGUE)
    clean = clean_fields(values)
    with db.transaction() as session:
        item = _item(session, sku)
        price = clean.pop("price", None)
        changed = {name: value for name, value in clean.items() if getattr(item, name) != value}
        if "unit" in changed:
            _check_unit_change(session, item, changed["unit"])
        if ("name" in changed or "category" in changed) and (
            other := _same_name_elsewhere(
                session, changed.get("name", item.name), changed.get("category", item.category), item.id
            )
        ):
            raise RuleViolation(f"item {other}; two items may not share a name in one category")
        if changed:
            before = {name: getattr(item, name) for name in changed}
            for name, value in changed.items():
                setattr(item, name, value)
            if "unit" in changed:
                item.quantity_type = QUANTITY_TYPES[item.unit.family]
            audit.record(
                session,
                actor,
                "item.update",
                "item",
                item.sku,
                before=_plain(before),
                after=_plain(changed),
                reason=reason,
            )
        price_changed = price is not None and prices.apply_price(session, actor, item, price, reason=reason)
        what = sorted(changed) + (["price"] if price_changed else [])
        message = f"Item {item.sku}: {', '.join(what)} changed." if what else f"Item {item.sku}: nothing to change."
        return ItemSaved(_row(item), message, ItemSaved.changes if what else Changes.NONE)


def _check_unit_change(session: Session, item: Item, unit: Unit) -> None:
    held = session.scalar(select(func.count(Package.id)).where(Package.item_id == item.id)) or 0
    if held:
        raise RuleViolation(
            f"item {item.sku} has {held} package(s) counted in {item.unit.value}; changing its unit "
            f"to {unit.value} would misstate them. Add a new item for the new unit instead."
        )


def set_archived(db: Database, actor: Actor, sku: str, archived: bool = True) -> ItemSaved:
    """Archive an item the store no longer carries (kept for history), or bring it back. An
    item with packages still in stock is not archived."""
    actor.require(Permission.EDIT_CATALOGUE)
    with db.transaction() as session:
        item = _item(session, sku)
        if (item.archived_at is not None) == archived:
            state = "archived" if archived else "not archived"
            return ItemSaved(_row(item), f"Item {item.sku} is already {state}.", Changes.NONE)
        if archived:
            stock = (
                session.scalar(
                    select(func.count(Package.id)).where(Package.item_id == item.id, Package.status.in_(_UNFINISHED))
                )
                or 0
            )
            if stock:
                raise RuleViolation(
                    f"item {item.sku} still has {stock} package(s) in stock; sell, return or "
                    "finish them before archiving it"
                )
        before = item.archived_at
        item.archived_at = utcnow() if archived else None
        audit.record(
            session,
            actor,
            "item.archive" if archived else "item.restore",
            "item",
            item.sku,
            before={"archived_at": before},
            after={"archived_at": item.archived_at},
        )
        return ItemSaved(_row(item), f"Item {item.sku} {'archived' if archived else 'back in the catalogue'}.")


def _audited(item: Item) -> dict[str, object]:
    return _plain({name: getattr(item, name) for name in FIELDS if name != "price"})


def _plain(values: Mapping[str, object]) -> dict[str, object]:
    return {name: value.value if isinstance(value, Unit) else value for name, value in values.items()}


# --- items that arrive with a delivery ----------------------------------------------------------


@dataclass(frozen=True)
class NewItemProposal:
    """An item a manifest brings that the catalogue lacks, as it would be created."""

    tag: str  # the first line of the manifest that carries it
    item_name: str
    category: str
    strain: str
    unit: Unit
    brand: str  # the longest brand the store knows that the product name starts with
    vendor: str
    unit_cost: Decimal
    lines: int  # lines of this manifest with the item


@dataclass(frozen=True)
class NewItem:
    """What a person decided for one proposal: the shelf price (None or 0: no price yet), and
    optionally the SKU and brand (None: the proposal's brand)."""

    tag: str
    price: Decimal | str | None = None
    sku: str = ""
    brand: str | None = None


@dataclass(frozen=True)
class ItemCreated:
    sku: str
    item_id: int
    name: str
    brand: str
    price: Decimal
    created: bool  # False: an item with this name and category existed after all, and was linked
    lines_linked: int


@dataclass(frozen=True)
class ItemsCreated:
    items: list[ItemCreated]
    changes: Changes = Changes.MANIFESTS | Changes.INVENTORY | Changes.AUDIT

    @property
    def message(self) -> str:
        made = [i for i in self.items if i.created]
        unpriced = sum(1 for i in made if i.price == 0)
        linked = sum(i.lines_linked for i in self.items)
        found = len(self.items) - len(made)
        return (
            f"{len(made)} item(s) created"
            + (f" ({unpriced} with {NO_PRICE})" if unpriced else "")
            + (f", {found} found in the catalogue" if found else "")
            + f"; {linked} manifest line(s) now use them."
        )


def propose_items(db: Database, actor: Actor, manifest_id: int, tags: list[str] | None = None) -> list[NewItemProposal]:
    """The items of an open manifest's lines (all, or those of ``tags``) that the catalogue lacks,
    one proposal per item, with the brand filled in from the brands the store knows."""
    actor.require(Permission.RECEIVE)
    with db.read() as session:
        manifest = lookup.open_manifest(session, manifest_id)
        wanted = {lookup.clean_tag(session, tag) for tag in tags} if tags is not None else None
        lines = [ln for ln in manifest.lines if ln.item_id is None and (wanted is None or ln.tag in wanted)]
        if wanted is not None:
            missing = wanted - {ln.tag for ln in manifest.lines}
            if missing:
                raise NotFound(f"not on manifest {manifest.manifest_number}: {', '.join(sorted(missing))}")
        brands = known_brands(session)
        proposals: dict[tuple[str, str], NewItemProposal] = {}
        for line in sorted(lines, key=lambda ln: ln.id):
            key = lookup.item_key(line.item_name, line.category)
            if key in proposals:
                proposals[key] = _more(proposals[key])
                continue
            proposals[key] = NewItemProposal(
                line.tag,
                line.item_name,
                line.category,
                line.strain,
                line.unit,
                brand_of(line.item_name, brands),
                manifest.shipper_name,
                _unit_cost(line),
                1,
            )
        return list(proposals.values())


def _more(proposal: NewItemProposal) -> NewItemProposal:
    return replace(proposal, lines=proposal.lines + 1)


def _unit_cost(line: ManifestLine) -> Decimal:
    return to_money(line.wholesale_price / line.shipped_quantity) if line.wholesale_price else Decimal(0)


def create_items_from_lines(
    db: Database, actor: Actor, manifest_id: int, wanted: list[NewItem], *, no_price_ok: bool = False
) -> ItemsCreated:
    """Create the items of several manifest lines at once (name, category, strain, unit, vendor,
    unit cost from the wholesale price, brand, shelf price) and link every open manifest line of
    each. A line without a price is refused unless ``no_price_ok`` (the person confirmed "no
    price yet"); a price needs the right to set prices. All or nothing."""
    actor.require(Permission.RECEIVE)
    if not wanted:
        raise ValidationError("choose the manifest lines whose items to create")
    priced = [(new, prices.check_price(new.price) if new.price not in (None, "") else Decimal(0)) for new in wanted]
    if any(price for _, price in priced):
        actor.require(Permission.SET_PRICES)
    unpriced = [new.tag for new, price in priced if price == 0]
    if unpriced and not no_price_ok:
        raise ValidationError(
            f"no shelf price for {', '.join(unpriced)}: give one, or confirm that the item(s) go "
            f"into the catalogue with {NO_PRICE} (a manager sets it before the shelf label)"
        )
    with db.transaction() as session:
        manifest = lookup.open_manifest(session, manifest_id)
        brands = known_brands(session)
        made: list[ItemCreated] = []
        for new, price in priced:
            line = lookup.line_row(session, manifest, lookup.clean_tag(session, new.tag))
            session.refresh(line)  # an earlier item of this call may have linked it
            if any(line.item_id == done.item_id for done in made):
                continue  # a second line of an item just created
            made.append(_create_one(session, actor, manifest, line, new, price, brands))
    return ItemsCreated(made)


def _create_one(
    session: Session,
    actor: Actor,
    manifest: Manifest,
    line: ManifestLine,
    new: NewItem,
    price: Decimal,
    brands: list[str],
) -> ItemCreated:
    if line.item_id is not None:
        existing = session.get(Item, line.item_id)
        raise RuleViolation(
            f"{line.tag} is already matched to item {existing.sku if existing else line.item_id} "
            f"({line.item_name}); nothing to create"
        )
    item_id = lookup.match_items(session, [(line.item_name, line.category)]).get(
        lookup.item_key(line.item_name, line.category)
    )
    item = session.get(Item, item_id) if item_id is not None else None
    created = item is None
    if item is None:
        brand = (
            clean_fields({"brand": new.brand})["brand"] if new.brand is not None else brand_of(line.item_name, brands)
        )
        item = Item(
            sku=_new_sku(session, new.sku, f"R-{line.tag[-10:]}"),
            name=line.item_name,
            brand=brand,
            category=line.category,
            strain=line.strain,
            vendor=manifest.shipper_name,
            quantity_type=QUANTITY_TYPES[line.unit.family],
            unit=line.unit,
            price=Decimal(0),
            unit_cost=_unit_cost(line),
            floor_par=Decimal(0),
        )
        session.add(item)
        session.flush()
        audit.record(
            session,
            actor,
            "item.create",
            "item",
            item.sku,
            after={
                **_audited(item),
                "unit_cost": item.unit_cost,
                "from_manifest": manifest.manifest_number,
                "tag": line.tag,
            },
        )
        if price:
            prices.apply_price(session, actor, item, price, reason=f"new item from manifest {manifest.manifest_number}")
    open_ids = select(Manifest.id).where(Manifest.status == ManifestStatus.OPEN)
    linked = cast(
        CursorResult[Any],
        session.execute(
            update(ManifestLine)
            .where(
                ManifestLine.item_id.is_(None),
                ManifestLine.manifest_id.in_(open_ids),
                func.lower(ManifestLine.item_name) == line.item_name.lower(),
                func.lower(ManifestLine.category) == line.category.lower(),
            )
            .values(item_id=item.id)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    return ItemCreated(item.sku, item.id, item.name, item.brand, item.price, created, linked)
