"""CLI: labels to PDF and the alignment test print.

``backoffice labels --template NAME (--tags T … | --manifest M | --transfer ID | --category C |
--price-changed) --out FILE.pdf`` prints a run; ``backoffice labels test-print --template NAME
--out FILE.pdf`` is a sub-command of the same parser, so the run's options are checked in
``run`` rather than marked required.
"""

from __future__ import annotations

import argparse
from typing import Any

from backoffice.cli.context import APPROVER_PIN_ENV, CliContext, read_pin
from backoffice.errors import RuleViolation
from backoffice.labels.templates import TEMPLATES

_SOURCES = ("tags", "manifest", "transfer", "category", "price_changed")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "labels",
        help="shelf and bin labels to PDF",
        description="Print a run of labels to a PDF, or an alignment test page (labels test-print).",
        usage="%(prog)s --template NAME (--tags TAG [TAG ...] | --manifest NUMBER | --transfer ID | "
        "--category NAME | --price-changed) [--shelf] [--start N] "
        "[--lab-override [--manager NAME] | --leave-out-flagged] --out FILE.pdf\n"
        "       %(prog)s test-print --template NAME --out FILE.pdf",
    )
    p.add_argument("--template", choices=list(TEMPLATES), help="label stock")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--tags", nargs="+", metavar="TAG", help="these packages")
    source.add_argument("--manifest", metavar="NUMBER", help="packages received from this manifest")
    source.add_argument("--transfer", metavar="ID", help="packages on this transfer")
    source.add_argument("--category", metavar="NAME", help="packages in stock in this category")
    source.add_argument(
        "--price-changed", action="store_true", help="items whose price changed since their labels were last printed"
    )
    p.add_argument(
        "--shelf",
        action="store_true",
        help="shelf labels: one per item, barcode = SKU (default: bin labels, one per package, barcode = tag)",
    )
    p.add_argument(
        "--start",
        type=int,
        default=0,
        metavar="N",
        help="labels already used on the first sheet: start at position N (0 = top left, row by row)",
    )
    flagged = p.add_mutually_exclusive_group()
    flagged.add_argument(
        "--lab-override",
        action="store_true",
        help="also print labels for product not cleared by its lab results (a manager confirms)",
    )
    flagged.add_argument(
        "--leave-out-flagged", action="store_true", help="print only the labels whose lab results clear them for sale"
    )
    p.add_argument(
        "--manager",
        metavar="NAME",
        default="",
        help="with --lab-override: the manager who confirms (their PIN is asked for, "
        "or read from $BACKOFFICE_APPROVER_PIN)",
    )
    p.add_argument("--out", metavar="FILE.pdf", help="where to write the PDF")
    p.set_defaults(func=run, labels_parser=p)
    commands = p.add_subparsers(dest="labels_command", metavar="test-print")
    t = commands.add_parser(
        "test-print",
        prog=f"{p.prog} test-print",
        help="one page of label outlines with a sample label, to check alignment",
    )
    t.add_argument("--template", required=True, choices=list(TEMPLATES))
    t.add_argument("--out", required=True, metavar="FILE.pdf")
    t.set_defaults(func=test_print)


def _selection(args: argparse.Namespace) -> Any:
    from backoffice.services.labels import Selection, Source

    if args.tags:
        return Selection(Source.TAGS, tuple(args.tags))
    if args.price_changed:
        return Selection(Source.PRICE_CHANGED)
    for name, source in (("manifest", Source.MANIFEST), ("transfer", Source.TRANSFER), ("category", Source.CATEGORY)):
        if getattr(args, name):
            return Selection(source, (getattr(args, name),))
    return None


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import labels

    parser: argparse.ArgumentParser = args.labels_parser
    selection = _selection(args)
    if selection is None:
        parser.error("choose what to print: --tags, --manifest, --transfer, --category or --price-changed")
    if not args.template or not args.out:
        parser.error("--template and --out are required")
    if args.manager and not args.lab_override:
        parser.error("--manager only goes with --lab-override")
    kind = labels.LabelKind.SHELF if args.shelf else labels.LabelKind.BIN
    batch = labels.select_labels(ctx.db, ctx.actor, selection, kind=kind)
    override = None
    if args.leave_out_flagged:
        batch = batch.without_flagged()
    elif args.lab_override and batch.flagged:
        pin = read_pin(args.manager, APPROVER_PIN_ENV) if args.manager else ""
        override = labels.lab_override(ctx.db, ctx.actor, args.manager, pin)
    try:
        labels.check_printable(ctx.actor, batch, override)
    except RuleViolation as exc:
        raise RuleViolation(f"{exc} Use --lab-override or --leave-out-flagged.") from None
    job = labels.save_pdf(
        ctx.db, ctx.actor, batch, args.template, args.out, start_position=args.start, override=override
    )
    for note in batch.left_out:
        print(f"left out: {note}")
    print(
        f"wrote {job.labels} {kind.value} label{'s' if job.labels != 1 else ''} for {batch.source} "
        f"({job.pages} page{'s' if job.pages != 1 else ''}) to {job.path}; print job {job.job}"
    )
    if job.lab_override_by:
        print(f"lab warning overridden by {job.lab_override_by}")
    return 0


def test_print(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.labels.testprint import render_test_print_pdf

    result = render_test_print_pdf(args.template, args.out)
    print(
        f"wrote the {result.template} test print to {result.path}: print it at 100 % (no scaling) "
        "on plain paper and hold it against the label stock"
    )
    return 0
