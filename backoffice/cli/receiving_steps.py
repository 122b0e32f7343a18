"""The steps of ``backoffice receive MANIFEST``, each a call of the same receiving service the
Receiving tab calls, in the order a delivery is checked: create the missing items, scan the
packages that came, correct received quantities, reject what is refused or never came, accept,
then finish (or ``--accept-all`` for a delivery checked on paper). Messages are the tab's."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal

from backoffice.cli.context import CliContext
from backoffice.domain.numbers import money_text
from backoffice.errors import ValidationError
from backoffice.services import catalogue, receiving
from backoffice.services.receiving import BadScan, FinishResult, ManifestView


def _pairs(values: list[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        tag, sep, amount = value.partition("=")
        if not sep or not tag.strip() or not amount.strip():
            raise ValidationError(f"{what} {value!r} is not TAG=AMOUNT, e.g. 1A4060300000000000005004=452.8")
        pairs.append((tag.strip(), amount.strip()))
    return pairs


def run_steps(ctx: CliContext, args: argparse.Namespace, manifest_id: int) -> bool:
    """Every step asked for; False (after saying why on stderr) when a scan ticked nothing, in which
    case no decision or finish follows: the extra package is set aside first."""
    db, actor = ctx.db, ctx.actor
    if args.create_items:
        _create_items(ctx, args, manifest_id)
    elif args.price or args.no_price:
        raise ValidationError("--price and --no-price go with --create-items")
    refused = 0
    for tag in args.scan:
        try:
            result = receiving.scan(db, actor, manifest_id, tag)
        except BadScan as bad:
            print(f"error: {bad}", file=sys.stderr)
            refused += 1
            continue
        if result.ok:
            print(result.message)
        else:
            print(f"warning: {result.message}", file=sys.stderr)
    if refused:
        print(
            f"error: {refused} scan(s) ticked nothing; nothing else was done. Set those packages aside, then "
            "go on without them.",
            file=sys.stderr,
        )
        return False
    for tag, quantity in _pairs(args.received, "--received"):
        print(receiving.set_received_quantity(db, actor, manifest_id, tag, quantity, args.note).message)
    if args.reject and not args.reason:
        raise ValidationError(f"--reject needs --reason, one of: {', '.join(receiving.REJECT_REASONS)}")
    for tag in args.reject:
        print(receiving.reject(db, actor, manifest_id, tag, args.reason, args.note).message)
    knowingly = args.without_unit_codes
    if args.accept:
        accepted = receiving.accept(db, actor, manifest_id, args.accept, without_unit_codes=knowingly)
        print(f"{len(accepted.accepted)} package(s) accepted.")
    if args.accept_scanned:
        accepted = receiving.accept_scanned(db, actor, manifest_id, without_unit_codes=knowingly)
        print(f"{len(accepted.accepted)} package(s) accepted.")
        for tag, why in accepted.left:
            print(f"warning: {tag} needs a decision by hand: {why}", file=sys.stderr)
    if args.accept_all:
        _print_finished(
            receiving.accept_all(db, actor, manifest_id, location=args.location, without_unit_codes=knowingly)
        )
    elif args.finish:
        _print_finished(receiving.finish(db, actor, manifest_id, location=args.location, without_unit_codes=knowingly))
    elif args.location:
        raise ValidationError("--location goes with --finish or --accept-all")
    return True


def _create_items(ctx: CliContext, args: argparse.Namespace, manifest_id: int) -> None:
    proposals = catalogue.propose_items(ctx.db, ctx.actor, manifest_id)
    if not proposals:
        print("every line of this manifest has its item in the catalogue")
        return
    prices = dict(_pairs(args.price, "--price"))
    by_tag = {p.tag: p for p in proposals}
    unknown = [tag for tag in prices if tag not in by_tag]
    if unknown:  # a price for another line of the same item is fine: use the item's first line
        view = receiving.get_manifest(ctx.db, ctx.actor, manifest_id)
        first = {(ln.item_name.lower(), ln.category.lower()): ln.tag for ln in reversed(view.lines)}
        for tag in unknown:
            line = next((ln for ln in view.lines if ln.tag == tag), None)
            if line is None or line.item_id is not None:
                raise ValidationError(f"--price {tag}=…: {tag} is not a line of this manifest whose item is new")
            prices[first[(line.item_name.lower(), line.category.lower())]] = prices.pop(tag)
    made = catalogue.create_items_from_lines(
        ctx.db,
        ctx.actor,
        manifest_id,
        [catalogue.NewItem(p.tag, prices.get(p.tag)) for p in proposals],
        no_price_ok=args.no_price,
    )
    for item in made.items:
        price = money_text(item.price) if item.price else catalogue.NO_PRICE
        print(f"  {item.sku:<16} {price:>12}  {item.brand or '—':<20} {item.name}")
    print(made.message)


def _print_finished(result: FinishResult) -> None:
    print(
        f"manifest {result.manifest_number} received into {result.location}: {len(result.received)} "
        f"package(s) accepted, {result.rejected} rejected"
    )
    for pkg in result.received:
        print(f"  {pkg.tag}  {_plain(pkg.quantity)} {pkg.unit.value:<6}  bin {pkg.bin or '—':<9}  {pkg.item_name}")
    print(
        f"receive sheet queued (outbox #{result.outbox_id}): key it into METRC's web UI "
        f"(backoffice receive-report {result.manifest_number} --out sheet.pdf), then run "
        f"backoffice receive-check {result.manifest_number}"
    )


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def print_manifest(view: ManifestView) -> None:
    print(
        f"manifest {view.manifest_number} from {view.shipper_name} ({view.shipper_license}): {view.status.value}, "
        f"{view.seen}/{len(view.lines)} scanned, {view.undecided} undecided"
    )
    for line in view.lines:
        received = "" if line.received_quantity is None else _plain(line.received_quantity)
        print(
            f"  {line.tag}  {line.state.value:<8}  {_plain(line.shipped_quantity)} → {received or '—'} "
            f"{line.unit.value:<6}  {line.item_name}"
            + (f"  [{line.problem.value}]" if line.problem else "")
            + (f"  ({line.reject_reason})" if line.reject_reason else "")
            + ("  [⚠ no Retail ID unit codes]" if line.tag in view.unit_codes_missing else "")
        )
    if view.open and view.unit_codes_missing:
        print(
            f"warning: {len(view.unit_codes_missing)} package(s) with {receiving.RETAIL_ID_MISSING}.",
            file=sys.stderr,
        )


def list_manifests(ctx: CliContext) -> int:
    rows = receiving.list_manifests(ctx.db, ctx.actor)
    for m in rows:
        arrival = f"{m.estimated_arrival.astimezone():%Y-%m-%d %H:%M}" if m.estimated_arrival else "—"
        print(
            f"{m.manifest_number:<12} {m.status.value:<9} {m.scanned:>4}/{m.packages:<4} scanned  "
            f"{m.decided:>4} decided  expected {arrival:<16}  {m.shipper_name}"
        )
    print(f"{len(rows)} manifest(s)")
    return 0
