"""The outbox against the METRC simulator on 127.0.0.1: errors, time-outs and METRC going
away mid-queue. Every change is delivered exactly once and in order, or shown as failed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from backoffice.db.engine import Database
from backoffice.db.models import utcnow
from backoffice.domain.enums import OutboxStatus
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.simulator import (
    DEFAULT_USER_KEY,
    DEFAULT_VENDOR_KEY,
    MetrcSimulator,
)
from backoffice.services import (
    metrc_connection,
    metrc_packages_import,
    metrc_sync,
    transfers,
)
from backoffice.services.actor import SYSTEM, Actor

PATH = "packages/v1/change/locations"


@pytest.fixture
def sim(samples: Path) -> Iterator[MetrcSimulator]:
    with MetrcSimulator(seed_dir=samples) as simulator:  # real clock: transfers are recorded today
        yield simulator


def _record_moves(db: Database, actor: Actor, samples: Path, count: int) -> list[str]:
    metrc_packages_import.import_file(db, actor, samples / "metrc_packages_active.json")
    tags = [
        r["Label"]
        for r in json.loads((samples / "metrc_packages_active.json").read_text())
        if r["LocationName"] == "Vault" and r["LabTestingState"] == "TestPassed" and not r["IsOnHold"]
    ][:count]
    for tag in tags:
        transfers.record(db, actor, transfers.create_transfer(db, actor, "Vault", "Sales Floor", [tag]).id)
    return tags


def _delivered(sim: MetrcSimulator) -> list[str]:
    return [element["Label"] for batch in sim.applied(PATH) for element in batch]


def test_errors_timeouts_and_outage_mid_queue_deliver_each_change_once_in_order(
    sqlite_db: Database, samples: Path, sim: MetrcSimulator
) -> None:
    from tests.conftest import make_users

    db = sqlite_db
    tags = _record_moves(db, make_users(db)["alex"], samples, 5)
    clock = [utcnow()]
    with MetrcClient(sim.url, sim.license_number, DEFAULT_VENDOR_KEY, DEFAULT_USER_KEY, timeout=0.5) as client:
        send, check = metrc_connection.sender_for(client), metrc_connection.applied_check_for(client, db)

        def run() -> metrc_sync.SyncResult:
            clock[0] += timedelta(hours=2)  # past any backoff
            return metrc_sync.sync(db, send, already_applied=check, now=lambda: clock[0])

        sim.fail_next(1, status=503)
        assert run().waiting == 1 and _delivered(sim) == []
        sim.go_away(after=2)  # answers: the check of entry 1, then entry 1 itself; then gone
        result = run()
        assert result.sent == 1 and result.waiting == 1 and _delivered(sim) == tags[:1]
        sim.come_back()
        sim.delay_next(1.5)  # entry 2's answer arrives after the client gave up; METRC applied it
        result = run()
        assert result.sent == 0 and result.waiting == 1
        time.sleep(1.2)  # let the simulator finish the late call
        while (result := run()).sent or result.waiting:
            pass
    assert _delivered(sim) == tags  # every change once (entry 2 was checked, not re-sent), in order
    assert {r.status for r in metrc_sync.list_entries(db, SYSTEM)} == {OutboxStatus.SENT}


def test_rejection_is_shown_with_metrc_text(sqlite_db: Database, samples: Path, sim: MetrcSimulator) -> None:
    from tests.conftest import make_users

    db = sqlite_db
    _record_moves(db, make_users(db)["alex"], samples, 1)
    with MetrcClient(
        sim.url, sim.license_number, DEFAULT_VENDOR_KEY, DEFAULT_USER_KEY, timeout=2, username="alex"
    ) as client:
        with db.transaction() as session:  # a room METRC does not know
            from backoffice.db.models import OutboxEntry

            entry = session.query(OutboxEntry).one()
            payload = json.loads(entry.payload)
            payload[0]["Location"] = "Back Room"
            entry.payload = json.dumps(payload)
        result = metrc_sync.sync(db, metrc_connection.sender_for(client))
    assert result.failed == 1
    row = metrc_sync.list_entries(db, SYSTEM)[0]
    assert row.status is OutboxStatus.FAILED and "Back Room" in (row.last_error or "")


def test_wrong_key_is_unauthorized_with_a_clear_message(
    sqlite_db: Database, samples: Path, sim: MetrcSimulator
) -> None:
    from tests.conftest import make_users

    db = sqlite_db
    _record_moves(db, make_users(db)["alex"], samples, 1)
    with MetrcClient(
        sim.url, sim.license_number, DEFAULT_VENDOR_KEY, "expired-key", timeout=2, username="alex"
    ) as client:
        result = metrc_sync.sync(db, metrc_connection.sender_for(client))
    assert result.failed == 1 and "expire" in result.reason and "expired-key" not in result.reason
