"""CLI: the store's unused METRC package tags (import from a tag order or METRC, list)."""

from __future__ import annotations

import argparse
from typing import Any

from backoffice.cli.context import CliContext
from backoffice.errors import UserError


def register(sub: Any) -> None:
    tags = sub.add_parser("tags", help="unused METRC package tags for splits").add_subparsers(
        dest="tags_command", required=True
    )
    p = tags.add_parser("import", help="load tags from a tag order file or from METRC (managers)")
    p.add_argument("file", nargs="?", help="text or CSV file: one tag or FIRST-LAST range per line")
    p.add_argument("--from-metrc", action="store_true", help="the facility's available package tags from METRC")
    p.set_defaults(func=import_)
    p = tags.add_parser("list", help="the tags in the pool, used or not")
    p.add_argument("--available", action="store_true", help="only tags no package carries yet")
    p.set_defaults(func=list_)


def import_(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import tag_pool

    if bool(args.file) == bool(args.from_metrc):
        raise UserError("give a tag order FILE or --from-metrc (one of them)")
    result = (
        tag_pool.import_from_metrc(ctx.db, ctx.actor)
        if args.from_metrc
        else tag_pool.import_file(ctx.db, ctx.actor, args.file)
    )
    print(result.describe())
    return 0


def list_(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import tag_pool

    rows = tag_pool.list_tags(ctx.db, ctx.actor, available_only=args.available)
    for row in rows:
        when = f" {row.used_at:%Y-%m-%d}" if row.used_at else ""
        print(f"{row.tag}  {'used' + when if row.used else 'unused'}")
    supply = tag_pool.supply(ctx.db, ctx.actor)
    print(f"{supply.available} unused" + ("" if args.available else f", {len(rows) - supply.available} used"))
    if (warning := supply.warning()) is not None:
        print(f"warning: {warning}")
    return 0
