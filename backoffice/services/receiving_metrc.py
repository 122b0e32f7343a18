"""Receiving with METRC: fetch an incoming manifest through the connector, and confirm
afterwards that METRC agrees with what was received here.

METRC's API lists incoming transfers and their packages, but acceptance is keyed into its
web UI. Once that is done, the accepted packages appear in METRC's active packages with
``ReceivedFromManifestNumber`` and the received quantity, and the rejected ones do not.
``check_metrc`` compares that list with the receiving and, when they agree, closes the
manifest's RECEIVE_CONFIRM outbox entry (which holds the METRC queue until then, so no later
change to these packages reaches METRC before METRC has them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import Manifest, ManifestLine, OutboxEntry, utcnow
from backoffice.domain.enums import ManifestLineState, ManifestStatus, OutboxKind, OutboxStatus
from backoffice.errors import NotFound, RuleViolation
from backoffice.importers.manifest_file import parse_manifest_json
from backoffice.importers.metrc_packages import MetrcPackageRecord, parse_records
from backoffice.services import audit, receiving, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes


class IncomingSource(Protocol):
    """The part of the METRC client this module needs (``backoffice.metrc.client.MetrcClient``)."""

    def incoming_transfers(self) -> list[dict[str, Any]]: ...

    def delivery_packages(self, delivery_id: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class IncomingManifest:
    manifest_number: str
    shipper_name: str
    estimated_arrival: str | None
    packages: int | None
    imported: bool


def incoming(db: Database, actor: Actor, client: IncomingSource) -> list[IncomingManifest]:
    """METRC's incoming transfers for this store, marked when already imported here."""
    actor.require(Permission.RECEIVE)
    transfers = client.incoming_transfers()
    with db.read() as session:
        imported = set(session.scalars(select(Manifest.manifest_number)))
    return [
        IncomingManifest(
            str(t.get("ManifestNumber") or ""),
            str(t.get("ShipperFacilityName") or ""),
            t.get("EstimatedArrivalDateTime"),
            t.get("DeliveryPackageCount"),
            str(t.get("ManifestNumber") or "") in imported,
        )
        for t in transfers
        if isinstance(t, dict)
    ]


def import_from_metrc(
    db: Database, actor: Actor, client: IncomingSource, manifest_number: str
) -> receiving.ImportResult:
    """Fetch manifest ``manifest_number`` with its delivery's packages and import it."""
    actor.require(Permission.RECEIVE)
    wanted = manifest_number.strip().zfill(10) if manifest_number.strip().isdigit() else manifest_number.strip()
    transfer = next(
        (
            t
            for t in client.incoming_transfers()
            if isinstance(t, dict) and str(t.get("ManifestNumber") or "") == wanted
        ),
        None,
    )
    if transfer is None:
        raise NotFound(
            f"METRC lists no incoming manifest {wanted} for this store; check the number, or import "
            "the manifest file the shipper sent"
        )
    if not isinstance(transfer.get("DeliveryId"), int):
        raise RuleViolation(
            f"METRC's manifest {wanted} has no delivery id, so its packages cannot be fetched; "
            "export the manifest from METRC's web UI and import the file"
        )
    packages = client.delivery_packages(transfer["DeliveryId"])
    with db.read() as session:
        tz, strict = settings.get(session, settings.TIMEZONE), settings.get(session, settings.STRICT_TAGS)
    parsed = parse_manifest_json(
        {**transfer, "Packages": packages}, f"METRC manifest {wanted}", store_tz=tz, strict_tags=strict
    )
    return receiving.import_manifest(db, actor, parsed)


@dataclass(frozen=True)
class MetrcCheck:
    manifest_number: str
    checked_at: datetime
    accepted: int
    rejected: int
    problems: list[str] = field(default_factory=list)
    unreadable: int = 0  # records of METRC's list that could not be read (none of them are ours)
    outbox_closed: int | None = None
    changes: Changes = Changes.NONE

    @property
    def agrees(self) -> bool:
        return not self.problems


