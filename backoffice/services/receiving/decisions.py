"""Deciding each line: accept scanned packages whole (all or none, or every scanned one that
may be accepted), reject a package with a reason and a note, and undo either before the
receiving is finished."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Manifest, ManifestLine, utcnow
from backoffice.domain.enums import ManifestLineState
from backoffice.domain.numbers import parse_decimal, to_quantity
from backoffice.errors import RuleViolation, ValidationError
from backoffice.services import audit
from backoffice.services.actor import Actor, Permission
from backoffice.services.receiving.checks import (
    RETAIL_ID_MISSING,
    LineAction,
    allows,
    decided_words,
    known_about,
    why_not_acceptable,
)
from backoffice.services.receiving.lookup import (
    clean_note,
    clean_tag,
    line_row,
    lines_by_tag,
    open_manifest,
    plain_number,
)
from backoffice.services.receiving.reading import line_views
from backoffice.services.receiving.unit_codes import accepted_without_codes, missing_unit_codes
from backoffice.services.receiving.views import REJECT_REASONS, AcceptResult, LineChange


def accept(
    db: Database, actor: Actor, manifest_id: int, tags: Sequence[str], *, without_unit_codes: bool = False
) -> AcceptResult:
    """Accept scanned packages whole, at their received quantity. All or none: a tag that may
    not be accepted (not scanned, failed lab, on hold, unknown item, …) refuses the lot, and so
    does one without Retail ID unit codes where the state requires them, unless the person
    confirmed it (``without_unit_codes``; see ``unit_codes``)."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = open_manifest(session, manifest_id)
        wanted = list(dict.fromkeys(clean_tag(session, t) for t in tags))
        lines = lines_by_tag(session, manifest, wanted)
        known = known_about(session, lines)
        refusals = [(line.tag, why) for line in lines if (why := why_not_acceptable(line, known))]
        if refusals:
            listed = "; ".join(why for _, why in refusals[:5])
            more = f"; and {len(refusals) - 5} more" if len(refusals) > 5 else ""
            raise RuleViolation(f"nothing was accepted: {listed}{more}")
        bare = accepted_without_codes(
            session, manifest, [line.tag for line in lines], confirmed=without_unit_codes, doing="Accepting"
        )
        decide_accept(session, actor, manifest, lines, without_codes=bare)
    return AcceptResult([line.tag for line in lines], [])


