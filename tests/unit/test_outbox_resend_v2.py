"""Exactly once on METRC v2: a receipt or adjustment whose answer was lost is checked against
METRC (receipt by external number, adjustment history) before it is sent again, so it no
longer waits for a manager; a long payload goes in calls of 10 and resumes where METRC stopped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backoffice.db.engine import Database
from backoffice.db.models import utcnow
from backoffice.domain.enums import OutboxKind, OutboxStatus
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.simulator import DEFAULT_USER_KEY, DEFAULT_VENDOR_KEY, MetrcSimulator
from backoffice.services import metrc_connection, metrc_sync, outbox
from backoffice.services.actor import SYSTEM
from backoffice.services.ledger import Doc

EACH_TAG = "1A4060300000000000000001"  # 30 Each


@pytest.fixture
def sim(samples: Path) -> Iterator[MetrcSimulator]:
    with MetrcSimulator(seed_dir=samples, api="v2") as simulator:
        yield simulator


def _enqueue(db: Database, kind: OutboxKind, payload: list[dict[str, Any]], key: str) -> None:
    with db.transaction() as session:
        outbox.enqueue(session, SYSTEM, kind, payload, Doc("test", 1), key)


def _adjustment(quantity: str = "-1") -> dict[str, Any]:
    return {
        "Label": EACH_TAG,
        "Quantity": quantity,
        "UnitOfMeasure": "Each",
        "AdjustmentReason": "Damage",
        "AdjustmentDate": datetime.now().date().isoformat(),
        "ReasonNote": None,
    }


def _receipt(number: str) -> dict[str, Any]:
    return {
        "SalesDateTime": (datetime.now() - timedelta(minutes=5)).isoformat(timespec="seconds"),
        "SalesCustomerType": "Consumer",
        "ExternalReceiptNumber": number,
        "Transactions": [{"PackageLabel": EACH_TAG, "Quantity": "1", "UnitOfMeasure": "Each", "TotalAmount": "12.50"}],
    }


class Runner:
    """Runs the outbox as ``send_now`` does, with a clock that jumps past any backoff."""

    def __init__(self, db: Database, client: MetrcClient) -> None:
        self.db, self.client, self.clock = db, client, utcnow()

    def __call__(self) -> metrc_sync.SyncResult:
        self.clock += timedelta(hours=2)
        return metrc_sync.sync(
            self.db,
            metrc_connection.sender_for(self.client),
            already_applied=metrc_connection.applied_check_for(self.client, self.db),
            now=lambda: self.clock,
            chunk_size=self.client.max_batch,
        )


def _client(sim: MetrcSimulator) -> MetrcClient:
    return MetrcClient(sim.url, sim.license_number, DEFAULT_VENDOR_KEY, DEFAULT_USER_KEY, api="v2", timeout=0.4)


@pytest.mark.parametrize("kind", [OutboxKind.SALES_RECEIPT, OutboxKind.ADJUST])
def test_lost_answer_is_checked_not_resent(sqlite_db: Database, sim: MetrcSimulator, kind: OutboxKind) -> None:
    payload = [_receipt("R-LOST-1")] if kind is OutboxKind.SALES_RECEIPT else [_adjustment()]
    path = "sales/v2/receipts" if kind is OutboxKind.SALES_RECEIPT else "packages/v2/adjust"
    _enqueue(sqlite_db, kind, payload, "lost")
    with _client(sim) as client:
        run = Runner(sqlite_db, client)
        sim.delay_next(1.2)  # METRC records it; the answer arrives after the client gave up
        first = run()
        assert first.waiting == 1 and "may have recorded it" in first.reason
        assert metrc_sync.list_entries(sqlite_db, SYSTEM)[0].status is OutboxStatus.PENDING  # no manager needed
        time.sleep(1.0)
        assert run().sent == 1
    assert len(sim.applied(path)) == 1  # exactly once
    assert metrc_sync.list_entries(sqlite_db, SYSTEM, statuses={OutboxStatus.SENT})[0].attempts == 2
    checks = [r.path for r in sim.requests if r.method == "GET"]
    assert checks == (
        ["sales/v2/receipts/external/R-LOST-1"] if kind is OutboxKind.SALES_RECEIPT else ["packages/v2/adjustments"]
    )


def test_an_adjustment_metrc_did_not_take_is_sent_again_even_beside_an_identical_twin(
    sqlite_db: Database, sim: MetrcSimulator
) -> None:
    _enqueue(sqlite_db, OutboxKind.ADJUST, [_adjustment()], "twin-1")
    _enqueue(sqlite_db, OutboxKind.ADJUST, [_adjustment()], "twin-2")  # the same change, on purpose, twice
    with _client(sim) as client:
        run = Runner(sqlite_db, client)
        sim.go_away(after=1)  # twin 1 is answered; twin 2 finds METRC gone: unknown whether it arrived
        result = run()
        assert result.sent == 1 and result.waiting == 1
        sim.come_back()
        assert run().sent == 1
    assert len(sim.applied("packages/v2/adjust")) == 2  # the twin's record did not pass for twin 2
    assert sim.state.packages[EACH_TAG]["Quantity"] == Decimal(28)


def test_an_interrupted_receipt_is_checked_after_a_crash(sqlite_db: Database, sim: MetrcSimulator) -> None:
    from sqlalchemy import select

    from backoffice.db.models import OutboxEntry

    _enqueue(sqlite_db, OutboxKind.SALES_RECEIPT, [_receipt("R-CRASH-1")], "crash")
    with _client(sim) as client:
        client.record_receipts([_receipt("R-CRASH-1")])  # reached METRC, then the process died
        with sqlite_db.transaction() as session:
            entry = session.scalars(select(OutboxEntry)).one()
            entry.status, entry.attempts = OutboxStatus.SENDING, 1
        assert Runner(sqlite_db, client)().sent == 1
    assert len(sim.applied("sales/v2/receipts")) == 1


def test_a_long_payload_goes_in_calls_of_ten_and_resumes_after_an_outage(
    sqlite_db: Database, sim: MetrcSimulator
) -> None:
    tags = sorted(sim.state.packages)[:25]
    today = datetime.now().date().isoformat()
    _enqueue(
        sqlite_db,
        OutboxKind.CHANGE_LOCATION,
        [{"Label": t, "Location": "Sales Floor", "MoveDate": today} for t in tags],
        "long",
    )
    with _client(sim) as client:
        run = Runner(sqlite_db, client)
        sim.go_away(after=1)
        assert run().waiting == 1
        sim.come_back()
        assert run().sent == 1
    delivered = [e["Label"] for batch in sim.applied("packages/v2/location") for e in batch]
    assert delivered == tags  # each once, in order
    assert [len(b) for b in sim.applied("packages/v2/location")] == [10, 10, 5]


def test_a_receipt_number_with_odd_characters_is_checked_by_its_encoded_path(sim: MetrcSimulator) -> None:
    with _client(sim) as client:
        client.record_receipts([_receipt("R 11/20#7")])
        assert client.receipt_by_external_number("R 11/20#7") is not None
        assert client.receipt_by_external_number("R 11/20#8") is None
    assert sim.requests[-1].path == "sales/v2/receipts/external/R%2011%2F20%238"
