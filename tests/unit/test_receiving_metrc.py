"""Receiving with METRC: a manifest fetched through the connector (the METRC simulator on
127.0.0.1), and the check that METRC agrees afterwards, which closes the receive sheet."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import OutboxEntry
from backoffice.domain.enums import OutboxStatus
from backoffice.domain.units import Unit
from backoffice.errors import NotFound, RuleViolation
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.simulator import (
    DEFAULT_USER_KEY,
    DEFAULT_VENDOR_KEY,
    MetrcSimulator,
)
from backoffice.services import audit, metrc_sync, receiving, receiving_metrc
from backoffice.services.actor import SYSTEM, Actor
from backoffice.services.receiving import ScanProblem
from tests.unit.receiving_store import (
    FLOWER,
    SAMPLE_NUMBER,
    line,
    manifest,
    sample_tag,
    stock_store,
    tag,
)

NUMBER = "0009990001"


@pytest.fixture
def alex(db: Database, actors: dict[str, Actor], samples: Path) -> Actor:
    stock_store(db, actors["admin"], samples)
    return actors["alex"]


@pytest.fixture
def client(samples: Path) -> Iterator[MetrcClient]:
    with (
        MetrcSimulator(seed_dir=samples) as sim,
        MetrcClient(sim.url, sim.license_number, DEFAULT_VENDOR_KEY, DEFAULT_USER_KEY, timeout=5) as metrc,
    ):
        metrc.simulator = sim  # type: ignore[attr-defined]
        yield metrc


def test_incoming_manifest_is_fetched_through_the_connector(db: Database, alex: Actor, client: MetrcClient) -> None:
    [listed] = receiving_metrc.incoming(db, alex, client)
    assert (listed.manifest_number, listed.shipper_name, listed.packages, listed.imported) == (
        SAMPLE_NUMBER,
        "Verde Labs Distribution",
        14,
        False,
    )
    result = receiving_metrc.import_from_metrc(db, alex, client, "4412217")
    assert (result.manifest_number, result.packages, result.unknown_items) == (SAMPLE_NUMBER, 14, 3)
    view = receiving.get_manifest(db, alex, result.manifest_id)
    assert view.vehicle == "Ford Transit (plate 8ABC123)" and view.lines[0].tag == sample_tag(1)
    assert receiving_metrc.incoming(db, alex, client)[0].imported
    assert receiving_metrc.import_from_metrc(db, alex, client, SAMPLE_NUMBER).already_imported
    with pytest.raises(NotFound, match="METRC lists no incoming manifest 0000000042"):
        receiving_metrc.import_from_metrc(db, alex, client, "42")


def _received(db: Database, alex: Actor) -> int:
    """Manifest NUMBER received: gummies 10, flower 452.8 g of 453.59, one rejected."""
    manifest_id = receiving.import_manifest(
        db, alex, manifest(NUMBER, line(1), line(2, item=FLOWER, quantity="453.59", unit=Unit.GRAMS), line(3))
    ).manifest_id
    for code in (tag(1), tag(2)):
        receiving.scan(db, alex, manifest_id, code)
    receiving.set_received_quantity(db, alex, manifest_id, tag(2), "452.8", "scale")
    receiving.accept_scanned(db, alex, manifest_id)
    receiving.reject(db, alex, manifest_id, tag(3), "Damaged", "crushed")
    receiving.finish(db, alex, manifest_id)
    return manifest_id


def _metrc(code: str, quantity: str, unit: str = "Each", number: str | None = NUMBER) -> dict[str, Any]:
    return {
        "Id": int(code[-6:]),
        "Label": code,
        "Quantity": Decimal(quantity),
        "UnitOfMeasureName": unit,
        "LocationName": "Vault",
        "LabTestingState": "TestPassed",
        "ReceivedFromManifestNumber": number,
        "Item": {"Name": "Anything", "ProductCategoryName": "Edible (weight - each)"},
    }


def _outbox_status(db: Database) -> OutboxStatus:
    with db.read() as session:
        return session.scalars(select(OutboxEntry.status).where(OutboxEntry.doc_type == "manifest")).one()


def test_metrc_agreeing_closes_the_receive_sheet(db: Database, alex: Actor) -> None:
    manifest_id = _received(db, alex)
    assert _outbox_status(db) is OutboxStatus.PENDING
    other = _metrc("1A4060300000000000000001", "30", number="2498327645")
    check = receiving_metrc.check_metrc(
        db, alex, manifest_id, [_metrc(tag(1), "10"), _metrc(tag(2), "452.8", "g"), other, {"Label": "broken"}]
    )
    assert check.agrees and (check.accepted, check.rejected, check.unreadable) == (2, 1, 1)
    assert check.outbox_closed is not None and _outbox_status(db) is OutboxStatus.RESOLVED
    assert audit.verify(db, SYSTEM).ok
    assert metrc_sync.list_entries(db, SYSTEM, statuses={OutboxStatus.PENDING}) == []  # the METRC queue moves on


def test_every_disagreement_is_named_and_the_sheet_stays_open(db: Database, alex: Actor) -> None:
    manifest_id = _received(db, alex)
    check = receiving_metrc.check_metrc(db, alex, manifest_id, [_metrc(tag(1), "9"), _metrc(tag(3), "10")])
    assert not check.agrees and check.outbox_closed is None
    assert check.problems == [
        f"{tag(1)}: METRC has 9 Each, received here 10 Each; key the received quantity into METRC",
        f"{tag(2)} is not among METRC's active packages: accept it in METRC's web UI (receive sheet)",
        f"{tag(3)} was rejected here (Damaged) but METRC shows it accepted from manifest {NUMBER}: correct it in "
        "METRC's web UI",
    ]
    wrong_manifest = receiving_metrc.check_metrc(
        db, alex, manifest_id, [_metrc(tag(1), "10", number="0000000001"), _metrc(tag(2), "15.9659", "Ounces")]
    )
    assert wrong_manifest.problems[0] == (
        f"{tag(1)} is active in METRC but received from manifest 0000000001, not {NUMBER}"
    )
    assert wrong_manifest.problems[1] == (
        f"{tag(2)}: METRC has 15.9659 Ounces, received here 452.8 Grams; METRC keeps the unit a package was received in"
    )
    assert _outbox_status(db) is OutboxStatus.PENDING


def test_check_only_after_the_receiving_is_finished(db: Database, alex: Actor) -> None:
    manifest_id = receiving.import_manifest(db, alex, manifest(NUMBER, line(1))).manifest_id
    with pytest.raises(RuleViolation, match="is not received yet; finish the receiving, key the receive sheet"):
        receiving_metrc.check_metrc(db, alex, manifest_id, [])


def test_check_against_the_simulators_active_packages(db: Database, alex: Actor, client: MetrcClient) -> None:
    manifest_id = _received(db, alex)
    sim: MetrcSimulator = client.simulator  # type: ignore[attr-defined]
    for record in (_metrc(tag(1), "10"), _metrc(tag(2), "452.8", "Grams")):  # keyed into METRC's web UI
        sim.state.add_package(record)
    check = receiving_metrc.check_metrc(db, alex, manifest_id, client.active_packages())
    assert check.agrees and _outbox_status(db) is OutboxStatus.RESOLVED
    assert receiving.get_manifest(db, alex, manifest_id).lines[2].problem is None
    assert ScanProblem.IN_INVENTORY not in {ln.problem for ln in receiving.get_manifest(db, alex, manifest_id).lines}