def accept_scanned(db: Database, actor: Actor, manifest_id: int, *, without_unit_codes: bool = False) -> AcceptResult:
    """Accept every scanned package that may be accepted; the others stay for a decision each
    (one without Retail ID unit codes where the state requires them, too, unless confirmed)."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = open_manifest(session, manifest_id)
        scanned = session.scalars(
            select(ManifestLine)
            .where(ManifestLine.manifest_id == manifest.id, ManifestLine.state == ManifestLineState.SCANNED)
            .order_by(ManifestLine.id)
            .with_for_update()
        ).all()
        known = known_about(session, scanned)
        left = [(line.tag, why) for line in scanned if (why := why_not_acceptable(line, known))]
        missing = missing_unit_codes(session, manifest)
        if not without_unit_codes:
            refused = {tag for tag, _ in left}
            left += [(line.tag, RETAIL_ID_MISSING) for line in scanned if line.tag in missing - refused]
        refused = {tag for tag, _ in left}
        chosen = [line for line in scanned if line.tag not in refused]
        if chosen:
            decide_accept(
                session, actor, manifest, chosen, without_codes=[line.tag for line in chosen if line.tag in missing]
            )
    return AcceptResult([line.tag for line in chosen], left)


def decide_accept(
    session: Session,
    actor: Actor,
    manifest: Manifest,
    lines: Sequence[ManifestLine],
    *,
    without_codes: Sequence[str] = (),
) -> None:
    """Mark ``lines`` accepted, with one audit event; ``without_codes`` names the packages the
    person accepted knowing METRC lists no Retail ID unit codes for them."""
    now = utcnow()
    for line in lines:
        line.state, line.decided_at, line.decided_by_id = ManifestLineState.ACCEPTED, now, actor.user_id
        line.reject_reason = None
        if line.received_quantity is None:
            line.received_quantity = line.shipped_quantity
    audit.record(
        session,
        actor,
        "manifest.accept",
        "manifest",
        manifest.manifest_number,
        after={
            "tags": [line.tag for line in lines],
            **({"without_unit_codes": list(without_codes)} if without_codes else {}),
        },
    )


def reject(
    db: Database,
    actor: Actor,
    manifest_id: int,
    tag: str,
    reason: str,
    note: str,
    *,
    received_quantity: Decimal | str | None = None,
) -> LineChange:
    """Refuse a package whole, scanned or not, with a reason from REJECT_REASONS and a note.
    ``received_quantity`` records what did arrive of a short-shipped package."""
    actor.require(Permission.RECEIVE)
    if reason not in REJECT_REASONS:
        raise ValidationError(f"choose a rejection reason from the list: {', '.join(REJECT_REASONS)}")
    note = clean_note(note)
    if not note:
        raise ValidationError("say in a note why the package is rejected (what you saw, who you told)")
    received = None
    if received_quantity not in (None, ""):
        received = to_quantity(parse_decimal(received_quantity, what="received quantity"), what="received quantity")
        if received < 0:
            raise ValidationError("received quantity cannot be negative")
    with db.transaction() as session:
        manifest = open_manifest(session, manifest_id)
        line = line_row(session, manifest, clean_tag(session, tag), lock=True)
        if not allows(line.state, LineAction.REJECT):
            raise RuleViolation(decided_words(line, LineAction.REJECT))
        if received is not None and received > line.shipped_quantity and reason == "Short-shipped":
            raise ValidationError(
                f"{line.tag}: {plain_number(received)} received is not short of "
                f"{plain_number(line.shipped_quantity)} shipped; choose another reason"
            )
        line.state, line.decided_at, line.decided_by_id = ManifestLineState.REJECTED, utcnow(), actor.user_id
        # what did arrive of a refused package, only when someone said so (a scan's default is not a count)
        line.reject_reason, line.note, line.received_quantity = reason, note, received
        audit.record(
            session,
            actor,
            "manifest.reject",
            "package",
            line.tag,
            reason=f"{reason}: {note}",
            after={"manifest": manifest.manifest_number, "received_quantity": line.received_quantity},
        )
        views = line_views(session, [line])
    return LineChange(views, f"{line.tag} rejected ({reason}).")


def undo_decision(db: Database, actor: Actor, manifest_id: int, tag: str) -> LineChange:
    """Take back an accept or reject before the receiving is finished."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        manifest = open_manifest(session, manifest_id)
        line = line_row(session, manifest, clean_tag(session, tag), lock=True)
        if not allows(line.state, LineAction.UNDO):
            raise RuleViolation(f"{line.tag} is {line.state.value}: there is no decision to undo")
        before = {"state": line.state.value, "reason": line.reject_reason, "note": line.note}
        scanned = line.scanned_at is not None
        line.state = ManifestLineState.SCANNED if scanned else ManifestLineState.PENDING
        line.decided_at = line.decided_by_id = line.reject_reason = None
        if line.state is ManifestLineState.PENDING:
            line.received_quantity = line.note = None
        elif line.received_quantity is None:
            line.received_quantity = line.shipped_quantity
        elif line.received_quantity == line.shipped_quantity:
            line.note = None
        audit.record(
            session,
            actor,
            "manifest.undo",
            "package",
            line.tag,
            before=before,
            after={"state": line.state.value, "manifest": manifest.manifest_number},
        )
        views = line_views(session, [line])
    return LineChange(views, f"{line.tag} is {line.state.value} again.")
