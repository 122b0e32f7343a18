"""Adjustments and counts against the METRC simulator on 127.0.0.1: the state's reasons are
loaded from METRC, an adjustment's outbox entry is accepted by METRC as sent, and a count
snapshots METRC's active packages through the connector."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.db.engine import Database
from backoffice.services import metrc_packages_import
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.simulator import DEFAULT_USER_KEY, DEFAULT_VENDOR_KEY, MetrcSimulator
from backoffice.services import adjustments, counts, metrc_connection, metrc_sync
from backoffice.services.actor import Actor
from backoffice.services.counts import Scope
from tests.conftest import make_users

GUMMY = "1A4060300000000000000002"  # 12 Each, here and in METRC


@pytest.fixture
def client(samples: Path) -> Iterator[tuple[MetrcSimulator, MetrcClient]]:
    with MetrcSimulator(seed_dir=samples) as sim, \
            MetrcClient(sim.url, sim.license_number, DEFAULT_VENDOR_KEY, DEFAULT_USER_KEY, timeout=5) as metrc:
        yield sim, metrc


@pytest.fixture
def store(sqlite_db: Database, samples: Path) -> tuple[Database, dict[str, Actor]]:
    actors = make_users(sqlite_db)
    metrc_packages_import.import_file(sqlite_db, actors["admin"], samples / "metrc_packages_active.json")
    return sqlite_db, actors


def test_reasons_from_metrc_and_an_adjustment_metrc_accepts(
        store: tuple[Database, dict[str, Actor]], client: tuple[MetrcSimulator, MetrcClient]) -> None:
    db, actors = store
    sim, metrc = client
    loaded = adjustments.load_reasons(db, actors["admin"], metrc.adjustment_reasons())
    assert {r.name for r in loaded} == {r["Name"] for r in sim.state.reasons}
    assert all(r.source == "metrc" for r in loaded)
    result = adjustments.adjust(db, actors["alex"], GUMMY, "-2", "Theft", "two missing at the cycle count")
    sent = metrc_sync.sync(db, metrc_connection.sender_for(metrc))
    assert sent.sent == 1 and sent.failed == 0
    (batch,) = sim.applied("packages/v1/adjust")
    assert batch[0]["Label"] == GUMMY and batch[0]["AdjustmentReason"] == "Theft"
    assert Decimal(str(sim.state.packages[GUMMY]["Quantity"])) == result.after == 10


def test_count_snapshots_metrc_through_the_connector(
        store: tuple[Database, dict[str, Actor]], client: tuple[MetrcSimulator, MetrcClient]) -> None:
    db, actors = store
    _, metrc = client
    info = counts.start_count(db, actors["alex"], "Gummies", Scope(categories=("Edible (weight - each)",)),
                              metrc_packages_data=metrc.active_packages())
    counts.record_count(db, actors["alex"], info.id, GUMMY, 12)
    line = next(ln for ln in counts.variance_lines(db, actors["maria"], info.id) if ln.tag == GUMMY)
    assert (line.metrc, line.variance_metrc) == (12, 0)
