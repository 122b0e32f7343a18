"""CLI: the catalogue (``items list|add|set|archive|import-prices``), through the same
catalogue service as the Catalogue tab."""

from __future__ import annotations

import argparse
from typing import Any

from backoffice.cli.context import CliContext
from backoffice.domain.numbers import money_text

# option → item field, for `add` and `set`
_FIELDS = {
    "name": "name",
    "brand": "brand",
    "category": "category",
    "strain": "strain",
    "unit": "unit",
    "price": "price",
    "floor_par": "floor_par",
    "vendor": "vendor",
}


def register(sub: Any) -> None:
    items = sub.add_parser("items", help="the catalogue: items, brands, prices").add_subparsers(
        dest="items_command", required=True
    )
    p = items.add_parser("list", help="items by name, filtered")
    p.add_argument("--search", default="", help="part of the SKU, name, brand or strain")
    p.add_argument("--brand", default="")
    p.add_argument("--category", default="")
    p.add_argument("--vendor", default="")
    p.add_argument("--archived", action="store_true", help="list archived items too")
    p.add_argument("--no-price", action="store_true", help="only items with no shelf price yet")
    p.set_defaults(func=list_items)

    p = items.add_parser("add", help="a new item (managers and purchasing)")
    p.add_argument("name")
    p.add_argument("--category", required=True, help="METRC product category, e.g. Buds")
    p.add_argument("--unit", required=True, help="Each, Grams, Milliliters, …")
    p.add_argument("--sku", default="", help="default: made up from the category")
    _field_options(p)
    p.set_defaults(func=add)

    p = items.add_parser("set", help="change an item's fields (a price change is stamped for the labels)")
    p.add_argument("sku")
    p.add_argument("--name")
    p.add_argument("--category")
    p.add_argument("--unit")
    _field_options(p)
    p.add_argument("--reason", default=None, help="recorded in the audit trail")
    p.set_defaults(func=set_fields)

    p = items.add_parser("archive", help="archive an item the store no longer carries (--undo brings it back)")
    p.add_argument("sku")
    p.add_argument("--undo", action="store_true")
    p.set_defaults(func=archive)

    p = items.add_parser("import-prices", help="shelf prices from a CSV (SKU, Price): all lines or none")
    p.add_argument("file")
    p.add_argument("--reason", default=None)
    p.set_defaults(func=import_prices)


def _field_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--brand")
    parser.add_argument("--strain")
    parser.add_argument("--vendor")
    parser.add_argument("--price", help="shelf price, e.g. 24.99")
    parser.add_argument("--floor-par", dest="floor_par", help="units the sales floor should hold")


def _values(args: argparse.Namespace) -> dict[str, object]:
    return {
        field: getattr(args, option) for option, field in _FIELDS.items() if getattr(args, option, None) is not None
    }


def _line(row: Any) -> str:
    archived = "  [archived]" if row.archived_at else ""
    return (
        f"{row.sku:<16} {row.price_text:>12}  {row.unit.value:<11} {row.category:<24.24} "
        f"{row.brand or '—':<20.20} {row.name}{archived}"
    )


def list_items(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import catalogue

    rows = catalogue.list_items(
        ctx.db,
        ctx.actor,
        search=args.search,
        brand=args.brand,
        category=args.category,
        vendor=args.vendor,
        archived=args.archived,
        no_price_only=args.no_price,
    )
    for row in rows:
        print(_line(row))
    print(f"{len(rows)} item(s)")
    return 0


def add(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import catalogue

    saved = catalogue.add_item(ctx.db, ctx.actor, _values(args), sku=args.sku)
    print(saved.message)
    print(_line(saved.item))
    return 0


def set_fields(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.errors import ValidationError
    from backoffice.services import catalogue

    values = _values(args)
    if not values:
        raise ValidationError('say what to change, e.g. --price 24.99 or --brand "Verde Labs"')
    saved = catalogue.update_item(ctx.db, ctx.actor, args.sku, values, reason=args.reason)
    print(saved.message)
    print(_line(saved.item))
    return 0


def archive(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import catalogue

    print(catalogue.set_archived(ctx.db, ctx.actor, args.sku, not args.undo).message)
    return 0


def import_prices(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import catalogue

    result = catalogue.import_prices(ctx.db, ctx.actor, args.file, reason=args.reason)
    for sku, before, after in result.changed:
        print(f"  {sku:<16} {money_text(before)} → {money_text(after)}")
    print(
        f"{result.file}: {result.lines} line(s), {len(result.changed)} price(s) changed; their shelf labels are "
        "listed under `backoffice labels --price-changed`"
    )
    return 0
