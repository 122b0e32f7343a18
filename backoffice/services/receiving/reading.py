"""Reading a receiving: one manifest with every line and what stands in the way of accepting
each, and the list of manifests with how far each receiving got."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Location, Manifest, ManifestLine
from backoffice.domain.enums import ManifestLineState, ManifestStatus
from backoffice.services.actor import Actor, Permission
from backoffice.services.receiving.checks import Known, known_about, problem
from backoffice.services.receiving.lookup import manifest_row, usernames
from backoffice.services.receiving.unit_codes import missing_unit_codes
from backoffice.services.receiving.views import DECIDED, LineView, ManifestSummary, ManifestView


def line_view(line: ManifestLine, known: Known, names: dict[int, str]) -> LineView:
    found = problem(line, known) if line.state is not ManifestLineState.REJECTED else None
    return LineView(
        id=line.id,
        tag=line.tag,
        item_name=line.item_name,
        category=line.category,
        strain=line.strain,
        shipped_quantity=line.shipped_quantity,
        unit=line.unit,
        wholesale_price=line.wholesale_price,
        lab_state=line.lab_state,
        production_batch=line.production_batch,
        expiration_date=line.expiration_date,
        state=line.state,
        received_quantity=line.received_quantity,
        item_id=line.item_id,
        item_sku=known.skus.get(line.item_id) if line.item_id is not None else None,
        scanned_at=line.scanned_at,
        scanned_by=names.get(line.scanned_by_id) if line.scanned_by_id else None,
        decided_at=line.decided_at,
        decided_by=names.get(line.decided_by_id) if line.decided_by_id else None,
        reject_reason=line.reject_reason,
        note=line.note,
        bin=line.suggested_bin,
        problem=found[0] if found else None,
        problem_text=found[1] if found else None,
    )


def line_views(session: Session, lines: Sequence[ManifestLine]) -> list[LineView]:
    known, names = known_about(session, lines), usernames(session)
    return [line_view(line, known, names) for line in lines]


def get_manifest(db: Database, actor: Actor, manifest_id: int) -> ManifestView:
    """A manifest with every line, its state and what stands in the way of accepting it."""
    actor.require(Permission.RECEIVE)
    with db.read() as session:
        manifest = manifest_row(session, manifest_id)
        lines = session.scalars(
            select(ManifestLine).where(ManifestLine.manifest_id == manifest.id).order_by(ManifestLine.id)
        ).all()
        names = usernames(session)
        known = known_about(session, lines)
        location = session.get(Location, manifest.receiving_location_id) if manifest.receiving_location_id else None
        return ManifestView(
            id=manifest.id,
            manifest_number=manifest.manifest_number,
            shipper_name=manifest.shipper_name,
            shipper_license=manifest.shipper_license,
            transporter_license=manifest.transporter_license,
            driver_name=manifest.driver_name,
            vehicle=manifest.vehicle,
            estimated_arrival=manifest.estimated_arrival,
            status=manifest.status,
            imported_at=manifest.created_at,
            imported_by=names.get(manifest.imported_by_id) if manifest.imported_by_id else None,
            finished_at=manifest.finished_at,
            finished_by=names.get(manifest.finished_by_id) if manifest.finished_by_id else None,
            receiving_location=location.name if location else None,
            lines=[line_view(line, known, names) for line in lines],
            unit_codes_missing=missing_unit_codes(session, manifest),
        )


def list_manifests(db: Database, actor: Actor, *, open_only: bool = False, limit: int = 200) -> list[ManifestSummary]:
    """Newest first, with how far each receiving got (for reopening one in progress)."""
    actor.require(Permission.RECEIVE)
    scanned = func.count(ManifestLine.scanned_at)
    decided = func.sum(case((ManifestLine.state.in_([state.value for state in DECIDED]), 1), else_=0))
    query = (
        select(Manifest, func.count(ManifestLine.id), scanned, decided)
        .outerjoin(ManifestLine, ManifestLine.manifest_id == Manifest.id)
        .group_by(Manifest.id)
        .order_by(Manifest.id.desc())
        .limit(limit)
    )
    if open_only:
        query = query.where(Manifest.status == ManifestStatus.OPEN)
    with db.read() as session:
        return [
            ManifestSummary(
                m.id,
                m.manifest_number,
                m.shipper_name,
                m.estimated_arrival,
                m.status,
                m.created_at,
                total,
                seen,
                int(done or 0),
            )
            for m, total, seen, done in session.execute(query)
        ]
