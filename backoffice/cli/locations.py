"""CLI: store locations (list, add)."""

from __future__ import annotations

import argparse
from typing import Any

from backoffice.cli.context import CliContext


def register(sub: Any) -> None:
    loc = sub.add_parser("locations", help="store locations").add_subparsers(dest="locations_command", required=True)
    p = loc.add_parser("list")
    p.set_defaults(func=list_)
    p = loc.add_parser("add")
    p.add_argument("name")
    p.add_argument("--kind", required=True, choices=["vault", "floor", "quarantine", "receiving", "other"])
    p.add_argument("--metrc-name", default="")
    p.set_defaults(func=add)


def list_(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import locations

    for loc in locations.list_locations(ctx.db, ctx.actor):
        print(f"{loc.name:<24} {loc.kind.value:<11} METRC: {loc.metrc_name}")
    return 0


def add(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import locations

    loc = locations.add_location(ctx.db, ctx.actor, args.name, args.kind, args.metrc_name)
    print(f"added {loc.name} ({loc.kind.value})")
    return 0
