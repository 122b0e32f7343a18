"""The outbox sender's rules with a scripted METRC: order, exactly once, backoff, failures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import OutboxEntry, utcnow
from backoffice.domain.enums import OutboxKind, OutboxStatus
from backoffice.errors import PermissionDenied, ValidationError
from backoffice.metrc.errors import MetrcRejected, MetrcUnavailable, RowProblem
from backoffice.services import audit, metrc_sync, outbox
from backoffice.services.actor import SYSTEM, Actor
from backoffice.services.changes import Changes
from backoffice.services.ledger import Doc


class ScriptedMetrc:
    """Records what it receives; raises the scripted errors first."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.received: list[tuple[OutboxKind, list[dict[str, Any]]]] = []

    def __call__(self, kind: OutboxKind, payload: list[dict[str, Any]]) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.received.append((kind, payload))


def _enqueue(db: Database, n: int, kind: OutboxKind = OutboxKind.CHANGE_LOCATION) -> None:
    with db.transaction() as session:
        for i in range(n):
            outbox.enqueue(
                session,
                SYSTEM,
                kind,
                [{"Label": f"TAG{i}", "Location": "Sales Floor"}],
                Doc("test", i),
                f"test:{kind.value}:{i}",
            )


def test_sends_in_order_exactly_once(db: Database) -> None:
    _enqueue(db, 5)
    metrc = ScriptedMetrc()
    assert metrc_sync.sync(db, metrc).sent == 5
    assert [p[0]["Label"] for _, p in metrc.received] == [f"TAG{i}" for i in range(5)]
    assert metrc_sync.sync(db, metrc).sent == 0  # nothing twice
    assert {r.status for r in metrc_sync.list_entries(db, SYSTEM)} == {OutboxStatus.SENT}
    assert audit.verify(db, SYSTEM).ok


def test_enqueue_is_idempotent_by_key(db: Database) -> None:
    _enqueue(db, 3)
    _enqueue(db, 3)
    assert len(metrc_sync.list_entries(db, SYSTEM)) == 3


def test_outage_retries_later_with_backoff_and_keeps_order(db: Database) -> None:
    _enqueue(db, 3)
    metrc = ScriptedMetrc(MetrcUnavailable("METRC answered 503"))
    first = metrc_sync.sync(db, metrc)
    assert (first.sent, first.waiting) == (0, 1) and "503" in first.reason
    again = metrc_sync.sync(db, metrc)  # still inside the backoff window: nothing is sent out of order
    assert again.sent == 0 and metrc.received == []
    later = lambda: utcnow() + timedelta(minutes=5)  # noqa: E731
    assert metrc_sync.sync(db, metrc, now=later).sent == 3
    assert [p[0]["Label"] for _, p in metrc.received] == ["TAG0", "TAG1", "TAG2"]


def test_rejection_fails_the_entry_with_metrc_text_and_stops_the_queue(db: Database, actors: dict[str, Actor]) -> None:
    _enqueue(db, 2)
    rejected = MetrcRejected("the location change", [RowProblem(0, "Package TAG0 was not found", {"Label": "TAG0"})], 1)
    metrc = ScriptedMetrc(rejected)
    result = metrc_sync.sync(db, metrc)
    assert result.failed == 1 and metrc.received == []
    rows = metrc_sync.list_entries(db, SYSTEM)
    assert rows[0].status is OutboxStatus.FAILED and "TAG0 was not found" in (rows[0].last_error or "")
    assert metrc_sync.sync(db, metrc).sent == 0  # the queue waits for a person
    with pytest.raises(PermissionDenied):
        metrc_sync.retry(db, actors["alex"], rows[0].id)
    metrc_sync.retry(db, actors["maria"], rows[0].id)
    assert metrc_sync.sync(db, metrc).sent == 2


