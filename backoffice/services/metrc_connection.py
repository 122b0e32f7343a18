"""Open the METRC connector from the store's settings and the OS key store, and adapt it
to the outbox sender."""

from __future__ import annotations

from typing import Any

from backoffice.db.engine import Database
from backoffice.domain.enums import OutboxKind
from backoffice.errors import UserError
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.keys import MetrcKeyStore
from backoffice.services import settings
from backoffice.services.metrc_sync import AppliedCheck, Sender


def connect(db: Database, username: str, *, keys: MetrcKeyStore | None = None, timeout: float = 20.0) -> MetrcClient:
    """A client for ``username``'s METRC key (several states require per-user keys)."""
    base_url = settings.read(db, settings.METRC_BASE_URL)
    if not base_url:
        raise UserError("No METRC API address is set, so this store works in manual mode: export the pending "
                        "changes as METRC upload CSV files instead (or set the address in Settings).")
    license_number = settings.read(db, settings.LICENSE_NUMBER)
    return MetrcClient.for_user(base_url, license_number, username, keys or MetrcKeyStore(), timeout=timeout)


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
