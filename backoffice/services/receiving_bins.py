"""Where received packages go in the vault: a bin chosen by product type and expiration date.

A bin holds one product type (the item's category), so a picker finds a category in one
place. Within a type, a package joins the bin whose packages expire closest to it, so each
bin empties first-expired-first-out and short-dated stock is not buried behind new stock.
Without an expiration date the package joins the bin holding most of its item, else the
emptiest bin of its type. A type with no bin yet gets a new one named like the others
(``V-EDI-01``: vault, the category's first letters, a number).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.db.models import Item, Package
from backoffice.domain.enums import PackageStatus

_NOT_LETTERS = re.compile(r"[^A-Z]")


@dataclass(frozen=True)
class Incoming:
    tag: str
    category: str
    item_id: int
    expires: date | None


@dataclass
class BinStock:
    """What one bin holds of one product type."""

    bin: str
    category: str
    packages: int = 0
    earliest: date | None = None
    latest: date | None = None
    items: dict[int, int] = field(default_factory=dict)  # item id → packages of it in the bin

    def add(self, item_id: int, earliest: date | None, latest: date | None, count: int = 1) -> None:
        """``count`` packages of ``item_id`` expiring between ``earliest`` and ``latest``."""
        self.packages += count
        self.items[item_id] = self.items.get(item_id, 0) + count
        if earliest is not None and latest is not None:
            self.earliest = earliest if self.earliest is None else min(self.earliest, earliest)
            self.latest = latest if self.latest is None else max(self.latest, latest)

    def days_from(self, expires: date) -> int:
        """How far ``expires`` lies outside this bin's expiration range (0: inside it)."""
        assert self.earliest is not None and self.latest is not None
        if expires < self.earliest:
            return (self.earliest - expires).days
        return max(0, (expires - self.latest).days)


def stock(session: Session, location_id: int) -> list[BinStock]:
    """The bins of a location with the product types, items and expiration range they hold."""
    rows = session.execute(
        select(
            Package.bin,
            Item.category,
            Package.item_id,
            func.min(Package.expiration_date),
            func.max(Package.expiration_date),
            func.count(),
        )
        .join(Item, Item.id == Package.item_id)
        .where(Package.location_id == location_id, Package.bin.is_not(None), Package.status != PackageStatus.FINISHED)
        .group_by(Package.bin, Item.category, Package.item_id)
    )
    bins: dict[tuple[str, str], BinStock] = {}
    for name, category, item_id, earliest, latest, count in rows:
        assert name is not None  # the query keeps packages with a bin only
        bins.setdefault((name, category), BinStock(name, category)).add(item_id, earliest, latest, count)
    return list(bins.values())


def suggest(session: Session, location_id: int, incoming: Sequence[Incoming]) -> dict[str, str]:
    """A bin for each incoming package (tag → bin); packages placed earlier in the list count
    as in their bins for the later ones."""
    bins = stock(session, location_id)
    chosen: dict[str, str] = {}
    for package in incoming:
        target = choose(package, bins)
        if target is None:
            target = BinStock(new_bin_name(package.category, {b.bin for b in bins}), package.category)
            bins.append(target)
        target.add(package.item_id, package.expires, package.expires)
        chosen[package.tag] = target.bin
    return chosen


def choose(package: Incoming, bins: Sequence[BinStock]) -> BinStock | None:
    same_type = [b for b in bins if b.category == package.category]
    if not same_type:
        return None
    if package.expires is not None:
        dated = [b for b in same_type if b.earliest is not None]
        if dated:
            expires = package.expires
            return min(dated, key=lambda b: (b.days_from(expires), b.packages, b.bin))
    with_item = [b for b in same_type if package.item_id in b.items]
    if with_item:
        return max(with_item, key=lambda b: (b.items[package.item_id], b.bin))
    return min(same_type, key=lambda b: (b.packages, b.bin))


def new_bin_name(category: str, taken: set[str]) -> str:
    code = _NOT_LETTERS.sub("", category.upper())[:3] or "GEN"
    number = 1
    while f"V-{code}-{number:02d}" in taken:
        number += 1
    return f"V-{code}-{number:02d}"
