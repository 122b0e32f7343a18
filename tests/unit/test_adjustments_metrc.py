"""Adjustments and counts against the METRC simulator on 127.0.0.1: the state's reasons are
loaded from METRC, an adjustment's outbox entry is accepted by METRC as sent, and a count
snapshots METRC's active packages through the connector."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.db.engine import Database
from backoffice.errors import UserError, ValidationError
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.errors import MetrcKeyMissing
from backoffice.metrc.keys import MetrcKeyStore
from backoffice.metrc.simulator import (
    DEFAULT_USER_KEY,
    DEFAULT_VENDOR_KEY,
    MetrcSimulator,
)
from backoffice.services import (
    adjustments,
    counts,
    metrc_connection,
    metrc_packages_import,
    metrc_sync,
    settings,
)
from backoffice.services.actor import SYSTEM, Actor
from backoffice.services.counts import Scope
from tests.conftest import make_users
from tests.unit.test_metrc_keys import MemoryKeyring

GUMMY = "1A4060300000000000000002"  # 12 Each, here and in METRC


@pytest.fixture
def client(samples: Path) -> Iterator[tuple[MetrcSimulator, MetrcClient]]:
    with (
        MetrcSimulator(seed_dir=samples) as sim,
        MetrcClient(sim.url, sim.license_number, DEFAULT_VENDOR_KEY, DEFAULT_USER_KEY, timeout=5) as metrc,
    ):
        yield sim, metrc


@pytest.fixture
def store(sqlite_db: Database, samples: Path) -> tuple[Database, dict[str, Actor]]:
    actors = make_users(sqlite_db)
    metrc_packages_import.import_file(sqlite_db, actors["admin"], samples / "metrc_packages_active.json")
    return sqlite_db, actors


def test_reasons_from_metrc_and_an_adjustment_metrc_accepts(
    store: tuple[Database, dict[str, Actor]], client: tuple[MetrcSimulator, MetrcClient]
) -> None:
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
    store: tuple[Database, dict[str, Actor]], client: tuple[MetrcSimulator, MetrcClient]
) -> None:
    db, actors = store
    _, metrc = client
    info = counts.start_count(
        db,
        actors["alex"],
        "Gummies",
        Scope(categories=("Edible (weight - each)",)),
        metrc_packages_data=metrc.active_packages(),
    )
    counts.record_count(db, actors["alex"], info.id, GUMMY, 12)
    line = next(ln for ln in counts.variance_lines(db, actors["maria"], info.id) if ln.tag == GUMMY)
    assert (line.metrc, line.variance_metrc) == (12, 0)


def test_start_count_with_metrc_fetches_through_the_users_key(
    store: tuple[Database, dict[str, Actor]], client: tuple[MetrcSimulator, MetrcClient]
) -> None:
    db, actors = store
    sim, _ = client
    settings.set_value(db, actors["admin"], settings.METRC_BASE_URL.key, sim.url)
    settings.set_value(db, actors["admin"], settings.LICENSE_NUMBER.key, sim.license_number)
    settings.set_value(db, actors["admin"], settings.METRC_API_VERSION.key, sim.api)
    keys = MetrcKeyStore(MemoryKeyring())
    keys.set_vendor_key(DEFAULT_VENDOR_KEY)
    with pytest.raises(MetrcKeyMissing, match="alex"):  # no key of their own: nothing is started
        counts.start_count_with_metrc(db, actors["alex"], "Gummies", Scope(), keys=keys)
    assert counts.list_counts(db, SYSTEM) == []
    keys.set_user_key("alex", DEFAULT_USER_KEY)
    with pytest.raises(ValidationError, match="name"):
        counts.start_count_with_metrc(db, actors["alex"], "  ", Scope(), keys=keys)
    info = counts.start_count_with_metrc(
        db, actors["alex"], "Gummies", Scope(categories=("Edible (weight - each)",)), keys=keys
    )
    assert info.metrc_source and "METRC" in info.metrc_source
    counts.record_count(db, actors["alex"], info.id, GUMMY, 12)
    line = next(ln for ln in counts.variance_lines(db, actors["maria"], info.id) if ln.tag == GUMMY)
    assert (line.metrc, line.variance_metrc) == (12, 0)


def test_start_count_with_metrc_in_manual_mode_says_so(store: tuple[Database, dict[str, Actor]]) -> None:
    db, actors = store
    with pytest.raises(UserError, match="manual mode"):
        counts.start_count_with_metrc(db, actors["alex"], "Gummies", Scope())
    assert counts.list_counts(db, SYSTEM) == []
