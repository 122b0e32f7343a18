"""CLI: Excel workbooks for purchasing, for scheduled pulls.

``backoffice report velocity --weeks N [--category C] [--brand B] [--vendor V] [--through DATE]
--out FILE.xlsx`` and ``backoffice report accuracy --since DATE --until DATE --out FILE.xlsx``.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from backoffice.cli.context import CliContext
from backoffice.domain.numbers import money_text


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-31") from None


def register(sub: Any) -> None:
    from backoffice.services.reports.velocity import DEFAULT_WEEKS, MAX_WEEKS

    p = sub.add_parser("report", help="Excel workbooks: sales velocity with reorder suggestions, inventory accuracy")
    kinds = p.add_subparsers(dest="report_kind", required=True, metavar="REPORT")
    v = kinds.add_parser(
        "velocity",
        help="units, revenue, days of supply and reorder suggestions per SKU",
        description="Velocity workbook: a Summary per SKU, SKU × week units, category weekly "
        "totals with a chart, and each brand against its category.",
    )
    v.add_argument(
        "--weeks",
        type=int,
        default=DEFAULT_WEEKS,
        metavar="N",
        help=f"window in weeks (1–{MAX_WEEKS}, default {DEFAULT_WEEKS})",
    )
    v.add_argument("--category", metavar="C", help="only this category")
    v.add_argument("--brand", metavar="B", help="only this brand (compared with the rest of its categories)")
    v.add_argument("--vendor", metavar="V", help="only this vendor")
    v.add_argument(
        "--through", type=_day, metavar="DATE", help="last business day in the window (default: yesterday, store time)"
    )
    v.add_argument("--out", required=True, metavar="FILE.xlsx", help="where to write the workbook")
    v.set_defaults(func=velocity)
    a = kinds.add_parser(
        "accuracy",
        help="count accuracy, variances, adjustments by reason and shrinkage",
        description="Accuracy workbook for counts submitted and adjustments made in a date range "
        "(store time, both days included).",
    )
    a.add_argument("--since", type=_day, required=True, metavar="DATE", help="first day (YYYY-MM-DD)")
    a.add_argument("--until", type=_day, required=True, metavar="DATE", help="last day (YYYY-MM-DD)")
    a.add_argument("--out", required=True, metavar="FILE.xlsx", help="where to write the workbook")
    a.set_defaults(func=accuracy)


def velocity(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.exporters.velocity_workbook import write_velocity_workbook
    from backoffice.services.reports import Scope, velocity_report

    report = velocity_report(
        ctx.db,
        ctx.actor,
        weeks=args.weeks,
        through=args.through,
        scope=Scope(category=args.category, brand=args.brand, vendor=args.vendor),
    )
    result = write_velocity_workbook(report, args.out)
    reorder = sum(1 for r in report.rows if r.reorder_quantity > 0)
    print(
        f"wrote {result.path}: {len(report.rows)} SKUs over {report.weeks} weeks "
        f"({report.window_start} to {report.through}), {reorder} to reorder, in {result.seconds:.1f} s"
    )
    return 0


def accuracy(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.exporters.accuracy_workbook import write_accuracy_workbook
    from backoffice.services.reports import accuracy_report

    report = accuracy_report(ctx.db, ctx.actor, since=args.since, until=args.until)
    result = write_accuracy_workbook(report, args.out)
    accuracy_text = f"{report.accuracy:.1%}" if report.accuracy is not None else "no lines counted"
    print(
        f"wrote {result.path}: {len(report.counts)} counts ({accuracy_text}), {len(report.adjustments)} "
        f"adjustments, shrinkage {money_text(report.shrinkage_value)}"
    )
    return 0
