"""CLI: POS sales and METRC receipts in, and the day's reconciliation out.

``import pos-sales FILE [--layout NAME]`` and ``import metrc-sales FILE`` store a file;
``reconcile --date YYYY-MM-DD [--out FILE.xlsx]`` matches the day, prints a summary and
every finding (the day's, then those still open from earlier days) and exits 0 whatever it
found: findings are results, not errors.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from backoffice.cli.context import CliContext


def register_imports(imp: Any) -> None:
    p = imp.add_parser("pos-sales", help="a POS end-of-day sales export (CSV or .xlsx; layout found by its headers)")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--layout",
        metavar="NAME",
        help="read the file with this layout (built-in or saved) instead of finding it by the headers",
    )
    p.set_defaults(func=import_pos_sales)
    p = imp.add_parser("metrc-sales", help="METRC sales receipts (JSON from the API, or CSV)")
    p.add_argument("file", type=Path)
    p.set_defaults(func=import_metrc_sales)


def register(sub: Any) -> None:
    p = sub.add_parser("reconcile", help="match a business day's POS sales against METRC and list the differences")
    p.add_argument("--date", required=True, type=_day, metavar="YYYY-MM-DD", help="the business day")
    p.add_argument("--out", type=Path, metavar="FILE.xlsx", help="also write the reconciliation workbook")
    p.set_defaults(func=reconcile)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def import_pos_sales(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import sales_import

    print(sales_import.import_pos_file(ctx.db, ctx.actor, args.file, layout=args.layout).summary)
    return 0


def import_metrc_sales(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import metrc_receipts_import

    print(metrc_receipts_import.import_metrc_file(ctx.db, ctx.actor, args.file).summary)
    return 0


def reconcile(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import reconciliation

    view = reconciliation.reconcile_day(ctx.db, ctx.actor, args.date)
    print(view.summary.text)
    if view.new or view.cleared:
        print(f"this run: {view.new} new finding(s), {view.cleared} no longer found")
    for f in view.findings:
        state = f.status.value if f.resolution is None else f"{f.status.value} ({f.resolution.value})"
        earlier = f" [from {f.business_date}]" if f.carried else ""
        print(f"#{f.id} {f.kind_label} · {state}{earlier} · receipt {f.receipt_number or '—'} · {f.tag or '—'}")
        print(f"    {f.detail}")
        if f.note:
            print(f"    note: {f.note}")
    if args.out:
        from backoffice.exporters.reconciliation_workbook import write_reconciliation_workbook

        result = write_reconciliation_workbook(view, args.out)
        print(f"wrote {result.path} ({result.rows} findings)")
    return 0
