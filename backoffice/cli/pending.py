"""CLI: changes from imported files that wait for a manager (``pending list | accept ID | reject ID``)."""

from __future__ import annotations

import argparse
from typing import Any

from backoffice.cli.context import CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("pending", help="changes from imported files that lift a hold or a failed lab state")
    cmds = p.add_subparsers(dest="pending_command", required=True)
    s = cmds.add_parser("list", help="changes waiting for a manager")
    s.add_argument("--all", action="store_true", help="also the accepted and rejected ones")
    s.set_defaults(func=list_)
    for name, helptext in (
        ("accept", "make the change (a manager, with a note)"),
        ("reject", "leave the package as it is (a manager, with a note)"),
    ):
        s = cmds.add_parser(name, help=helptext)
        s.add_argument("id", type=int)
        s.add_argument("--note", required=True, help="why: the COA or METRC hold release you checked")
        s.set_defaults(func=decide, accept=name == "accept")


def list_(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import pending_changes

    rows = pending_changes.list_changes(ctx.db, ctx.actor, pending_only=not args.all)
    for c in rows:
        print(f"#{c.id:<5} {c.status:<9} {c.tag}  {c.describe()}  (from {c.source})")
    print(f"{len(rows)} change(s)")
    return 0


def decide(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import pending_changes

    done = (pending_changes.accept if args.accept else pending_changes.reject)(ctx.db, ctx.actor, args.id, args.note)
    print(f"change #{done.change.id} {done.change.status}: {done.change.tag} {done.change.describe()}")
    return 0
