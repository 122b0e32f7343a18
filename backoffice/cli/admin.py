"""CLI: database, users, audit, backup and restore."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from backoffice.cli.context import CliContext, SignInRequired
from backoffice.errors import UserError

NEW_PIN_ENV = "BACKOFFICE_NEW_PIN"


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", help="migrate the database to the latest schema (backs up SQLite first)")
    p.set_defaults(func=db_upgrade, signed_out_ok=True)
    p = db.add_parser("status", help="show the current and latest schema revision")
    p.set_defaults(func=db_status, signed_out_ok=True)

    u = sub.add_parser("users", help="manage users").add_subparsers(dest="users_command", required=True)
    p = u.add_parser(
        "add",
        help="add a user (the store's first user: an admin, without --user)",
        description=f"Add a user. Their PIN (4–12 digits, 6+ for managers and admins) is asked "
        f"for twice, or read from ${NEW_PIN_ENV}.",
    )
    p.add_argument("username")
    p.add_argument("--name", default="", help="display name")
    p.add_argument("--role", required=True, choices=["associate", "manager", "purchasing", "admin"])
    p.set_defaults(func=users_add, signed_out_ok=True)
    p = u.add_parser("list", help="list users")
    p.set_defaults(func=users_list)
    for name, active in (("disable", False), ("enable", True)):
        p = u.add_parser(name, help=f"{name} a user")
        p.add_argument("username")
        p.set_defaults(func=users_set_active, active=active)

    a = sub.add_parser("audit", help="audit trail").add_subparsers(dest="audit_command", required=True)
    p = a.add_parser("verify", help="check the hash chain and the ledger balances")
    p.set_defaults(func=audit_verify)

    p = sub.add_parser("backup", help="copy the SQLite database to a file (safe while in use)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="the backup file to write")
    target.add_argument("--daily", action="store_true", help="today's copy in the backup folder, old ones pruned")
    p.add_argument("--keep-days", type=int, default=14, help="with --daily: how many days of copies to keep")
    p.set_defaults(func=backup)
    p = sub.add_parser("restore", help="replace the SQLite database with a backup (the current one is kept)")
    p.add_argument("file", type=Path)
    p.set_defaults(func=restore)


def db_upgrade(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.db.migrate import head_revision, upgrade

    saved = upgrade(ctx.db)
    if saved:
        print(f"backed up the database to {saved}")
    print(f"database {ctx.db.display_url} is at revision {head_revision(ctx.db)}")
    return 0


def db_status(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.db.migrate import current_revision, head_revision

    current, head = current_revision(ctx.db), head_revision(ctx.db)
    print(f"database: {ctx.db.display_url}\ncurrent revision: {current or '(empty)'}\nlatest revision: {head}")
    return 0


def users_add(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import users

    if not ctx.signed_in and (args.role != "admin" or users.any_users(ctx.db)):
        raise SignInRequired(
            "sign in with --user NAME as an administrator to add users (only a store without "
            "users gets its first one, an admin, without signing in)"
        )
    pin = _new_pin(args.username)
    if ctx.signed_in:
        info = users.add_user(ctx.db, ctx.actor, args.username, args.name, args.role, pin)
    else:
        info = users.add_first_admin(ctx.db, args.username, args.name, pin)
    print(f"added {info.username} ({info.role.value})")
    return 0


def _new_pin(username: str) -> str:
    pin = os.environ.get(NEW_PIN_ENV)
    if pin:
        return pin
    if not sys.stdin.isatty():
        raise UserError(f"no PIN for the new user {username}: set {NEW_PIN_ENV} (this is not a terminal)")
    pin = getpass.getpass(f"new PIN for {username}: ")
    if getpass.getpass("the same PIN again: ") != pin:
        raise UserError("the two PINs differ; nothing was added")
    return pin


def users_list(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import users

    for info in users.list_users(ctx.db, ctx.actor):
        state = "active" if info.active else "disabled"
        print(f"{info.username:<20} {info.role.value:<11} {state:<9} {info.display_name}")
    return 0


def users_set_active(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import users

    info = users.set_active(ctx.db, ctx.actor, args.username, args.active)
    print(f"{info.username} is now {'active' if info.active else 'disabled'}")
    return 0


def audit_verify(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import audit, ledger

    report = audit.verify(ctx.db, ctx.actor)
    mismatches = ledger.check_balances(ctx.db, ctx.actor)
    if report.ok and not mismatches:
        print(f"audit chain intact: {report.events_checked} events verified; all package balances match the ledger")
        return 0
    lines = report.problems + [
        f"package {m.tag}: quantity {m.package_quantity} but its ledger sums to {m.ledger_quantity}" for m in mismatches
    ]
    raise UserError("verification FAILED:\n" + "\n".join(f"  {line}" for line in lines))


def backup(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services.backup import backup_sqlite, daily_backup, pg_dump_available

    if not ctx.db.sqlite_path:
        tool = pg_dump_available()
        hint = f"run: {tool} --format=custom --file=FILE DBNAME" if tool else "install postgresql-client for pg_dump"
        raise UserError(f"{ctx.db.display_url} is PostgreSQL; back it up with pg_dump ({hint}).")
    if args.daily:
        made = daily_backup(ctx.db, ctx.actor, keep_days=args.keep_days)
        print(f"daily backup written to {made}" if made else "today's daily backup already exists")
        return 0
    out = backup_sqlite(ctx.db, ctx.actor, args.out)
    print(f"backed up {ctx.db.display_url} to {out}")
    return 0


def restore(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services.backup import restore_sqlite

    kept = restore_sqlite(ctx.db, ctx.actor, args.file)
    print(f"restored {args.file}; the previous database was kept as {kept}")
    return 0
