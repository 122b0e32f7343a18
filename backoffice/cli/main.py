"""The ``backoffice`` command. Exit codes: 0 ok, 1 a user error (message on stderr), 2 usage.

Each area registers its sub-commands from its own module (``backoffice/cli/<area>.py``)
with ``register(subparsers)``, and its file imports under the shared ``import`` command with
``register_imports(subparsers)``; a command function takes ``(ctx, args)``
(``backoffice.cli.context.CliContext``) and returns 0. Every command signs in first
(``--user NAME`` and a PIN); the few that may run signed out (``db status``, ``db upgrade``,
``demo`` and ``users add`` on a store without users) say so with ``signed_out_ok=True``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from backoffice import __version__
from backoffice.cli import (
    admin,
    counts,
    data,
    items,
    labels,
    locations,
    metrc,
    pending,
    pos_layouts,
    price,
    receiving,
    reports,
    sales,
    settings,
    tags,
    transfers,
)
from backoffice.cli.context import CliContext
from backoffice.db.errors import known_error
from backoffice.errors import UserError
from backoffice.paths import default_database_url

# Order is the order of `backoffice --help`.
_AREAS = (
    admin,
    settings,
    data,
    pending,
    items,
    transfers,
    tags,
    locations,
    metrc,
    labels,
    price,
    counts,
    reports,
    receiving,
    sales,
    pos_layouts,
)
# Areas whose files join the one `import` command.
_IMPORT_AREAS = (data, receiving, sales)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backoffice", description="Vault Workstation back office.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL (default: $BACKOFFICE_DB or a SQLite file in the user data folder)",
    )
    parser.add_argument(
        "--user",
        metavar="NAME",
        default=None,
        help="sign in as this user (PIN asked for, or read from $BACKOFFICE_PIN); their role's permissions apply",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for area in _AREAS:
        area.register(sub)
    imports = sub.add_parser("import", help="import files").add_subparsers(dest="import_command", required=True)
    for area in _IMPORT_AREAS:
        area.register_imports(imports)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    ctx = CliContext(db_url=args.db or default_database_url(), user=args.user or None)
    try:
        if ctx.signed_in or not getattr(args, "signed_out_ok", False):
            ctx.actor  # noqa: B018 -- sign in before anything runs: even reads need a signed-in user
        return int(args.func(ctx, args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        trouble = known_error(exc, _where(ctx))
        if trouble is None:
            raise
        print(f"error: {trouble}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 1
    finally:
        if "db" in ctx.__dict__:
            ctx.db.dispose()


def _where(ctx: CliContext) -> str:
    """The database as the error names it: its file, or its server's URL without the password."""
    from sqlalchemy.engine import make_url

    url = make_url(ctx.db_url)
    if url.get_backend_name() == "sqlite":
        return url.database or "the store's database"
    return url.render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