def check_metrc(db: Database, actor: Actor, manifest_id: int, active_packages: Sequence[Any]) -> MetrcCheck:
    """Compare METRC's active packages (the connector's ``active_packages()`` or the JSON
    file) with a finished receiving: every accepted package active in METRC from this manifest
    with the received quantity, no rejected one. When all agree the receive sheet's outbox
    entry is closed; either way the check is in the audit trail."""
    actor.require(Permission.RECEIVE)
    records, unreadable = parse_records(list(active_packages), "METRC active packages")
    by_tag = {r.tag: r for r in records}
    now = utcnow()
    with db.transaction() as session:
        manifest = session.get(Manifest, manifest_id)
        if manifest is None:
            raise NotFound(f"there is no manifest #{manifest_id}")
        if manifest.status is not ManifestStatus.RECEIVED:
            raise RuleViolation(
                f"manifest {manifest.manifest_number} is not received yet; finish the receiving, "
                "key the receive sheet into METRC, then check"
            )
        lines = session.scalars(
            select(ManifestLine).where(ManifestLine.manifest_id == manifest.id).order_by(ManifestLine.id)
        ).all()
        problems = [p for line in lines if (p := _disagreement(manifest.manifest_number, line, by_tag.get(line.tag)))]
        accepted = sum(1 for line in lines if line.state is ManifestLineState.ACCEPTED)
        closed = None
        if not problems:
            closed = _close_receive_sheet(session, actor, manifest, accepted)
        audit.record(
            session,
            actor,
            "manifest.metrc_check",
            "manifest",
            manifest.manifest_number,
            after={"agrees": not problems, "problems": problems[:20], "outbox_closed": closed},
        )
        return MetrcCheck(
            manifest.manifest_number,
            now,
            accepted,
            len(lines) - accepted,
            problems,
            len({p.line for p in unreadable}),
            closed,
            Changes.OUTBOX | Changes.AUDIT if closed else Changes.AUDIT,
        )


def _disagreement(number: str, line: ManifestLine, record: MetrcPackageRecord | None) -> str | None:
    from_here = record is not None and record.manifest_number == number
    if line.state is ManifestLineState.REJECTED:
        if from_here:
            return (
                f"{line.tag} was rejected here ({line.reject_reason}) but METRC shows it accepted from manifest "
                f"{number}: correct it in METRC's web UI"
            )
        return None
    if record is None:
        return f"{line.tag} is not among METRC's active packages: accept it in METRC's web UI (receive sheet)"
    if not from_here:
        return (
            f"{line.tag} is active in METRC but received from manifest {record.manifest_number or 'none'}, not {number}"
        )
    received = line.received_quantity or line.shipped_quantity
    if record.unit is not line.unit:
        return (
            f"{line.tag}: METRC has {record.quantity.normalize():f} {record.unit.value}, received here "
            f"{received.normalize():f} {line.unit.value}; METRC keeps the unit a package was received in"
        )
    if record.quantity != received:
        return (
            f"{line.tag}: METRC has {record.quantity.normalize():f} {record.unit.value}, received here "
            f"{received.normalize():f} {line.unit.value}; key the received quantity into METRC"
        )
    return None


def _close_receive_sheet(session: Any, actor: Actor, manifest: Manifest, accepted: int) -> int | None:
    entry = session.scalar(
        select(OutboxEntry)
        .where(
            OutboxEntry.kind == OutboxKind.RECEIVE_CONFIRM,
            OutboxEntry.doc_type == "manifest",
            OutboxEntry.doc_id == manifest.id,
            OutboxEntry.status.in_([OutboxStatus.PENDING.value, OutboxStatus.FAILED.value]),
        )
        .with_for_update()
    )
    if entry is None:
        return None
    entry.status, entry.resolved_by_id = OutboxStatus.RESOLVED, actor.user_id
    entry.resolution_note = (
        f"METRC shows the {accepted} accepted package(s) of manifest {manifest.manifest_number} "
        "active with the received quantities"
    )
    audit.record(
        session,
        actor,
        "outbox.resolve",
        "outbox",
        entry.id,
        before={"status": "pending"},
        after={"status": "resolved"},
        reason=entry.resolution_note,
    )
    return entry.id
