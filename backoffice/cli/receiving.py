"""CLI: incoming manifests.

``import manifest FILE`` (JSON or CSV) or ``import manifest --from-metrc NUMBER`` prints the
manifest number and package count; ``receive MANIFEST`` shows where its receiving stands and,
with ``--accept-all``, receives it for stores that check deliveries on paper first (the same
ledger, audit and METRC outbox rows as a scanned receiving); ``receive-report MANIFEST --out
F.pdf`` prints the receiving report (the receive sheet to key into METRC); ``receive-check
MANIFEST`` confirms METRC agrees afterwards.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from backoffice.cli.context import CliContext
from backoffice.errors import ValidationError
from backoffice.services.receiving.views import REJECT_REASONS


def register_imports(imp: Any) -> None:
    p = imp.add_parser("manifest", help="an incoming METRC manifest (JSON or CSV), or fetch one from METRC")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("file", type=Path, nargs="?", help="manifest JSON or CSV file")
    source.add_argument("--from-metrc", metavar="NUMBER", help="fetch this incoming manifest through the connector")
    p.set_defaults(func=import_manifest)


def register(sub: Any) -> None:
    p = sub.add_parser("receive", help="receive a manifest step by step (as the Receiving tab does), or --list them")
    p.add_argument("manifest", metavar="MANIFEST", nargs="?", help="manifest number")
    p.add_argument("--list", action="store_true", help="list the manifests and where each receiving stands")
    p.add_argument(
        "--create-items",
        action="store_true",
        help="add the items the store lacks to the catalogue (brand from the name; see --price)",
    )
    p.add_argument(
        "--price",
        action="append",
        default=[],
        metavar="TAG=AMOUNT",
        help="shelf price of the item of TAG's line, with --create-items",
    )
    p.add_argument(
        "--no-price", action="store_true", help="with --create-items: items without --price go in with no price yet"
    )
    p.add_argument("--scan", nargs="+", default=[], metavar="TAG", help="tick the packages found in the delivery")
    p.add_argument(
        "--received",
        action="append",
        default=[],
        metavar="TAG=QTY",
        help="what arrived of a scanned package when it differs from shipped (needs --note)",
    )
    p.add_argument(
        "--reject",
        action="append",
        default=[],
        metavar="TAG",
        help="refuse a package, scanned or never arrived (needs --reason and --note)",
    )
    p.add_argument("--reason", help=f"rejection reason: {', '.join(REJECT_REASONS)}")
    p.add_argument("--note", default="", help="why: a received quantity differs, or a package is rejected")
    p.add_argument("--accept", nargs="+", default=[], metavar="TAG", help="accept scanned packages (all or none)")
    p.add_argument("--accept-scanned", action="store_true", help="accept every scanned package that may be accepted")
    p.add_argument(
        "--accept-all",
        action="store_true",
        help="accept every package not rejected yet at its shipped quantity and finish (checked on paper)",
    )
    p.add_argument("--finish", action="store_true", help="receive the manifest once every package is decided")
    p.add_argument(
        "--without-unit-codes",
        action="store_true",
        help="accept or finish even with packages METRC lists no Retail ID unit codes for where the state "
        "requires them (after `retail-id fetch`); the audit names them",
    )
    p.add_argument("--location", help="where the packages go (default: the vault)")
    _user_option(p)
    p.set_defaults(func=receive)

    p = sub.add_parser("receive-report", help="receiving report PDF: shipped, received, rejected, by whom, when")
    p.add_argument("manifest", metavar="MANIFEST")
    p.add_argument("--out", required=True, type=Path, metavar="F.pdf")
    _user_option(p)
    p.set_defaults(func=report)

    p = sub.add_parser("receive-check", help="check METRC's active packages agree with a finished receiving")
    p.add_argument("manifest", metavar="MANIFEST")
    p.add_argument(
        "--metrc-file",
        type=Path,
        metavar="F.json",
        help="METRC active packages JSON (default: ask METRC through the connector)",
    )
    _user_option(p)
    p.set_defaults(func=check)


def _user_option(parser: argparse.ArgumentParser) -> None:
    """``--user`` after the command too, as in ``receive M --accept-all --user U``."""
    parser.add_argument("--user", metavar="NAME", default=argparse.SUPPRESS, help="act as this user")


def import_manifest(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import receiving

    if args.from_metrc:
        from backoffice.services import metrc_connection, receiving_metrc

        with metrc_connection.connect(ctx.db, ctx.actor.username) as client:
            result = receiving_metrc.import_from_metrc(ctx.db, ctx.actor, client, args.from_metrc)
    else:
        result = receiving.import_file(ctx.db, ctx.actor, args.file)
    if result.already_imported:
        print(
            f"manifest {result.manifest_number}: {result.packages} packages, already imported "
            f"({result.status.value}); nothing changed"
        )
    else:
        print(f"manifest {result.manifest_number}: {result.packages} packages from {result.shipper_name} imported")
    if result.unknown_items:
        print(
            f"{result.unknown_items} package(s) carry an item not in the catalogue: create each from its manifest "
            "line (Receiving tab) or reject it"
        )
    return 0


def receive(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.cli import receiving_steps
    from backoffice.services import receiving

    if args.list:
        return receiving_steps.list_manifests(ctx)
    if not args.manifest:
        raise ValidationError("say which manifest (backoffice receive MANIFEST …), or list them with --list")
    manifest_id = receiving.find_manifest(ctx.db, args.manifest)
    if not receiving_steps.run_steps(ctx, args, manifest_id):
        return 1
    if args.accept_all or args.finish:
        return 0
    receiving_steps.print_manifest(receiving.get_manifest(ctx.db, ctx.actor, manifest_id))
    return 0


def report(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.exporters.receiving_report import export_receiving_report
    from backoffice.services import receiving

    result = export_receiving_report(ctx.db, ctx.actor, receiving.find_manifest(ctx.db, args.manifest), args.out)
    print(f"{result.path}: receiving report, {result.packages} packages, {result.pages} page(s)")
    return 0


def check(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.importers import metrc_packages
    from backoffice.services import receiving, receiving_metrc

    manifest_id = receiving.find_manifest(ctx.db, args.manifest)
    packages = metrc_packages.read_json(args.metrc_file) if args.metrc_file else _active_packages(ctx)
    result = receiving_metrc.check_metrc(ctx.db, ctx.actor, manifest_id, packages)
    if result.agrees:
        closed = f"; receive sheet (outbox #{result.outbox_closed}) closed" if result.outbox_closed else ""
        print(
            f"METRC agrees with manifest {result.manifest_number}: {result.accepted} accepted, "
            f"{result.rejected} rejected{closed}"
        )
        return 0
    print(f"METRC differs from manifest {result.manifest_number} in {len(result.problems)} package(s):")
    for problem in result.problems:
        print(f"  {problem}")
    return 1


def _active_packages(ctx: CliContext) -> Any:
    from backoffice.services import metrc_connection

    return metrc_connection.fetch_active_packages(ctx.db, ctx.actor)
