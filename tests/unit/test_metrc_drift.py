"""The drift check against the simulator in both API versions: the first run fetches
everything, later runs only what changed; exactly the differing packages are listed, each
with both values and a likely cause; queued changes METRC has not applied are not drift."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.db.engine import Database
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.simulator import DEFAULT_USER_KEY, DEFAULT_VENDOR_KEY, MetrcSimulator
from backoffice.services import adjustments, metrc_drift, metrc_packages_import, transfers
from backoffice.services.actor import Actor


@pytest.fixture(params=["v1", "v2"])
def sim(samples: Path, request: pytest.FixtureRequest) -> Iterator[MetrcSimulator]:
    with MetrcSimulator(seed_dir=samples, api=request.param) as simulator:
        yield simulator


@pytest.fixture
def store(db: Database, samples: Path) -> tuple[Database, Actor]:
    from tests.conftest import make_users

    actor = make_users(db)["alex"]
    metrc_packages_import.import_file(db, actor, samples / "metrc_packages_active.json")
    return db, actor


def _connect(sim: MetrcSimulator):  # type: ignore[no-untyped-def]
    return lambda: MetrcClient(
        sim.url, sim.license_number, DEFAULT_VENDOR_KEY, DEFAULT_USER_KEY, api=sim.api, timeout=5
    )


def _tags(samples: Path, **where: object) -> list[str]:
    rows = json.loads((samples / "metrc_packages_active.json").read_text())
    return [r["Label"] for r in rows if all(r.get(k) == v for k, v in where.items())]


def test_full_then_incremental_lists_exactly_the_differing_packages(
    store: tuple[Database, Actor], sim: MetrcSimulator, samples: Path
) -> None:
    db, actor = store
    first = metrc_drift.check(db, actor, connect=_connect(sim))
    assert first.full and first.fetched == 120 and first.differences == []

    vault = _tags(samples, LocationName="Vault", LabTestingState="TestPassed", IsOnHold=False, UnitOfMeasureName="Each")
    sold_there, adjusted_here, held, retested, finished, moved, transferred = vault[:7]
    before = Decimal(str(sim.state.packages[sold_there]["Quantity"]))
    sim.state.touch(sold_there, Quantity=before - 1)  # a sale in METRC the store never imported
    adjustments.adjust(db, actor, adjusted_here, "-2", "Theft", "two missing")  # queued, not sent: no drift
    sim.state.touch(held, IsOnHold=True)
    sim.state.touch(retested, LabTestingState="TestFailed")
    sim.state.finish(finished, sim.state._now().date())
    sim.state.touch(moved, LocationName="Quarantine")
    transfers.record(db, actor, transfers.create_transfer(db, actor, "Vault", "Sales Floor", [transferred]).id)

    second = metrc_drift.check(db, actor, connect=_connect(sim))
    assert not second.full and second.fetched == 5  # only what METRC changed
    assert second.tags == sorted([sold_there, held, retested, finished, moved])
    by_tag = {d.tag: d for d in second.differences}
    quantity = by_tag[sold_there]
    assert (quantity.field, quantity.metrc) == ("quantity", f"{(before - 1).normalize():f} Each")
    assert quantity.store == f"{before.normalize():f} Each" and "METRC has less" in quantity.cause
    assert (by_tag[held].field, by_tag[held].store, by_tag[held].metrc) == ("hold", "not held", "on hold")
    assert (by_tag[retested].store, by_tag[retested].metrc) == ("TestPassed", "TestFailed")
    assert by_tag[finished].field == "finished" and "finished in METRC" in by_tag[finished].cause
    assert (by_tag[moved].field, by_tag[moved].store, by_tag[moved].metrc) == ("room", "Vault", "Quarantine")

    again = metrc_drift.check(db, actor, connect=_connect(sim), full=True)
    assert again.full and again.tags == second.tags  # a full run agrees with the incremental one
    assert "missing in METRC" in {d.field for d in again.differences if d.tag == finished}


def test_a_quantity_that_the_queue_does_not_explain_is_drift(
    store: tuple[Database, Actor], sim: MetrcSimulator, samples: Path
) -> None:
    db, actor = store
    metrc_drift.check(db, actor, connect=_connect(sim))
    tag = _tags(samples, LocationName="Vault", UnitOfMeasureName="Each")[0]
    adjustments.adjust(db, actor, tag, "-2", "Theft", "two missing")
    sim.state.touch(tag, Quantity=Decimal(str(sim.state.packages[tag]["Quantity"])) - 2)  # entered in METRC by hand too
    result = metrc_drift.check(db, actor, connect=_connect(sim))
    [difference] = result.differences
    assert difference.tag == tag and "after outbox (outbox #" in difference.store
    assert "METRC has less" in difference.cause  # the queued −2 would take it 2 below the store


def test_offline_check_says_so_and_records_nothing(store: tuple[Database, Actor], sim: MetrcSimulator) -> None:
    from backoffice.metrc.errors import MetrcUnavailable

    db, actor = store
    sim.go_away()
    with pytest.raises(MetrcUnavailable, match="Cannot reach METRC"):
        metrc_drift.check(db, actor, connect=_connect(sim))
    sim.come_back()
    assert metrc_drift.check(db, actor, connect=_connect(sim)).full  # still the first run
