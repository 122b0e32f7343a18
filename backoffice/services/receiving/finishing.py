"""Finishing a receiving: where the packages go (the vault unless chosen; never the sales
floor), the bins they would take, and ONE transaction that creates the accepted packages with
their RECEIVE ledger rows, the audit event and the receive sheet (a METRC outbox entry a
person keys into METRC's web UI). ``accept_all`` does the same for deliveries checked on paper."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item, Location, Manifest, ManifestLine, Package, utcnow
from backoffice.domain.enums import (
    LedgerKind,
    LocationKind,
    ManifestLineState,
    ManifestStatus,
    OutboxKind,
    PackageStatus,
)
from backoffice.errors import NotFound, RuleViolation
from backoffice.services import audit, ledger, outbox, receiving_bins, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.locations import location_named
from backoffice.services.receiving.checks import known_about, problem, undecided_words
from backoffice.services.receiving.decisions import decide_accept
from backoffice.services.receiving.lookup import manifest_row, open_manifest, plain_number
from backoffice.services.receiving.reading import get_manifest
from backoffice.services.receiving.unit_codes import accepted_without_codes
from backoffice.services.receiving.views import DECIDED, FinishResult, ManifestView, ReceivedPackage


def receiving_location(session: Session, name: str | None) -> Location:
    """The named location, or the vault; never the sales floor (product reaches it by a transfer)."""
    if name:
        loc = location_named(session, name)
    else:
        vault = session.scalar(
            select(Location).where(Location.kind == LocationKind.VAULT, Location.active).order_by(Location.id).limit(1)
        )
        if vault is None:
            raise NotFound(
                "this store has no vault location; add one (backoffice locations add) or choose where to receive"
            )
        loc = vault
    if loc.kind is LocationKind.FLOOR:
        raise RuleViolation(
            f"{loc.name} is a sales floor: receive into the vault (or quarantine) and move product "
            "to the floor by a recorded transfer"
        )
    return loc


def suggest_bins(db: Database, actor: Actor, manifest_id: int, location: str | None = None) -> dict[str, str]:
    """Where each accepted package would go (tag → bin) if the receiving finished now."""
    actor.require(Permission.RECEIVE)
    with db.read() as session:
        manifest = manifest_row(session, manifest_id)
        loc = receiving_location(session, location)
        accepted = session.scalars(
            select(ManifestLine)
            .where(ManifestLine.manifest_id == manifest.id, ManifestLine.state == ManifestLineState.ACCEPTED)
            .order_by(ManifestLine.id)
        ).all()
        return _bins(session, loc, accepted)


def _bins(session: Session, loc: Location, lines: Sequence[ManifestLine]) -> dict[str, str]:
    if loc.kind is not LocationKind.VAULT or not lines:
        return {}
    categories = dict(
        session.execute(select(Item.id, Item.category).where(Item.id.in_({line.item_id for line in lines}))).all()
    )
    wanted = [
        receiving_bins.Incoming(line.tag, categories[line.item_id], line.item_id, line.expiration_date)
        for line in lines
        if line.item_id is not None
    ]
    return receiving_bins.suggest(session, loc.id, wanted)


def ready_to_finish(db: Database, actor: Actor, manifest_id: int) -> ManifestView:
    """The manifest as it stands, when it may be finished now (open, every line decided);
    otherwise the refusal ``finish`` would give. Front ends ask this before choosing where to."""
    view = get_manifest(db, actor, manifest_id)
    if not view.open:
        when = settings.store_calendar(db).stamp(view.finished_at) if view.finished_at else ""
        raise RuleViolation(f"manifest {view.manifest_number} was received on {when}; there is nothing left to finish")
    undecided = [line.tag for line in view.lines if line.state not in DECIDED]
    if undecided:
        raise RuleViolation(undecided_words(view.manifest_number, undecided, len(view.lines)))
    return view


def finish(
    db: Database, actor: Actor, manifest_id: int, *, location: str | None = None, without_unit_codes: bool = False
) -> FinishResult:
    """Receive the manifest: only when every line is accepted or rejected (see module doc), and,
    with an accepted package METRC lists no Retail ID unit codes for where the state requires
    them, only when the person confirmed it (``without_unit_codes``; see ``unit_codes``)."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = open_manifest(session, manifest_id, lock=True)
        accepted = [line.tag for line in manifest.lines if line.state is ManifestLineState.ACCEPTED]
        accepted_without_codes(session, manifest, accepted, confirmed=without_unit_codes, doing="Finishing")
        return _finish(session, actor, manifest, location)


