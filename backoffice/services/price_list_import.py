"""Set shelf prices from a CSV price list (SKU, price): every line is checked first, and one
bad line (unknown or archived SKU, bad price, SKU twice) applies nothing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import Item
from backoffice.importers.price_file import parse_price_file
from backoffice.services import prices
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes


@dataclass(frozen=True)
class PricesImported:
    file: str
    lines: int
    changed: list[tuple[str, Decimal, Decimal]]  # sku, before, after
    changes: Changes = Changes.INVENTORY | Changes.LABELS | Changes.AUDIT


def import_prices(db: Database, actor: Actor, path: Path | str, *, reason: str | None = None) -> PricesImported:
    """Set the shelf prices of a CSV price list (SKU, price). Every line is checked first; one bad
    line (unknown SKU, bad price, SKU twice) and nothing is applied, each problem with its line."""
    actor.require(Permission.SET_PRICES)
    parsed = parse_price_file(path)
    problems = parsed.problems
    amounts = {line.sku: problems.check(line.line, "Price", prices.check_price, line.price) for line in parsed.lines}
    changed: list[tuple[str, Decimal, Decimal]] = []
    with db.transaction() as session:
        items = {item.sku: item for item in session.scalars(select(Item).where(Item.sku.in_(list(amounts))))}
        for line in parsed.lines:
            if line.sku not in items:
                problems.add(line.line, "SKU", f"there is no item with SKU {line.sku}")
            elif items[line.sku].archived_at is not None:
                problems.add(line.line, "SKU", f"item {line.sku} is archived; bring it back before pricing it")
        problems.raise_if_any()  # nothing was written yet: the transaction ends empty
        why = reason or f"price list {parsed.name}"
        for line in parsed.lines:
            item, amount = items[line.sku], amounts[line.sku]
            before = item.price
            if amount is not None and prices.apply_price(session, actor, item, amount, reason=why):
                changed.append((item.sku, before, amount))
    return PricesImported(parsed.name, len(parsed.lines), changed, PricesImported.changes if changed else Changes.NONE)
