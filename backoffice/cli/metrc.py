"""CLI: the METRC connection (setup, keys), the outbox (status, sync, retry, resolve, manual
CSV export) and the drift check against METRC."""

from __future__ import annotations

import argparse
import getpass
import sys
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
    p = m.add_parser("setup", help="set the METRC API address, license and API version (shows them when none given)")
    p.add_argument("--url", help="METRC API address, e.g. https://api-ca.metrc.com/")
    p.add_argument("--license", help="the store's METRC facility license number")
    p.add_argument(
        "--api",
        choices=("v1", "v2"),
        help="the API version the store's keys are for (v2 unless the state still runs v1)",
    )
    p.add_argument("--window-hours", type=int, help="longest lastModified window per list call (state limit)")
    p.add_argument("--in-flight", type=int, help="METRC calls sent at the same time")
    p.add_argument(
        "--retail-id-required",
        choices=("yes", "no"),
        help="the state requires a Retail ID QR code on every unit (receiving flags packages without)",
    )
    p.set_defaults(func=setup)
    keys = m.add_parser("key", help="METRC API keys (kept in the OS key store)").add_subparsers(
        dest="key_command", required=True
    )
    p = keys.add_parser("set", help="store a key read from standard input (never given as an argument)")
    whose = p.add_mutually_exclusive_group(required=True)
    whose.add_argument("--vendor", action="store_true", help="the integrator's vendor key (administrators)")
    whose.add_argument("--user", dest="key_user", metavar="NAME", help="this user's own METRC key")
    p.set_defaults(func=set_key)
    p = m.add_parser("drift", help="compare every active package with METRC (first run full, then what changed)")
    p.add_argument("--full", action="store_true", help="fetch every active package again, not only what changed")
    p.set_defaults(func=drift)
    register_retail_id(sub)


def status(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.domain.enums import OutboxStatus
    from backoffice.services import metrc_sync

    wanted = None if args.all else {OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED}
    rows = metrc_sync.list_entries(ctx.db, ctx.actor, statuses=wanted)
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


def setup(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import metrc_setup

    retail = None if args.retail_id_required is None else args.retail_id_required == "yes"
    if any(v is not None for v in (args.url, args.license, args.api, args.window_hours, args.in_flight, retail)):
        result = metrc_setup.configure(
            ctx.db,
            ctx.actor,
            base_url=args.url,
            license_number=args.license,
            api_version=args.api,
            window_hours=args.window_hours,
            max_in_flight=args.in_flight,
            retail_id_required=retail,
        )
    else:
        result = metrc_setup.current(ctx.db)
    print(f"METRC address  {result.base_url or '(none: manual CSV mode)'}")
    print(f"license        {result.license_number}")
    print(f"API version    {result.api_version}")
    print(f"window         {result.window_hours} h per list call, {result.max_in_flight} calls at once")
    print(f"Retail ID      {'required on every unit' if result.retail_id_required else 'optional'}")
    return 0


def set_key(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import metrc_setup

    whose = "the vendor" if args.vendor else f"user {args.key_user}"
    if sys.stdin.isatty():
        key = getpass.getpass(f"METRC API key for {whose}: ")
    else:
        key = sys.stdin.readline().strip()
    if args.vendor:
        metrc_setup.set_vendor_key(ctx.db, ctx.actor, key)
    else:
        metrc_setup.set_user_key(ctx.db, ctx.actor, args.key_user, key)
    print(f"METRC key for {whose} stored in the system key store")
    return 0


def register_retail_id(sub: Any) -> None:
    r = sub.add_parser("retail-id", help="METRC Retail ID unit codes").add_subparsers(
        dest="retail_command", required=True
    )
    p = r.add_parser("resolve", help="the package a unit's QR code (URL) or a tag stands for")
    p.add_argument("code", help="the scanned QR URL, e.g. https://1a4.com/ABC123, or a package tag")
    p.set_defaults(func=resolve_retail_id)
    p = r.add_parser("fetch", help="cache the unit codes of every package on a manifest (done at receiving)")
    p.add_argument("manifest", help="manifest number")
    p.set_defaults(func=fetch_retail_ids)


def resolve_retail_id(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import retail_id

    scan = retail_id.resolve(ctx.db, ctx.actor, args.code)
    what = f"unit code {scan.short_code} (one unit) of package" if scan.unit else "package"
    print(f"{what} {scan.tag}  [{scan.source}]")
    return 0


def fetch_retail_ids(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import receiving, retail_id

    result = retail_id.fetch_manifest_codes(ctx.db, ctx.actor, receiving.find_manifest(ctx.db, args.manifest))
    print(f"manifest {result.manifest_number}: {result.codes} unit code(s) saved")
    for tag in result.without_codes:
        flag = "REQUIRED by the state: set it aside, do not accept" if result.required else "optional in this state"
        print(f"  {tag} has no unit codes ({flag})")
    return 1 if result.flagged else 0


def drift(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import metrc_drift

    result = metrc_drift.check(ctx.db, ctx.actor, full=args.full)
    for d in result.differences:
        print(f"{d.tag}  {d.field:<17} store: {d.store:<28} METRC: {d.metrc:<20} {d.item}")
        print(f"{'':26}likely: {d.cause}")
    print(result.summary)
    return 1 if result.differences else 0