def test_resolve_by_hand_needs_a_note(db: Database, actors: dict[str, Actor]) -> None:
    _enqueue(db, 1, OutboxKind.ADJUST)
    entry = metrc_sync.list_entries(db, SYSTEM)[0]
    with pytest.raises(ValidationError, match="say how"):
        metrc_sync.resolve(db, actors["maria"], entry.id, "  ")
    metrc_sync.resolve(db, actors["maria"], entry.id, "entered in METRC web UI")
    assert metrc_sync.list_entries(db, SYSTEM)[0].status is OutboxStatus.RESOLVED


def test_interrupted_send_of_a_non_idempotent_call_is_not_repeated(db: Database) -> None:
    _enqueue(db, 1, OutboxKind.ADJUST)
    _enqueue(db, 1, OutboxKind.CHANGE_LOCATION)
    with db.transaction() as session:  # as if the process died during the adjust call
        first = session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)).first()
        first.status = OutboxStatus.SENDING
    metrc = ScriptedMetrc()
    result = metrc_sync.sync(db, metrc)
    assert result.failed == 1 and metrc.received == []
    assert "may have applied it" in (metrc_sync.list_entries(db, SYSTEM)[0].last_error or "")


def test_interrupted_location_change_is_safely_resent(db: Database) -> None:
    _enqueue(db, 1)
    with db.transaction() as session:
        session.scalars(select(OutboxEntry)).first().status = OutboxStatus.SENDING
    metrc = ScriptedMetrc()
    assert metrc_sync.sync(db, metrc).sent == 1


def test_gives_up_after_max_attempts(db: Database) -> None:
    _enqueue(db, 1)
    metrc = ScriptedMetrc(*[MetrcUnavailable("down")] * 20)
    clock = [utcnow()]
    for _ in range(10):
        metrc_sync.sync(db, metrc, now=lambda: clock[0])
        clock[0] += timedelta(hours=2)
    assert metrc_sync.list_entries(db, SYSTEM)[0].status is OutboxStatus.FAILED


def test_manual_mode_exports_csv_and_marks_entries(db: Database, actors: dict[str, Actor], tmp_path) -> None:  # type: ignore[no-untyped-def]
    from backoffice.metrc import csv_export
    from backoffice.services import metrc_manual

    with db.transaction() as session:
        for i in range(2):
            outbox.enqueue(
                session,
                SYSTEM,
                OutboxKind.CHANGE_LOCATION,
                [{"Label": f"1A406030000000000000000{i}", "Location": "Sales Floor", "MoveDate": "2026-11-20"}],
                Doc("test", i),
                f"manual:{i}",
            )
    with pytest.raises(PermissionDenied):
        metrc_manual.export_pending(db, actors["alex"], tmp_path)
    export = metrc_manual.export_pending(db, actors["maria"], tmp_path)
    written = export.files
    assert [rows for _, rows in written] == [2] and export.changes & Changes.OUTBOX
    back = csv_export.read_location_changes(written[0][0])
    assert [c.label for c in back] == ["1A4060300000000000000000", "1A4060300000000000000001"]
    assert {r.status for r in metrc_sync.list_entries(db, SYSTEM)} == {OutboxStatus.EXPORTED}
    assert metrc_manual.export_pending(db, actors["maria"], tmp_path).files == []  # nothing twice


def test_a_receive_sheet_waiting_for_the_web_ui_does_not_hold_back_sales(db: Database) -> None:
    with db.transaction() as session:
        outbox.enqueue(session, SYSTEM, OutboxKind.RECEIVE_CONFIRM, [{"Label": "TAGR"}], Doc("manifest", 1), "rc1")
    _enqueue(db, 1, OutboxKind.SALES_RECEIPT)
    metrc = ScriptedMetrc()
    assert metrc_sync.sync(db, metrc).sent == 1
    assert [kind for kind, _ in metrc.received] == [OutboxKind.SALES_RECEIPT]
    statuses = {r.kind: r.status for r in metrc_sync.list_entries(db, SYSTEM)}
    assert statuses[OutboxKind.RECEIVE_CONFIRM] is OutboxStatus.PENDING  # still waiting for a person
