"""Which items a report covers: a category, a brand and/or a vendor (each optional)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item
from backoffice.errors import ValidationError
from backoffice.services.actor import Actor, Permission

_FIELDS = (
    ("category", "categories", Item.category),
    ("brand", "brands", Item.brand),
    ("vendor", "vendors", Item.vendor),
)


@dataclass(frozen=True)
class Scope:
    category: str | None = None
    brand: str | None = None
    vendor: str | None = None

    def describe(self) -> list[tuple[str, str]]:
        """(label, value) pairs for a cover sheet; "All" where no filter is set."""
        return [(name.title(), getattr(self, name) or "All") for name, _, _ in _FIELDS]

    def matches(self, category: str, brand: str, vendor: str) -> bool:
        return all(
            want is None or want == have
            for want, have in ((self.category, category), (self.brand, brand), (self.vendor, vendor))
        )

    def category_clause(self) -> ColumnElement[bool]:
        """Items on the same menu as the scope: its category (or all), any brand or vendor, so
        a brand can be compared with its competitors."""
        return Item.category == self.category if self.category is not None else true()

    def resolved(self, session: Session) -> Scope:
        """The scope with each value spelled as the items spell it (matching ignores case);
        a value no item has is refused with the values that exist."""
        changes: dict[str, Any] = {}
        for name, plural, column in _FIELDS:
            wanted = getattr(self, name)
            if wanted is None:
                continue
            if not wanted.strip():
                raise ValidationError(f"the {name} filter is empty; leave it out to report all {plural}")
            found = session.scalar(select(column).where(func.lower(column) == wanted.strip().lower()).limit(1))
            if found is None:
                known = session.scalars(select(column).distinct().where(column != "").order_by(column).limit(12)).all()
                hint = ", ".join(known) + (" …" if len(known) == 12 else "")
                raise ValidationError(f"no item has {name} {wanted!r}; {plural} in this store include: {hint}")
            changes[name] = found
        return replace(self, **changes)


@dataclass(frozen=True)
class ScopeChoices:
    categories: list[str]
    brands: list[str]
    vendors: list[str]


def scope_choices(db: Database, actor: Actor) -> ScopeChoices:
    """The categories, brands and vendors the store's items use, for pick lists."""
    actor.require(Permission.REPORTS)
    with db.read() as session:

        def values(column: Any) -> list[str]:
            return list(session.scalars(select(column).distinct().where(column != "").order_by(column)))

        return ScopeChoices(values(Item.category), values(Item.brand), values(Item.vendor))
