"""CLI: cycle counts (start, record, sheet, import-sheet, variances, fix-metrc, submit, list) and adjustments.

A scripted count: ``count start`` prints the new count's id; counts come from scans
(``count record``) or a keyed-in sheet (``count import-sheet``); ``count variances`` shows
the three-way comparison, which source differs and why; ``count fix-metrc`` corrects METRC
from a line; ``count submit`` freezes it. ``adjust`` corrects one package with
a METRC reason; over the approval threshold a manager approves with ``--approver NAME`` and their PIN.
"""

from __future__ import annotations

import argparse
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from backoffice.cli.context import APPROVER_PIN_ENV, CliContext, read_pin
from backoffice.errors import ValidationError


def register(sub: Any) -> None:
    c = sub.add_parser("count", help="cycle counts").add_subparsers(dest="count_command", required=True)
    p = c.add_parser("start", help="open a count and snapshot the ledger, the POS and METRC for its scope")
    p.add_argument("--name", required=True)
    p.add_argument("--category", action="append", default=[], metavar="C", help="repeat for several")
    p.add_argument("--brand", action="append", default=[], metavar="B", help="repeat for several")
    p.add_argument("--item", action="append", default=[], metavar="SKU", help="repeat for several")
    p.add_argument("--location", action="append", default=[], metavar="L", help="repeat for several")
    p.add_argument("--not-blind", action="store_true", help="counters may see expected quantities")
    p.add_argument("--pos-file", type=Path, metavar="F", help="POS inventory export (CSV: tag, quantity on hand)")
    metrc = p.add_mutually_exclusive_group()
    metrc.add_argument("--metrc-file", type=Path, metavar="F", help="METRC active packages (JSON)")
    metrc.add_argument(
        "--fetch-metrc",
        action="store_true",
        help="fetch METRC's active packages now through the connector (needs --user's METRC key)",
    )
    p.set_defaults(func=start)
    p = c.add_parser("record", help="record a counted quantity for a tag")
    p.add_argument("id", type=int)
    p.add_argument("tag")
    p.add_argument("quantity")
    p.add_argument("--location", help="where it was counted")
    p.add_argument("--recount", action="store_true", help="replace this tag's earlier counts")
    p.set_defaults(func=record)
    p = c.add_parser("sheet", help="printable count sheet (PDF), or a CSV to key counts into (.csv)")
    p.add_argument("id", type=int)
    p.add_argument("--out", required=True, type=Path, metavar="F.pdf")
    p.set_defaults(func=sheet)
    p = c.add_parser("import-sheet", help="record a keyed-in count sheet (CSV: tag, quantity)")
    p.add_argument("id", type=int)
    p.add_argument("file", type=Path)
    p.add_argument("--location", help="where the sheet was counted")
    p.set_defaults(func=import_sheet)
    p = c.add_parser("variances", help="counted vs ledger vs POS vs METRC: which source differs, and why")
    p.add_argument("id", type=int)
    p.add_argument("--all", action="store_true", help="also the lines that match")
    p.set_defaults(func=variances)
    p = c.add_parser("fix-metrc", help="correct METRC from a count line (the store's ledger is not changed)")
    p.add_argument("id", type=int)
    p.add_argument("tag")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--receipt", metavar="R", help="queue this POS receipt, which never reached METRC")
    what.add_argument("--quantity", metavar="Q", help="a METRC-only adjustment: the signed change, e.g. -2")
    p.add_argument("--reason", help="METRC adjustment reason (with --quantity)")
    p.add_argument("--note", required=True, help="why METRC is being corrected")
    p.set_defaults(func=fix_metrc)
    p = c.add_parser("submit", help="freeze the count and store its accuracy figures")
    p.add_argument("id", type=int)
    p.add_argument(
        "--uncounted-as-zero",
        action="store_true",
        help="packages nobody counted were looked for and not found: record them as 0",
    )
    p.set_defaults(func=submit)
    p = c.add_parser("list", help="counts, newest first")
    p.set_defaults(func=list_)

    p = sub.add_parser("adjust", help="adjust a package by a signed quantity with a METRC reason")
    p.add_argument("tag")
    p.add_argument("--quantity", required=True, help="the signed change, e.g. -2 (not the new total)")
    p.add_argument("--reason", required=True, help="a METRC adjustment reason (see adjust-reasons)")
    p.add_argument("--note", default="", help="what happened (up to 200 characters)")
    p.add_argument("--unit", help="unit of --quantity when not the package's (same family only)")
    p.add_argument("--date", type=date.fromisoformat, help="adjustment date, YYYY-MM-DD (default today)")
    p.add_argument("--count", type=int, metavar="ID", help="the count this adjustment resolves")
    p.add_argument(
        "--approver",
        metavar="U",
        help="manager approving an adjustment over the threshold "
        "(their PIN is asked for, or read from $BACKOFFICE_APPROVER_PIN)",
    )
    p.set_defaults(func=adjust)
    p = sub.add_parser("adjust-reasons", help="the state's adjustment reasons")
    p.add_argument("--from-metrc", action="store_true", help="load the list from METRC first")
    p.set_defaults(func=reasons)


