"""Steps on one line before the decision: scanning a package (its line is ticked and its
received quantity set to the shipped one), correcting the received quantity with a note, and
the expiration date from the label (set on the whole batch at once)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item, Manifest, ManifestLine, User, utcnow
from backoffice.domain.enums import ManifestLineState, ManifestStatus
from backoffice.domain.numbers import parse_decimal, to_quantity
from backoffice.errors import RuleViolation, ValidationError
from backoffice.services import audit
from backoffice.services.actor import Actor, Permission
from backoffice.services.receiving.checks import LineAction, allows, known_about_one, not_scanned_words
from backoffice.services.receiving.lookup import (
    clean_note,
    clean_tag,
    item_key,
    line_row,
    local_time,
    manifest_row,
    match_items,
    open_manifest,
    plain_number,
)
from backoffice.services.receiving.reading import line_view, line_views
from backoffice.services.receiving.views import BadScan, LineChange, ScanProblem, ScanResult


def scan(db: Database, actor: Actor, manifest_id: int, raw_tag: str) -> ScanResult:
    """Tick the line of a scanned package and set its received quantity to the shipped one.
    A tag that ticks nothing raises BadScan; a ticked line that may not be accepted as it
    stands comes back with its problem and a message saying what to do."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        tag = clean_tag(session, raw_tag)
        found = session.execute(  # the line, its manifest's state and its item's SKU in one query
            select(ManifestLine, Manifest.status, Item.sku)
            .join(Manifest, Manifest.id == ManifestLine.manifest_id)
            .outerjoin(Item, Item.id == ManifestLine.item_id)
            .where(ManifestLine.manifest_id == manifest_id, ManifestLine.tag == tag)
            .with_for_update(of=ManifestLine)
        ).first()
        if found is None or found[1] is ManifestStatus.RECEIVED:
            manifest = manifest_row(session, manifest_id)
            if manifest.status is ManifestStatus.RECEIVED:
                raise BadScan(
                    f"manifest {manifest.manifest_number} was already received on "
                    f"{local_time(session, manifest.finished_at)}; open the delivery this package came with.",
                    problem=ScanProblem.MANIFEST_RECEIVED,
                    tag=tag,
                )
            raise _not_here(session, manifest, tag)
        line, _, sku = found
        if line.state is not ManifestLineState.PENDING:
            raise _again(session, line)
        if line.item_id is None:  # the item may have been created since the import
            line.item_id = match_items(session, [(line.item_name, line.category)]).get(
                item_key(line.item_name, line.category)
            )
        line.state, line.scanned_at, line.scanned_by_id = ManifestLineState.SCANNED, utcnow(), actor.user_id
        line.received_quantity = line.shipped_quantity
        session.flush()
        names = {actor.user_id: actor.username} if actor.user_id else {}
        view = line_view(line, known_about_one(session, line, sku), names)
        scanned, total = session.execute(
            select(func.count(ManifestLine.scanned_at), func.count(ManifestLine.id)).where(
                ManifestLine.manifest_id == manifest_id
            )
        ).one()
    message = view.problem_text or (
        f"{tag} ticked: {line.item_name}, {plain_number(line.shipped_quantity)} {line.unit.value} "
        f"({scanned}/{total} scanned)."
    )
    return ScanResult(view, scanned, total, message)


def _not_here(session: Session, manifest: Manifest, tag: str) -> BadScan:
    other = session.execute(
        select(Manifest.manifest_number, Manifest.shipper_name)
        .join(ManifestLine)
        .where(ManifestLine.tag == tag, Manifest.status == ManifestStatus.OPEN, Manifest.id != manifest.id)
        .limit(1)
    ).first()
    if other is not None:
        return BadScan(
            f"Tag {tag} is not on manifest {manifest.manifest_number}: it is on manifest {other[0]} from {other[1]}, "
            "which is also open. Keep it with that delivery and scan it there.",
            problem=ScanProblem.ON_OTHER_MANIFEST,
            tag=tag,
        )
    return BadScan(
        f"Tag {tag} is not on manifest {manifest.manifest_number}. Do not accept it: set the package aside and "
        f"call the shipper, {manifest.shipper_name} (license {manifest.shipper_license}).",
        problem=ScanProblem.NOT_ON_MANIFEST,
        tag=tag,
    )


