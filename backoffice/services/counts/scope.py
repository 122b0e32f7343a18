"""What a count covers: the scope filters, what they can be chosen from, and their check."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item, Location
from backoffice.errors import ValidationError
from backoffice.services.actor import Actor, Permission


@dataclass(frozen=True)
class Scope:
    """Which packages a count covers; every non-empty filter must match (empty = any)."""

    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "categories": list(self.categories),
                "brands": list(self.brands),
                "skus": list(self.skus),
                "locations": list(self.locations),
            },
            sort_keys=True,
        )

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
        return all(
            not wanted or value in wanted
            for wanted, value in (
                (self.categories, category),
                (self.brands, brand),
                (self.skus, sku),
                (self.locations, location),
            )
        )


@dataclass(frozen=True)
class ScopeChoices:
    categories: list[str]
    brands: list[str]
    locations: list[str]


def scope_choices(db: Database, actor: Actor) -> ScopeChoices:
    """What a count can be scoped by, for the start dialog."""
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        return ScopeChoices(
            list(session.scalars(select(Item.category).distinct().order_by(Item.category))),
            [b for b in session.scalars(select(Item.brand).distinct().order_by(Item.brand)) if b],
            list(session.scalars(select(Location.name).where(Location.active).order_by(Location.name))),
        )


def check_scope(session: Session, scope: Scope) -> Scope:
    clean = Scope(
        *(
            tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
            for values in (scope.categories, scope.brands, scope.skus, scope.locations)
        )
    )
    for values, column, what in (
        (clean.categories, Item.category, "category"),
        (clean.brands, Item.brand, "brand"),
        (clean.skus, Item.sku, "item SKU"),
        (clean.locations, Location.name, "location"),
    ):
        if not values:
            continue
        known = set(session.scalars(select(column).where(column.in_(values))))
        unknown = [v for v in values if v not in known]
        if unknown:
            raise ValidationError(
                f"no {what} named {', '.join(map(repr, unknown))} in this store; "
                f"check the spelling (the Inventory tab lists them)"
            )
    return clean
