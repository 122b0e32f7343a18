"""CLI: store settings (``settings list|get|set NAME VALUE``), checked by the settings service
as the Settings dialog's are. Changing one needs an administrator."""

from __future__ import annotations

import argparse
from typing import Any

from backoffice.cli.context import CliContext


def register(sub: Any) -> None:
    s = sub.add_parser("settings", help="store settings (shared by every workstation)").add_subparsers(
        dest="settings_command", required=True
    )
    p = s.add_parser("list", help="every setting, its value and what it is for")
    p.set_defaults(func=list_settings)
    p = s.add_parser("get", help="one setting's value")
    p.add_argument("name")
    p.set_defaults(func=get)
    p = s.add_parser("set", help="change a setting (administrators); yes/no for switches")
    p.add_argument("name")
    p.add_argument("value")
    p.set_defaults(func=set_)


def list_settings(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import settings

    for view in settings.list_settings(ctx.db, ctx.actor):
        default = "" if view.value == view.default else f"  (default {settings.format_value(view.default)})"
        print(f"{view.key:<28} {view.text or '—':<30} {view.description}{default}")
    return 0


def get(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import settings

    setting = settings.lookup(args.name)
    view = next(v for v in settings.list_settings(ctx.db, ctx.actor) if v.key == setting.key)
    print(view.text)
    return 0


def set_(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import settings

    setting = settings.lookup(args.name)
    result = settings.set_value(ctx.db, ctx.actor, setting.key, settings.parse_text(setting, args.value))
    if setting.key not in result.changed:
        print(f"{setting.key} is already {settings.format_value(settings.read(ctx.db, setting))}; nothing changed")
        return 0
    before, after = result.changed[setting.key]
    print(f"{setting.key}: {settings.format_value(before)} → {settings.format_value(after)}")
    return 0
