"""CLI: POS export layouts. ``pos-layout guess FILE`` shows how a new export's columns would
be read, with its first rows read that way; ``pos-layout add NAME --from FILE [--column
FIELD=HEADER]…`` saves that reading (files with the same headers are then recognised by
``import pos-sales``); ``pos-layout list`` lists the built-in and saved layouts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from backoffice.cli.context import CliContext
from backoffice.domain.numbers import money_text
from backoffice.importers.pos_sales_file import CANONICAL_FIELDS, DATE_STYLES


def register(sub: Any) -> None:
    layouts = sub.add_parser("pos-layout", help="POS export layouts: guess a new export's, save it, list them")
    layout_sub = layouts.add_subparsers(dest="layout_command", required=True, metavar="ACTION")
    p = layout_sub.add_parser("guess", help="show how the export's columns would be read, with its first rows")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=HEADER",
        type=_column,
        help=f"correct the guess for one field (fields: {', '.join(CANONICAL_FIELDS)}); repeatable",
    )
    p.set_defaults(func=guess_layout)
    p = layout_sub.add_parser("add", help="save the export's layout under a name (the guess, with --column fixes)")
    p.add_argument("name")
    p.add_argument("--from", dest="file", type=Path, required=True, metavar="FILE", help="an export in this layout")
    p.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=HEADER",
        type=_column,
        help="correct the guess for one field (an empty HEADER clears it); repeatable",
    )
    p.add_argument("--dates", choices=list(DATE_STYLES), help="how dates are written (default: as guessed)")
    p.add_argument(
        "--numbers",
        choices=["point", "comma"],
        help="decimal point (1,234.56) or decimal comma (1.234,56); default: found in each file",
    )
    p.add_argument("--timezone", metavar="ZONE", help="zone of the export's times when not the store's")
    p.set_defaults(func=add_layout)
    p = layout_sub.add_parser("list", help="the built-in and saved layouts")
    p.set_defaults(func=list_layouts)


def _column(text: str) -> tuple[str, str]:
    field, sep, header = text.partition("=")
    if not sep or field.strip() not in CANONICAL_FIELDS:
        raise argparse.ArgumentTypeError(f"{text!r}: write FIELD=HEADER, FIELD one of {', '.join(CANONICAL_FIELDS)}")
    return field.strip(), header.strip()


def guess_layout(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import pos_layouts

    guess = pos_layouts.guess(ctx.db, ctx.actor, args.file, dict(args.column))
    _print_guess(guess)
    return 0 if guess.preview is not None else 1


def _print_guess(guess: Any) -> None:
    print(
        f"{guess.file}: {len(guess.headers)} columns; dates {guess.date_style}; numbers "
        f"{guess.number_format.value if guess.number_format else '1,234.56 (assumed)'}"
    )
    mapped = {header: field for field, header in guess.columns.items()}
    for header in guess.headers:
        print(f"  {header:<24} -> {mapped.get(header, '(not used)')}")
    if guess.preview is None:
        print(f"the first rows cannot be read this way: {guess.preview_problem}")
        return
    print("first rows read this way:")
    for line in guess.preview.lines:
        print(
            f"  line {line.line}: receipt {line.receipt_number} · {line.sold_at:%Y-%m-%d %H:%M} · "
            f"{line.tag or '(untagged)'} · {line.product_name or '—'} · {line.quantity.normalize():f} "
            f"{line.unit.value if line.unit else ''} · {money_text(line.amount)}"
        )


def add_layout(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.domain.numbers import NumberFormat
    from backoffice.services import pos_layouts

    guess = pos_layouts.guess(ctx.db, ctx.actor, args.file, dict(args.column))
    if guess.preview is None:
        _print_guess(guess)
        print("error: nothing saved; correct the mapping with --column FIELD=HEADER", file=sys.stderr)
        return 1
    layout = pos_layouts.save_layout(
        ctx.db,
        ctx.actor,
        args.name,
        guess.headers,
        guess.columns,
        date_formats=DATE_STYLES[args.dates or guess.date_style],
        timezone=args.timezone,
        number_format=NumberFormat.parse(args.numbers) if args.numbers else guess.number_format,
    )
    print(f"saved layout {layout.name!r}: {_mapping(layout.columns)}")
    return 0


def list_layouts(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.importers.pos_sales_file import BUILTIN_LAYOUTS
    from backoffice.services import pos_layouts

    for layout in pos_layouts.all_layouts(ctx.db):
        kind = "built-in" if layout in BUILTIN_LAYOUTS else "saved"
        numbers = layout.number_format.value if layout.number_format else "found per file"
        print(f"{layout.name} ({kind}; numbers {numbers}): {_mapping(layout.columns)}")
    return 0


def _mapping(columns: dict[str, str] | Any) -> str:
    return ", ".join(f"{f}={columns[f]}" for f in CANONICAL_FIELDS if f in columns)
