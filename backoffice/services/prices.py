"""Item shelf prices. A change stamps ``price_changed_at`` so the Labels tab can offer the
shelf labels that now show an old price."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item, utcnow
from backoffice.domain.numbers import parse_decimal, to_money
from backoffice.errors import NotFound, ValidationError
from backoffice.services import audit
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes

MAX_PRICE = Decimal("100000")  # a typo guard: nothing in a dispensary costs this much


@dataclass(frozen=True)
class PriceChange:
    sku: str
    item: str
    before: Decimal
    after: Decimal
    changed_at: datetime | None  # None when the price was already this
    changes: Changes = Changes.INVENTORY | Changes.LABELS | Changes.AUDIT

    @property
    def changed(self) -> bool:
        return self.changed_at is not None


def check_price(price: Decimal | str) -> Decimal:
    """A shelf price as typed ("24.99", "$24.99"), to the cent, zero or more."""
    amount = parse_decimal(price, what="price")
    if amount < 0:
        raise ValidationError(f"price {amount} is negative; enter the shelf price, e.g. 24.99")
    if amount >= MAX_PRICE:
        raise ValidationError(f"price {amount} is not believable (limit {MAX_PRICE - 1}); check the amount")
    if to_money(amount) != amount:
        raise ValidationError(f"price {amount} has fractions of a cent; enter dollars and cents, e.g. 24.99")
    return to_money(amount)


def apply_price(session: Session, actor: Actor, item: Item, amount: Decimal, *, reason: str | None = None) -> bool:
    """Within the caller's transaction: set ``item``'s price, stamp ``price_changed_at`` (labels
    use it) and audit before and after. False when the price was already this."""
    actor.require(Permission.SET_PRICES)
    before = item.price
    if before == amount:
        return False
    item.price, item.price_changed_at = amount, utcnow()
    audit.record(
        session, actor, "item.price", "item", item.sku, before={"price": before}, after={"price": amount}, reason=reason
    )
    return True


def set_price(db: Database, actor: Actor, sku: str, price: Decimal | str, *, reason: str | None = None) -> PriceChange:
    """Set an item's price to the cent. Setting the price it already has changes nothing."""
    actor.require(Permission.SET_PRICES)
    amount = check_price(price)
    with db.transaction() as session:
        item = session.scalar(select(Item).where(Item.sku == sku.strip()))
        if item is None:
            raise NotFound(f"there is no item with SKU {sku.strip()!r}; check the SKU on the shelf label")
        before = item.price
        if not apply_price(session, actor, item, amount, reason=reason):
            return PriceChange(item.sku, item.name, before, amount, None, Changes.NONE)
        return PriceChange(item.sku, item.name, before, amount, item.price_changed_at)
