"""Importing a manifest: a METRC JSON or CSV file (or one fetched from METRC, see
``receiving_metrc``) stored with its lines matched to the store's items; the same manifest
imported twice is recognised, never doubled."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Manifest, ManifestLine
from backoffice.domain.enums import ManifestLineState, ManifestStatus
from backoffice.errors import RuleViolation
from backoffice.importers.manifest_file import ParsedManifest, parse_manifest_file
from backoffice.services import audit, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.receiving.lookup import item_key, local_time, match_items
from backoffice.services.receiving.views import ImportResult


def import_file(db: Database, actor: Actor, path: Path | str) -> ImportResult:
    """Read a manifest JSON or CSV (every problem reported, nothing written on one) and import it."""
    actor.require(Permission.RECEIVE)
    with db.read() as session:
        tz, strict = settings.get(session, settings.TIMEZONE), settings.get(session, settings.STRICT_TAGS)
    return import_manifest(db, actor, parse_manifest_file(path, store_tz=tz, strict_tags=strict))


def import_manifest(db: Database, actor: Actor, parsed: ParsedManifest) -> ImportResult:
    """Store a parsed manifest with its lines matched to the store's items. A manifest
    already imported is recognised and returned as it is, never doubled."""
    actor.require(Permission.RECEIVE)
    with db.transaction() as session:
        license_number = settings.get(session, settings.LICENSE_NUMBER)
        if parsed.recipient_license and parsed.recipient_license != license_number:
            raise RuleViolation(
                f"manifest {parsed.manifest_number} is addressed to {parsed.recipient_name or 'another store'} "
                f"(license {parsed.recipient_license}), not to this store (license {license_number}). "
                "Do not unload it; call the shipper."
            )
        existing = session.scalar(select(Manifest).where(Manifest.manifest_number == parsed.manifest_number))
        if existing is not None:
            return _already_imported(session, existing, parsed)
        manifest = Manifest(
            manifest_number=parsed.manifest_number,
            metrc_transfer_id=parsed.transfer_id,
            delivery_id=parsed.delivery_id,
            shipper_name=parsed.shipper_name,
            shipper_license=parsed.shipper_license,
            transporter_license=parsed.transporter_license,
            driver_name=parsed.driver_name,
            vehicle=parsed.vehicle,
            estimated_arrival=parsed.estimated_arrival,
            status=ManifestStatus.OPEN,
            source_sha256=parsed.source_sha256,
            imported_by_id=actor.user_id,
        )
        session.add(manifest)
        session.flush()
        items = match_items(session, ((p.item_name, p.category) for p in parsed.lines))
        rows = [
            {
                "manifest_id": manifest.id,
                "tag": p.tag,
                "item_name": p.item_name,
                "category": p.category,
                "strain": p.strain,
                "shipped_quantity": p.shipped_quantity,
                "unit": p.unit,
                "wholesale_price": p.wholesale_price,
                "lab_state": p.lab_state,
                "production_batch": p.production_batch,
                "item_id": items.get(item_key(p.item_name, p.category)),
                "state": ManifestLineState.PENDING,
            }
            for p in parsed.lines
        ]
        session.execute(insert(ManifestLine), rows)
        unknown = sum(1 for row in rows if row["item_id"] is None)
        audit.record(
            session,
            actor,
            "manifest.import",
            "manifest",
            parsed.manifest_number,
            after={
                "shipper": parsed.shipper_name,
                "shipper_license": parsed.shipper_license,
                "packages": len(rows),
                "unknown_items": unknown,
                "sha256": parsed.source_sha256,
            },
        )
        return ImportResult(
            manifest.id, manifest.manifest_number, len(rows), manifest.shipper_name, False, manifest.status, unknown
        )


def _already_imported(session: Session, manifest: Manifest, parsed: ParsedManifest) -> ImportResult:
    ours = dict(
        session.execute(
            select(ManifestLine.tag, ManifestLine.item_id).where(ManifestLine.manifest_id == manifest.id)
        ).all()
    )
    theirs = {p.tag for p in parsed.lines}
    if set(ours) != theirs:
        added, missing = len(theirs - set(ours)), len(set(ours) - theirs)
        raise RuleViolation(
            f"manifest {manifest.manifest_number} was imported on {local_time(session, manifest.created_at)} "
            f"with other packages: this file has {added} tag(s) the earlier import lacks and lacks {missing} it has. "
            "A METRC manifest does not change once it leaves the shipper: check that this is the right file."
        )
    return ImportResult(
        manifest.id,
        manifest.manifest_number,
        len(ours),
        manifest.shipper_name,
        True,
        manifest.status,
        sum(1 for item_id in ours.values() if item_id is None),
        changes=Changes.NONE,
    )
