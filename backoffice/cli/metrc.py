"""CLI: the METRC outbox — status, sync, retry, resolve, manual CSV export."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from backoffice.cli.context import CliContext


def register(sub: Any) -> None:
    m = sub.add_parser("metrc", help="METRC outbox and connector").add_subparsers(dest="metrc_command", required=True)
    p = m.add_parser("status", help="list outbox entries (pending and failed by default)")
    p.add_argument("--all", action="store_true", help="include sent and resolved entries")
    p.set_defaults(func=status)
    p = m.add_parser("sync", help="send pending entries to METRC, in order")
    p.set_defaults(func=sync)
    p = m.add_parser("retry", help="put a failed entry back in the queue")
    p.add_argument("id", type=int)
    p.set_defaults(func=retry)
    p = m.add_parser("resolve", help="close a failed entry by hand")
    p.add_argument("id", type=int)
    p.add_argument("--note", required=True)
    p.set_defaults(func=resolve)
    p = m.add_parser("export-csv", help="manual mode: write pending changes as METRC upload CSVs, mark them exported")
    p.add_argument("--out", type=Path, required=True, help="folder for the CSV files")
    p.set_defaults(func=export_csv)


def status(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.domain.enums import OutboxStatus
    from backoffice.services import metrc_sync

    wanted = None if args.all else {OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED}
    rows = metrc_sync.list_entries(ctx.db, statuses=wanted)
    for r in rows:
        print(f"#{r.id:<6} {r.status.value:<9} {r.kind.value:<16} {r.doc:<18} tries {r.attempts}  {r.summary}")
        if r.last_error:
            print(f"{'':8}{r.last_error}")
    print(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}")
    return 0


def sync(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import metrc_connection

    result = metrc_connection.send_now(ctx.db, ctx.actor)
    print(f"sent {result.sent}, failed {result.failed}, waiting {result.waiting}")
    if result.reason:
        print(f"stopped: {result.reason}")
    return 0


def retry(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import metrc_sync

    metrc_sync.retry(ctx.db, ctx.actor, args.id)
    print(f"entry {args.id} is queued again")
    return 0


def resolve(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import metrc_sync

    metrc_sync.resolve(ctx.db, ctx.actor, args.id, args.note)
    print(f"entry {args.id} resolved")
    return 0


def export_csv(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import metrc_manual

    written = metrc_manual.export_pending(ctx.db, ctx.actor, args.out).files
    for path, count in written:
        print(f"{path}: {count} row(s)")
    if not written:
        print("nothing pending to export")
    return 0
