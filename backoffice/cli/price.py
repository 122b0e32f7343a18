"""CLI: item prices (``price set SKU AMOUNT``)."""

from __future__ import annotations

import argparse
from typing import Any

from backoffice.cli.context import CliContext
from backoffice.domain.numbers import money_text


def register(sub: Any) -> None:
    price = sub.add_parser("price", help="item prices").add_subparsers(dest="price_command", required=True)
    s = price.add_parser("set", help="set an item's shelf price (its shelf labels then count as out of date)")
    s.add_argument("sku")
    s.add_argument("amount", help="dollars and cents, e.g. 24.99")
    s.add_argument("--reason", default=None)
    s.set_defaults(func=set_price)


def set_price(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import prices

    change = prices.set_price(ctx.db, ctx.actor, args.sku, args.amount, reason=args.reason)
    if not change.changed:
        print(f"{change.sku} {change.item}: already {money_text(change.after)}; nothing changed")
        return 0
    print(
        f"{change.sku} {change.item}: {money_text(change.before)} → {money_text(change.after)}; "
        "its labels are now listed under --price-changed"
    )
    return 0