def _again(session: Session, line: ManifestLine) -> BadScan:
    who = session.get(User, line.scanned_by_id) if line.scanned_by_id else None
    when = f" at {local_time(session, line.scanned_at)}" if line.scanned_at else ""
    by = f" by {who.username}" if who else ""
    state = "" if line.state is ManifestLineState.SCANNED else f" and {line.state.value}"
    return BadScan(
        f"Tag {line.tag} ({line.item_name}) was already scanned{when}{by}{state}. A package is scanned once: "
        "if a second package carries this tag, set it aside and call the shipper.",
        problem=ScanProblem.ALREADY_SCANNED,
        tag=line.tag,
    )


def set_received_quantity(
    db: Database, actor: Actor, manifest_id: int, tag: str, quantity: Decimal | str, note: str = ""
) -> LineChange:
    """What actually arrived in a scanned package; a difference from the shipped quantity needs a note."""
    actor.require(Permission.RECEIVE)
    received = to_quantity(parse_decimal(quantity, what="received quantity"), what="received quantity")
    note = clean_note(note)
    with db.transaction() as session:
        manifest = open_manifest(session, manifest_id)
        line = line_row(session, manifest, clean_tag(session, tag), lock=True)
        if not allows(line.state, LineAction.SET_QUANTITY):
            raise RuleViolation(not_scanned_words(line, LineAction.SET_QUANTITY))
        if received <= 0:
            raise ValidationError(
                f"received quantity must be more than 0; if nothing of {line.tag} arrived, "
                "reject it (reason “Not in the delivery”)"
            )
        if received != line.shipped_quantity and not note:
            raise ValidationError(
                f"{line.tag}: {plain_number(received)} {line.unit.value} received but "
                f"{plain_number(line.shipped_quantity)} shipped. Say why in a note (e.g. “scale shows 452.8 g”)."
            )
        before = {"received_quantity": line.received_quantity, "note": line.note}
        line.received_quantity, line.note = received, note or line.note
        audit.record(
            session,
            actor,
            "manifest.quantity",
            "package",
            line.tag,
            before=before,
            after={
                "received_quantity": received,
                "shipped_quantity": line.shipped_quantity,
                "manifest": manifest.manifest_number,
                "note": line.note,
            },
        )
        views = line_views(session, [line])
    return LineChange(views, f"{line.tag}: received {plain_number(received)} {line.unit.value}.")


def set_expiration(
    db: Database, actor: Actor, manifest_id: int, tag: str, expires: date | None, *, same_batch: bool = True
) -> LineChange:
    """The expiration date on a package's label, until the receiving is finished; also set on
    the manifest's other packages of the same item and production batch when ``same_batch``
    (one batch, one label). Rejected packages take no date: they are not received."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = open_manifest(session, manifest_id)
        line = line_row(session, manifest, clean_tag(session, tag), lock=True)
        if not allows(line.state, LineAction.SET_EXPIRATION):
            raise RuleViolation(f"{line.tag} is rejected: it is not received, so it needs no expiration date")
        lines = [line]
        if same_batch and line.production_batch:
            lines += session.scalars(
                select(ManifestLine)
                .where(
                    ManifestLine.manifest_id == manifest.id,
                    ManifestLine.id != line.id,
                    ManifestLine.production_batch == line.production_batch,
                    ManifestLine.item_name == line.item_name,
                    ManifestLine.state != ManifestLineState.REJECTED,
                )
                .order_by(ManifestLine.id)
            ).all()
        for each in lines:
            each.expiration_date = expires
        audit.record(
            session,
            actor,
            "manifest.expiration",
            "manifest",
            manifest.manifest_number,
            after={"tags": [each.tag for each in lines], "expiration_date": expires},
        )
        views = line_views(session, lines)
    shown = expires.isoformat() if expires else "no date"
    return LineChange(views, f"Expiration {shown} set on {len(lines)} package(s).")
