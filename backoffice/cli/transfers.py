"""CLI: transfers (create, record, move, cancel, list) and replenishment."""

from __future__ import annotations

import argparse
from typing import Any

from backoffice.cli.context import CliContext
from backoffice.services import settings


def register(sub: Any) -> None:
    t = sub.add_parser("transfer", help="room-to-room transfers").add_subparsers(dest="transfer_command", required=True)
    p = t.add_parser("create", help="a draft transfer of whole packages and parts of packages (--split)")
    p.add_argument("--from", dest="from_location", default="Vault")
    p.add_argument("--to", dest="to_location", default="Sales Floor")
    p.add_argument(
        "--split",
        action="append",
        default=[],
        metavar="TAG=QTY",
        help="move QTY of package TAG: split into a new package with a tag from the store's tag pool",
    )
    p.add_argument("tags", nargs="*", help="whole packages")
    p.set_defaults(func=create)
    p = t.add_parser("split", help="move part of a package: a new package with the next unused tag joins the draft")
    p.add_argument("id", type=int)
    p.add_argument("tag")
    p.add_argument("quantity")
    p.set_defaults(func=split)
    p = t.add_parser("record", help="record the METRC location change (before the product moves)")
    p.add_argument("id", type=int)
    p.set_defaults(func=record)
    p = t.add_parser("move", help="confirm packages arrived at the destination (scans)")
    p.add_argument("--at", dest="at_location", default="Sales Floor")
    p.add_argument("tags", nargs="+")
    p.set_defaults(func=move)
    p = t.add_parser("cancel", help="cancel a draft")
    p.add_argument("id", type=int)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cancel)
    p = t.add_parser("list", help="list transfers")
    p.add_argument("--open", action="store_true", help="only drafts and recorded ones")
    p.set_defaults(func=list_)
    p = t.add_parser("suggest", help="what the sales floor needs today")
    p.add_argument("--days", type=int, default=3, help="days of sales the floor should hold")
    p.set_defaults(func=suggest)


def _print(info: Any) -> None:
    print(
        f"transfer #{info.id}: {info.from_location} → {info.to_location}, {info.status.value}, "
        f"{info.moved_count}/{len(info.lines)} moved"
    )
    for line in info.lines:
        print(
            f"  {line.tag}  {line.quantity.normalize():f} {line.unit:<6} {'moved' if line.moved else '     '}  {line.item}"
        )


def create(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.errors import ValidationError
    from backoffice.services import transfers

    splits = []
    for value in args.split:
        tag, sep, quantity = value.partition("=")
        if not sep or not tag.strip() or not quantity.strip():
            raise ValidationError(f"--split {value!r} is not TAG=QTY, e.g. --split 1A4060300000000000000007=10")
        splits.append((tag.strip(), quantity.strip()))
    info = transfers.create_transfer(ctx.db, ctx.actor, args.from_location, args.to_location, args.tags, splits=splits)
    _print(info)
    for line in info.lines:
        if line.split_from:
            print(f"  {line.tag} is a new package split from {line.split_from}: label it before it moves")
    return 0


def split(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.domain.numbers import parse_decimal
    from backoffice.services import transfers

    info = transfers.split_into(ctx.db, ctx.actor, args.id, args.tag, parse_decimal(args.quantity, what="quantity"))
    print(f"split {args.quantity} from {args.tag} into new package {info.split_tag} (the next unused tag)")
    _print(info)
    return 0


def record(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import transfers

    _print(transfers.record(ctx.db, ctx.actor, args.id))
    print("location change recorded and queued for METRC; the product may move now")
    return 0


def move(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import transfers

    for tag in args.tags:
        info = transfers.confirm_arrival(ctx.db, ctx.actor, tag, args.at_location)
    _print(info)
    return 0


def cancel(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import transfers

    _print(transfers.cancel(ctx.db, ctx.actor, args.id, reason=args.reason))
    return 0


def list_(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import transfers

    for info in transfers.list_transfers(ctx.db, ctx.actor, open_only=args.open):
        print(
            f"#{info.id:<6} {info.status.value:<10} {info.from_location} → {info.to_location}  "
            f"{info.moved_count}/{len(info.lines)} moved  created {info.created_at:%Y-%m-%d %H:%M}"
        )
    return 0


def suggest(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import replenishment

    for s in replenishment.suggest(
        ctx.db, ctx.actor, today=settings.store_calendar(ctx.db).today(), days_of_cover=args.days
    ):
        print(f"{s.sku:<10} {s.item[:50]:<50} need {s.need:f} {s.unit}: {', '.join(s.tags) or 'nothing in the vault'}")
        print(f"{'':<10} {s.why}")
    return 0