def accept_all(
    db: Database,
    actor: Actor,
    manifest_id: int,
    *,
    location: str | None = None,
    note: str = "checked on paper",
    without_unit_codes: bool = False,
) -> FinishResult:
    """For stores that check deliveries on paper first: accept every undecided package at its
    shipped quantity and finish, in one transaction with the same ledger and audit rows."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = open_manifest(session, manifest_id, lock=True)
        undecided = [line for line in manifest.lines if line.state not in DECIDED]
        known = known_about(session, undecided)
        refusals = [(line.tag, found[1]) for line in undecided if (found := problem(line, known))]
        if refusals:
            listed = "\n  ".join(why for _, why in refusals[:10])
            more = f"\n  … and {len(refusals) - 10} more" if len(refusals) > 10 else ""
            raise RuleViolation(
                f"{len(refusals)} package(s) of manifest {manifest.manifest_number} may not be "
                f"accepted as they are; nothing was received:\n  {listed}{more}"
            )
        accepting = [line.tag for line in manifest.lines if line.state is ManifestLineState.ACCEPTED]
        accepting += [line.tag for line in undecided]
        bare = set(
            accepted_without_codes(session, manifest, accepting, confirmed=without_unit_codes, doing="Accepting all")
        )
        for line in undecided:
            line.received_quantity = line.received_quantity or line.shipped_quantity
            line.note = line.note or note
        if undecided:
            decide_accept(
                session, actor, manifest, undecided, without_codes=[ln.tag for ln in undecided if ln.tag in bare]
            )
        return _finish(session, actor, manifest, location)


def _finish(session: Session, actor: Actor, manifest: Manifest, location_name: str | None) -> FinishResult:
    lines = list(manifest.lines)
    undecided = [line.tag for line in lines if line.state not in DECIDED]
    if undecided:
        raise RuleViolation(undecided_words(manifest.manifest_number, undecided, len(lines)))
    loc = receiving_location(session, location_name)
    accepted = [line for line in lines if line.state is ManifestLineState.ACCEPTED]
    known = known_about(session, accepted)
    blocked = [(line.tag, found[1]) for line in accepted if (found := problem(line, known))]
    if blocked:  # e.g. another workstation received the tag since it was accepted here
        raise RuleViolation("nothing was received: " + "; ".join(why for _, why in blocked[:5]))
    bins = _bins(session, loc, accepted)
    now = utcnow()
    packages = [
        Package(
            tag=line.tag,
            item_id=line.item_id,
            quantity=Decimal(0),
            unit=line.unit,
            location_id=loc.id,
            bin=bins.get(line.tag),
            status=PackageStatus.ACTIVE,
            expiration_date=line.expiration_date,
            lab_state=line.lab_state,
            received_at=now,
            received_from_manifest=manifest.manifest_number,
        )
        for line in accepted
    ]
    session.add_all(packages)
    session.flush()
    doc = ledger.Doc("manifest", manifest.id)
    for line, pkg in zip(accepted, packages, strict=True):
        entry = ledger.post(
            session,
            actor,
            pkg,
            LedgerKind.RECEIVE,
            line.received_quantity or line.shipped_quantity,
            doc,
            to_location=loc,
            at=now,
            note=line.note,
        )
        entry.from_location_id = None  # it came from outside the store
        line.package_id, line.suggested_bin = pkg.id, pkg.bin
    sheet = [_sheet_row(manifest, line, loc) for line in lines]
    queued = outbox.enqueue(
        session, actor, OutboxKind.RECEIVE_CONFIRM, sheet, doc, f"manifest:{manifest.manifest_number}:receive"
    )
    manifest.status, manifest.finished_at, manifest.finished_by_id = ManifestStatus.RECEIVED, now, actor.user_id
    manifest.receiving_location_id = loc.id
    rejected = [line for line in lines if line.state is ManifestLineState.REJECTED]
    audit.record(
        session,
        actor,
        "manifest.receive",
        "manifest",
        manifest.manifest_number,
        before={"status": "open"},
        after={
            "status": "received",
            "location": loc.name,
            "accepted": [line.tag for line in accepted],
            "rejected": {line.tag: line.reject_reason for line in rejected},
            "outbox": queued.id,
        },
    )
    received = [
        ReceivedPackage(line.tag, line.item_name, pkg.quantity, pkg.unit, pkg.bin)
        for line, pkg in zip(accepted, packages, strict=True)
    ]
    return FinishResult(manifest.id, manifest.manifest_number, loc.name, received, len(rejected), queued.id)


def _sheet_row(manifest: Manifest, line: ManifestLine, loc: Location) -> dict[str, object]:
    """One package of the receive sheet: what to key into METRC's receive screen."""
    accepted = line.state is ManifestLineState.ACCEPTED
    return {
        "ManifestNumber": manifest.manifest_number,
        "Label": line.tag,
        "Decision": "Accept" if accepted else "Reject",
        "ShippedQuantity": Decimal(plain_number(line.shipped_quantity)),
        "ReceivedQuantity": None if line.received_quantity is None else Decimal(plain_number(line.received_quantity)),
        "UnitOfMeasure": line.unit.value,
        "RejectionReason": None if accepted else line.reject_reason,
        "Note": line.note,
        "Location": loc.metrc_name if accepted else None,
    }
