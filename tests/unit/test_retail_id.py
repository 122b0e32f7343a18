"""Retail ID: a unit's QR URL resolves to its package through the cache filled at receiving
or through METRC; offline says so; receiving names packages without unit codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backoffice.db.engine import Database
from backoffice.errors import NotFound, ValidationError
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.simulator import DEFAULT_USER_KEY, DEFAULT_VENDOR_KEY, MetrcSimulator
from backoffice.services import receiving, retail_id, settings
from backoffice.services.actor import SYSTEM, Actor

EACH_TAG = "1A4060300000000000000001"  # 30 Each, active
SHIPPED = "1A4060300000000000005001"  # 10 Each on the sample manifest


@pytest.fixture
def sim(samples: Path) -> Iterator[MetrcSimulator]:
    with MetrcSimulator(seed_dir=samples, api="v2") as simulator:
        yield simulator


def connector(sim: MetrcSimulator):  # type: ignore[no-untyped-def]
    return lambda: MetrcClient(sim.url, sim.license_number, DEFAULT_VENDOR_KEY, DEFAULT_USER_KEY, api="v2", timeout=2)


@pytest.fixture
def alex(sqlite_db: Database) -> Actor:
    from tests.conftest import make_users

    return make_users(sqlite_db)["alex"]


def test_a_qr_url_resolves_through_metrc_then_from_the_cache(
    sqlite_db: Database, alex: Actor, sim: MetrcSimulator
) -> None:
    url = sim.state.qr_codes(EACH_TAG)[4]
    first = retail_id.resolve(sqlite_db, alex, url, connect=connector(sim))
    assert (first.tag, first.source, first.unit) == (EACH_TAG, "metrc", True)
    sim.go_away()
    again = retail_id.resolve(sqlite_db, alex, url + "?src=label", connect=connector(sim))
    assert (again.tag, again.source) == (EACH_TAG, "cache")


def test_a_tag_is_taken_as_it_is(sqlite_db: Database, alex: Actor) -> None:
    scan = retail_id.resolve(sqlite_db, alex, f" {EACH_TAG}\n")
    assert (scan.tag, scan.unit, scan.source) == (EACH_TAG, False, "tag")
    with pytest.raises(ValidationError, match="not a METRC tag"):
        retail_id.resolve(sqlite_db, alex, "1A40")


def test_offline_and_unknown_codes_say_what_to_do(sqlite_db: Database, alex: Actor, sim: MetrcSimulator) -> None:
    with pytest.raises(NotFound, match="METRC knows no unit with code NOPE1234.*Scan the package tag"):
        retail_id.resolve(sqlite_db, alex, "https://1a4.com/NOPE1234", connect=connector(sim))
    url = sim.state.qr_codes(EACH_TAG)[0]
    sim.go_away()
    with pytest.raises(retail_id.RetailIdOffline, match="METRC cannot be reached.*Scan the package tag instead"):
        retail_id.resolve(sqlite_db, alex, url, connect=connector(sim))
    with pytest.raises(ValidationError, match="not a METRC Retail ID code"):
        retail_id.resolve(sqlite_db, alex, "https://1a4.com/", connect=connector(sim))


def test_receiving_caches_codes_and_flags_packages_without_when_the_state_requires(
    sqlite_db: Database, alex: Actor, sim: MetrcSimulator, samples: Path
) -> None:
    manifest = receiving.import_file(sqlite_db, alex, samples / "metrc_incoming_transfer.json")
    manifest_id = receiving.find_manifest(sqlite_db, manifest.manifest_number)
    shipped = next(p for packages in sim.state.deliveries.values() for p in packages if p["PackageLabel"] == SHIPPED)
    bare = next(
        p for packages in sim.state.deliveries.values() for p in packages if p["ShippedUnitOfMeasureName"] != "Each"
    )  # weighed product: no unit codes
    result = retail_id.fetch_manifest_codes(sqlite_db, alex, manifest_id, connect=connector(sim))
    assert result.codes >= int(shipped["ShippedQuantity"]) and bare["PackageLabel"] in result.without_codes
    assert result.flagged == []  # optional in this state
    sim.go_away()  # a scan at the counter needs no METRC now
    url = sim.state.qr_codes(SHIPPED)[0]
    assert retail_id.resolve(sqlite_db, alex, url, connect=connector(sim)).tag == SHIPPED
    sim.come_back()
    settings.set_value(sqlite_db, SYSTEM, "retail_id_required", True)
    again = retail_id.fetch_manifest_codes(sqlite_db, alex, manifest_id, connect=connector(sim))
    assert bare["PackageLabel"] in again.flagged and SHIPPED not in again.flagged
