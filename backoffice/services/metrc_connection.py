"""Open the METRC connector from the store's settings and the OS key store, adapt it to the
outbox sender, and the whole "connect, then …" steps the front ends call (send the outbox
now, fetch the active packages, fetch the adjustment reasons), so no GUI tab or CLI command
assembles them itself."""

from __future__ import annotations

from typing import Any

from backoffice.db.engine import Database
from backoffice.domain.enums import OutboxKind
from backoffice.errors import UserError
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.keys import MetrcKeyStore
from backoffice.services import metrc_sync, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.metrc_sync import AppliedCheck, Sender, SyncResult


def connect(db: Database, username: str, *, keys: MetrcKeyStore | None = None, timeout: float = 20.0) -> MetrcClient:
    """A client for ``username``'s METRC key (several states require per-user keys)."""
    base_url = settings.read(db, settings.METRC_BASE_URL)
    if not base_url:
        raise UserError("No METRC API address is set, so this store works in manual mode: export the pending "
                        "changes as METRC upload CSV files instead (or set the address in Settings).")
    license_number = settings.read(db, settings.LICENSE_NUMBER)
    return MetrcClient.for_user(base_url, license_number, username, keys or MetrcKeyStore(), timeout=timeout)


def send_now(db: Database, actor: Actor, *, keys: MetrcKeyStore | None = None) -> SyncResult:
    """Send the waiting outbox entries with ``actor``'s METRC key, in order (the outbox's rules)."""
    actor.require(Permission.VIEW_INVENTORY)  # delivers what was already recorded; changes nothing locally
    with connect(db, actor.username, keys=keys) as client:
        return metrc_sync.sync(db, sender_for(client), already_applied=applied_check_for(client))


def fetch_active_packages(db: Database, actor: Actor, *, keys: MetrcKeyStore | None = None) -> list[dict[str, Any]]:
    """METRC's active packages of this store's license, as METRC answers them."""
    actor.require(Permission.VIEW_INVENTORY)
    with connect(db, actor.username, keys=keys) as client:
        return client.active_packages()


def fetch_adjustment_reasons(db: Database, actor: Actor, *,
                             keys: MetrcKeyStore | None = None) -> list[dict[str, Any]]:
    """The state's adjustment reasons ``[{"Name", "RequiresNote", …}]`` from METRC."""
    actor.require(Permission.VIEW_INVENTORY)
    with connect(db, actor.username, keys=keys) as client:
        return client.adjustment_reasons()


def sender_for(client: MetrcClient) -> Sender:
    calls = {
        OutboxKind.CHANGE_LOCATION: client.change_locations,
        OutboxKind.ADJUST: client.adjust_packages,
        OutboxKind.SALES_RECEIPT: client.record_receipts,
    }

    def send(kind: OutboxKind, payload: list[dict[str, Any]]) -> None:
        calls[kind](payload)

    return send


def applied_check_for(client: MetrcClient) -> AppliedCheck:
    """A location change took effect when METRC shows every package in its new room; other
    calls cannot be checked this way and count as not applied (the sender holds those)."""

    def check(kind: OutboxKind, payload: list[dict[str, Any]]) -> bool:
        if kind is not OutboxKind.CHANGE_LOCATION:
            return False
        return all(client.package(e["Label"]).get("LocationName") == e["Location"] for e in payload)

    return check