def _qty(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():f}"


def _print_count(info: Any) -> None:
    print(
        f"count #{info.id} {info.name!r}: {info.status.value}, {'blind' if info.blind else 'not blind'}, "
        f"scope {info.scope.describe()}"
    )
    print(
        f"  {info.counted_lines}/{info.expected_lines} expected packages counted, {info.entries} entries; "
        f"POS: {info.pos_source or '—'}; METRC: {info.metrc_source or '—'}"
    )
    if info.lines_counted is not None:
        print(
            f"  accuracy {info.accuracy if info.accuracy is not None else '—'} %: {info.lines_matching}/"
            f"{info.lines_counted} lines matched; variance {_qty(info.unit_variance)} units, ${info.dollar_variance}"
        )
    for note in info.notes:
        print(f"  note: {note}")


def start(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import counts

    scope = counts.Scope(tuple(args.category), tuple(args.brand), tuple(args.item), tuple(args.location))
    if args.fetch_metrc:
        info = counts.start_count_with_metrc(
            ctx.db, ctx.actor, args.name, scope, blind=not args.not_blind, pos_file=args.pos_file
        )
    else:
        info = counts.start_count(
            ctx.db,
            ctx.actor,
            args.name,
            scope,
            blind=not args.not_blind,
            pos_file=args.pos_file,
            metrc_file=args.metrc_file,
        )
    _print_count(info)
    return 0


def record(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import counts

    result = counts.record_count(
        ctx.db,
        ctx.actor,
        args.id,
        args.tag,
        args.quantity,
        location=args.location,
        recount=args.recount,
        workstation="cli",
    )
    print(f"{result.describe()}: counted {_qty(result.counted)} {result.unit.value if result.unit else ''}".rstrip())
    return 0


def sheet(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.exporters import count_sheet

    result = count_sheet.export_count_sheet(ctx.db, ctx.actor, args.id, args.out)
    pages = f", {result.pages} page(s)" if result.pages else ""
    print(f"wrote {result.path} ({result.lines} packages{pages})")
    return 0


def import_sheet(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import counts

    result = counts.import_sheet(ctx.db, ctx.actor, args.id, args.file, location=args.location, workstation="cli")
    print(f"{result.file}: recorded {result.recorded} count(s); {result.blank} box(es) left empty")
    return 0


def variances(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import counts

    lines = counts.variance_lines(ctx.db, ctx.actor, args.id)
    shown = [ln for ln in lines if args.all or ln.status is not counts.LineStatus.MATCH]
    print(
        f"{'tag':<24} {'status':<14} {'counted':>9} {'ledger':>9} {'POS':>9} {'METRC':>9} {'pending':>8} "
        f"{'sold':>6} {'variance':>9} {'value':>9} {'adjusted':>9}  item"
    )
    for ln in shown:
        print(
            f"{ln.tag:<24} {ln.status.value:<14} {_qty(ln.counted):>9} {_qty(ln.ledger):>9} {_qty(ln.pos):>9} "
            f"{_qty(ln.metrc):>9} {_qty(ln.pending_metrc) if ln.pending_metrc else '':>8} {_qty(ln.sold_since):>6} "
            f"{_qty(ln.variance):>9} {'—' if ln.value is None else ln.value:>9} {_qty(ln.adjusted):>9}  {ln.item}"
        )
        for cause in ln.causes:
            print(f"{'':<24}   {'cause' if cause.explained else 'INVESTIGATE'}: {cause}")
    counted = sum(1 for ln in lines if ln.counted is not None)
    if any(ln.hidden for ln in lines):
        print(f"{len(lines)} lines, {counted} counted; blind count: results are shown after submit")
        return 0
    figures = counts.accuracy_of(lines)
    metrc = counts.metrc_agreement_of(lines)
    agreement = f"; METRC agrees on {metrc.agreeing} of {metrc.compared}" if metrc.compared else ""
    print(
        f"{len(lines)} lines, {counted} counted, {figures.lines_matching} match the ledger{agreement}; "
        f"variance {_qty(figures.unit_variance)} units, ${figures.dollar_variance}"
    )
    return 0


def fix_metrc(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import counts

    if args.receipt:
        result = counts.queue_missing_receipt(ctx.db, ctx.actor, args.id, args.tag, args.receipt, args.note)
    else:
        if not args.reason:
            raise ValidationError("a METRC-only adjustment needs --reason (see adjust-reasons)")
        result = counts.metrc_only_adjustment(
            ctx.db, ctx.actor, args.id, args.tag, args.quantity, args.reason, args.note
        )
    print(result.describe())
    return 0


def submit(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import counts

    _print_count(counts.submit(ctx.db, ctx.actor, args.id, uncounted_as_zero=args.uncounted_as_zero))
    return 0


def list_(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import counts

    for info in counts.list_counts(ctx.db, ctx.actor):
        accuracy = f"{info.accuracy} %" if info.accuracy is not None else ""
        print(
            f"#{info.id:<5} {info.status.value:<10} {info.snapshot_at:%Y-%m-%d %H:%M}  "
            f"{info.counted_lines}/{info.expected_lines} counted  {accuracy:>7}  {info.name}"
        )
    return 0


def adjust(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import adjustments

    pin = read_pin(args.approver, APPROVER_PIN_ENV) if args.approver else None
    result = adjustments.adjust(
        ctx.db,
        ctx.actor,
        args.tag,
        args.quantity,
        args.reason,
        args.note,
        unit=args.unit,
        adjustment_date=args.date,
        approver=args.approver,
        approver_pin=pin,
        count_session_id=args.count,
    )
    approved = f", approved by {result.approved_by}" if result.approved_by else ""
    print(
        f"adjusted {result.tag} by {result.delta.normalize():+f} {result.unit.value}: "
        f"{_qty(result.before)} → {_qty(result.after)} ({result.reason}{approved}); queued for METRC "
        f"as outbox #{result.outbox_id}"
    )
    return 0


def reasons(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import adjustments

    if args.from_metrc:
        from backoffice.services import metrc_connection

        listed = adjustments.load_reasons(
            ctx.db, ctx.actor, metrc_connection.fetch_adjustment_reasons(ctx.db, ctx.actor)
        )
    else:
        listed = adjustments.list_reasons(ctx.db, ctx.actor)
    for reason in listed:
        cap = f"  capped at {reason.max_percent} %" if reason.max_percent is not None else ""
        print(f"{reason.name:<30} {'note required' if reason.requires_note else '':<14}{cap}  ({reason.source})")
    return 0
