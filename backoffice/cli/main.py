"""The ``backoffice`` command. Exit codes: 0 ok, 1 a user error (message on stderr), 2 usage.

Each area registers its sub-commands from its own module (``backoffice/cli/<area>.py``)
with ``register(subparsers)``; a command function takes ``(ctx, args)`` and returns 0.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from backoffice import __version__
from backoffice.db.engine import Database
from backoffice.domain.enums import Role
from backoffice.errors import UserError
from backoffice.paths import default_database_url
from backoffice.services.actor import Actor


@dataclass
class CliContext:
    db_url: str
    user: str | None

    @cached_property
    def db(self) -> Database:
        return Database(self.db_url)

    @cached_property
    def actor(self) -> Actor:
        """``--user`` when given (its role is enforced); otherwise the shell's own user as an
        administrator, since whoever runs the CLI can already open the database file."""
        if self.user:
            from backoffice.services.users import actor_for

            return actor_for(self.db, self.user)
        return Actor(None, f"cli:{getpass.getuser()}", Role.ADMIN)


def _areas() -> list[object]:
    from backoffice.cli import admin, counts, data, labels, metrc, receiving, reports, sales, transfers

    return [admin, data, transfers, metrc, labels, counts, reports, receiving, sales]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backoffice", description="Vault Workstation back office.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--db", metavar="URL", default=None,
                        help="database URL (default: $BACKOFFICE_DB or a SQLite file in the user data folder)")
    parser.add_argument("--user", metavar="NAME", default=None,
                        help="act as this user; their role's permissions apply")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for area in _areas():
        area.register(sub)  # type: ignore[attr-defined]
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    ctx = CliContext(db_url=args.db or default_database_url(), user=args.user or None)
    try:
        return int(args.func(ctx, args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 1
    finally:
        if "db" in ctx.__dict__:
            ctx.db.dispose()


if __name__ == "__main__":
    sys.exit(main())
