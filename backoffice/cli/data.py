"""CLI: demo store and file imports."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from backoffice.cli.context import CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="build a deterministic demo store in an empty database")
    p.add_argument("--scale", choices=["small", "large"], default="small")
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=demo, signed_out_ok=True)


def register_imports(imp: Any) -> None:
    p = imp.add_parser("metrc-packages", help="METRC active packages JSON (creates or updates items and packages)")
    p.add_argument("file", type=Path)
    p.add_argument("--skip-bad", action="store_true", help="import the good records and list the skipped ones")
    p.set_defaults(func=import_metrc_packages)


def demo(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice import demo as demo_store
    from backoffice.db.migrate import upgrade
    from backoffice.services import users
    from backoffice.services.actor import Permission

    upgrade(ctx.db)
    if users.any_users(ctx.db):  # the demo adds an admin with a known PIN: not into a store with users
        ctx.actor.require(Permission.MANAGE_USERS)
    started = time.perf_counter()

    def progress(stage: str, fraction: float) -> None:
        if sys.stderr.isatty():
            print(f"\r{stage:<20} {fraction:6.1%}", end="", file=sys.stderr, flush=True)

    summary = demo_store.build(ctx.db, args.scale, seed=args.seed, progress=progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(
        f"demo store ({args.scale}, seed {args.seed}) built in {time.perf_counter() - started:.1f} s: "
        f"{summary.skus:,} SKUs, {summary.packages:,} packages ({summary.active_packages:,} active), "
        f"{summary.sale_lines:,} sale lines over {summary.days} days"
    )
    print(
        f"waiting: manifest(s) {', '.join(summary.manifests)} to receive; transfer #{summary.transfer_id} recorded, "
        f"not moved; {summary.counts} cycle counts submitted; {len(summary.planted)} differences between the POS "
        "and METRC to find in the last 7 days"
    )
    print("users: " + ", ".join(f"{u} ({r.value}, PIN {pin})" for u, _, r, pin in demo_store.DEMO_USERS))
    return 0


def import_metrc_packages(ctx: CliContext, args: argparse.Namespace) -> int:
    from backoffice.services import metrc_packages_import

    result = metrc_packages_import.import_file(ctx.db, ctx.actor, args.file, skip_bad=args.skip_bad)
    print(
        f"{args.file.name}: {result.created} packages created, {result.updated} updated, "
        f"{result.items_created} items and {result.locations_created} locations created"
    )
    if result.skipped:
        print(f"skipped {len({p.line for p in result.skipped})} bad record(s):")
        for problem in result.skipped:
            print(f"  {problem}")
    if result.held:
        print(
            f"{len(result.held)} package(s) stay held: the file would lift a hold or a failed lab state, which a "
            "manager must accept (backoffice pending list)"
        )
    if result.differences:
        print(f"{len(result.differences)} package(s) differ from METRC (not changed; count them to explain):")
        for line in result.differences[:50]:
            print(f"  {line}")
    return 0
