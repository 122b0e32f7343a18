"""CLI: the store settings (every declared setting, with its type, default and description)."""

from __future__ import annotations

import argparse
from typing import Any

from backoffice.cli.context import CliContext


def register(sub: Any) -> None:
    s = sub.add_parser("settings", help="store settings").add_subparsers(dest="settings_command", required=True)
    p = s.add_parser("list", help="every setting with its value and what it does")
    p.set_defaults(func=list_)
    p = s.add_parser("set", help="change one setting (administrators)")
    p.add_argument("key")
    p.add_argument("value")
    p.set_defaults(func=set_)


def list_(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import settings

    with ctx.db.read() as session:
        for key, setting in sorted(settings.REGISTRY.items()):
            print(f"{key:<28} {settings.get(session, setting)!s:<28} {setting.description}")
    return 0


def set_(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import settings

    setting = settings.REGISTRY.get(args.key)
    value: Any = args.value
    if setting is not None and setting.type is bool:
        value = args.value.strip().lower() in ("1", "yes", "true", "on")
    settings.set_value(ctx.db, ctx.actor, args.key, value)
    print(f"{args.key} = {settings.read(ctx.db, settings.REGISTRY[args.key])}")
    return 0
