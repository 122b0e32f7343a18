"""Open the METRC connector from the store's settings and the OS key store, adapt it to the
outbox sender, and the whole "connect, then …" steps the front ends call (send the outbox
now, fetch the active packages, fetch the adjustment reasons), so no GUI tab or CLI command
assembles them itself."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import OutboxEntry
from backoffice.domain.enums import OutboxKind
from backoffice.errors import UserError
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.keys import MetrcKeyStore
from backoffice.services import metrc_sync, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.metrc_sync import AppliedCheck, Attempt, Sender, SyncResult


def connect(db: Database, username: str, *, keys: MetrcKeyStore | None = None, timeout: float = 20.0) -> MetrcClient:
    """A client for ``username``'s METRC key (several states require per-user keys)."""
    base_url = settings.read(db, settings.METRC_BASE_URL)
    if not base_url:
        raise UserError(
            "No METRC API address is set, so this store works in manual mode: export the pending "
            "changes as METRC upload CSV files instead (or set the address in Settings)."
        )
    with db.read() as session:
        license_number = settings.get(session, settings.LICENSE_NUMBER)
        api = settings.get(session, settings.METRC_API_VERSION)
        window = timedelta(hours=settings.get(session, settings.METRC_WINDOW_HOURS))
        in_flight = settings.get(session, settings.METRC_MAX_IN_FLIGHT)
    return MetrcClient.for_user(
        base_url,
        license_number,
        username,
        keys or MetrcKeyStore(),
        timeout=timeout,
        api=api,
        window=window,
        max_in_flight=in_flight,
    )


def send_now(db: Database, actor: Actor, *, keys: MetrcKeyStore | None = None) -> SyncResult:
    """Send the waiting outbox entries with ``actor``'s METRC key, in order (the outbox's rules)."""
    actor.require(Permission.VIEW_INVENTORY)  # delivers what was already recorded; changes nothing locally
    with connect(db, actor.username, keys=keys) as client:
        return metrc_sync.sync(
            db, sender_for(client), already_applied=applied_check_for(client, db), chunk_size=client.max_batch
        )


def fetch_active_packages(db: Database, actor: Actor, *, keys: MetrcKeyStore | None = None) -> list[dict[str, Any]]:
    """METRC's active packages of this store's license, as METRC answers them."""
    actor.require(Permission.VIEW_INVENTORY)
    with connect(db, actor.username, keys=keys) as client:
        return client.active_packages()


def fetch_adjustment_reasons(db: Database, actor: Actor, *, keys: MetrcKeyStore | None = None) -> list[dict[str, Any]]:
    """The state's adjustment reasons ``[{"Name", "RequiresNote", …}]`` from METRC."""
    actor.require(Permission.VIEW_INVENTORY)
    with connect(db, actor.username, keys=keys) as client:
        return client.adjustment_reasons()


def fetch_available_tags(db: Database, actor: Actor, *, keys: MetrcKeyStore | None = None) -> list[dict[str, Any]]:
    """The facility's unused package tags ``[{"Id", "Label", …}]`` from METRC."""
    actor.require(Permission.VIEW_INVENTORY)
    with connect(db, actor.username, keys=keys) as client:
        return client.available_package_tags()


def sender_for(client: MetrcClient) -> Sender:
    calls: dict[OutboxKind, Callable[[list[dict[str, Any]]], None]] = {
        OutboxKind.CHANGE_LOCATION: client.change_locations,
        OutboxKind.ADJUST: client.adjust_packages,
        OutboxKind.SALES_RECEIPT: client.record_receipts,
    }

    def send(kind: OutboxKind, payload: list[dict[str, Any]]) -> None:
        calls[kind](payload)

    return send


# METRC stamps changes to the second, on its own clock: both sides of the adjustment count
# look this much further back, so an adjustment never falls between the two clocks.
CLOCK_MARGIN = timedelta(minutes=10)


class _AppliedCheck:
    """Whether METRC already took a call whose answer was lost: a location change when every
    package is in its new room; on v2 a sales receipt when METRC holds its external number, and
    an adjustment when METRC's history since the entry was queued holds more identical
    adjustments than the store delivered in that time (a legitimate twin is not mistaken)."""

    def __init__(self, client: MetrcClient, db: Database | None) -> None:
        self.client, self.db = client, db
        kinds = {OutboxKind.CHANGE_LOCATION}
        if client.api.name == "v2":
            kinds.add(OutboxKind.SALES_RECEIPT)
            if db is not None:
                kinds.add(OutboxKind.ADJUST)
        self.kinds = frozenset(kinds)

    def __call__(self, attempt: Attempt) -> bool:
        if attempt.kind is OutboxKind.CHANGE_LOCATION:
            return all(self.client.package(e["Label"]).get("LocationName") == e["Location"] for e in attempt.chunk)
        if attempt.kind is OutboxKind.SALES_RECEIPT:
            return all(
                self.client.receipt_by_external_number(str(e["ExternalReceiptNumber"])) is not None
                for e in attempt.chunk
            )
        return self._adjustments_applied(attempt)

    def _adjustments_applied(self, attempt: Attempt) -> bool:
        in_metrc = Counter(
            _adjustment_key(
                h.get("PackageLabel") or h.get("Label"),
                h.get("AdjustmentQuantity", h.get("Quantity")),
                h.get("AdjustmentReason"),
                h.get("AdjustmentDate"),
            )
            for h in self.client.adjustments(attempt.created_at - CLOCK_MARGIN)
        )
        delivered = Counter(_element_key(e) for e in attempt.delivered + self._delivered_since(attempt))
        wanted = Counter(_element_key(e) for e in attempt.chunk)
        return all(in_metrc[key] - delivered[key] >= count for key, count in wanted.items())

    def _delivered_since(self, attempt: Attempt) -> list[dict[str, Any]]:
        assert self.db is not None
        with self.db.read() as session:
            payloads = session.scalars(
                select(OutboxEntry.payload).where(
                    OutboxEntry.kind == OutboxKind.ADJUST.value,
                    OutboxEntry.id != attempt.entry_id,
                    OutboxEntry.sent_at >= attempt.created_at - CLOCK_MARGIN,
                )
            ).all()
        return [e for text in payloads for e in json.loads(text)]


def _element_key(element: dict[str, Any]) -> tuple[str, str, str, str]:
    return _adjustment_key(
        element.get("Label"), element.get("Quantity"), element.get("AdjustmentReason"), element.get("AdjustmentDate")
    )


def _adjustment_key(label: Any, quantity: Any, reason: Any, when: Any) -> tuple[str, str, str, str]:
    try:
        amount = format(Decimal(str(quantity)).normalize(), "f")
    except ArithmeticError:
        amount = str(quantity)
    return str(label), amount, str(reason), str(when)[:10]


def applied_check_for(client: MetrcClient, db: Database | None = None) -> AppliedCheck:
    """The re-send check for ``client``'s API version (the adjustment check needs ``db``)."""
    return _AppliedCheck(client, db)
