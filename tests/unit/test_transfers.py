"""Transfer-before-move and the transfer document's rules, without a GUI."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from backoffice.db.engine import Database
from backoffice.db.models import (
    Item,
    LedgerEntry,
    OutboxEntry,
    Package,
    SalesDaily,
    TagPoolEntry,
)
from backoffice.domain.enums import (
    LabState,
    LedgerKind,
    OutboxKind,
    PackageStatus,
    QuantityType,
    TransferStatus,
)
from backoffice.errors import NotFound, PermissionDenied, RuleViolation, ValidationError
from backoffice.services import (
    audit,
    ledger,
    locations,
    metrc_packages_import,
    replenishment,
    transfers,
)
from backoffice.services.actor import SYSTEM, Actor


@pytest.fixture
def vault_tags(db: Database, actors: dict[str, Actor], samples: Path) -> list[str]:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    locations.add_location(db, actors["admin"], "Quarantine", "quarantine")
    records = json.loads((samples / "metrc_packages_active.json").read_text())
    return [
        r["Label"]
        for r in records
        if r["LocationName"] == "Vault" and r["LabTestingState"] == "TestPassed" and not r["IsOnHold"]
    ]


def _pkg(db: Database, tag: str) -> Package:
    with db.read() as session:
        return session.scalar(select(Package).where(Package.tag == tag))


def test_record_then_move_changes_location_first_and_queues_metrc(
    db: Database, actors: dict[str, Actor], vault_tags: list[str]
) -> None:
    alex = actors["alex"]
    draft = transfers.create_transfer(db, alex, "Vault", "Sales Floor", vault_tags[:2])
    assert draft.status is TransferStatus.DRAFT and _pkg(db, vault_tags[0]).location.name == "Vault"
    recorded = transfers.record(db, alex, draft.id)
    assert recorded.status is TransferStatus.RECORDED
    assert _pkg(db, vault_tags[0]).location.name == "Sales Floor"  # digital change comes first
    with db.read() as session:
        entry = session.scalar(select(OutboxEntry).where(OutboxEntry.kind == OutboxKind.CHANGE_LOCATION))
        assert [e["Label"] for e in json.loads(entry.payload)] == vault_tags[:2]
        assert json.loads(entry.payload)[0]["Location"] == "Sales Floor"
        moves = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.TRANSFER)).all()
        assert len(moves) == 2 and all(m.quantity_delta == 0 for m in moves)
    first = transfers.confirm_arrival(db, alex, vault_tags[0], "Sales Floor")
    assert first.status is TransferStatus.RECORDED and first.moved_count == 1
    done = transfers.confirm_arrival(db, alex, vault_tags[1], "Sales Floor")
    assert done.status is TransferStatus.MOVED
    assert ledger.check_balances(db, SYSTEM) == [] and audit.verify(db, SYSTEM).ok


def test_scan_at_floor_without_recorded_transfer_is_refused(
    db: Database, actors: dict[str, Actor], vault_tags: list[str]
) -> None:
    with pytest.raises(transfers.NotRecorded, match="no recorded transfer") as err:
        transfers.confirm_arrival(db, actors["alex"], vault_tags[0], "Sales Floor")
    assert (err.value.from_location, err.value.to_location) == ("Vault", "Sales Floor")
    # the one-click path: create and record, then the scan is accepted
    transfers.record_now(db, actors["alex"], vault_tags[0], "Vault", "Sales Floor")
    assert transfers.confirm_arrival(db, actors["alex"], vault_tags[0], "Sales Floor").status is TransferStatus.MOVED


def test_moved_confirmation_for_a_draft_is_refused(
    db: Database, actors: dict[str, Actor], vault_tags: list[str]
) -> None:
    draft = transfers.create_transfer(db, actors["alex"], "Vault", "Sales Floor", vault_tags[:1])
    with pytest.raises(transfers.NotRecorded, match="still a draft") as err:
        transfers.confirm_arrival(db, actors["alex"], vault_tags[0], "Sales Floor")
    assert err.value.draft_transfer_id == draft.id


def test_package_cannot_be_in_two_open_transfers(db: Database, actors: dict[str, Actor], vault_tags: list[str]) -> None:
    first = transfers.create_transfer(db, actors["alex"], "Vault", "Sales Floor", vault_tags[:1])
    with pytest.raises(RuleViolation, match=f"already on open transfer #{first.id}"):
        transfers.create_transfer(db, actors["alex"], "Vault", "Quarantine", vault_tags[:1])


def test_floor_refuses_failed_lab_and_on_hold(db: Database, actors: dict[str, Actor], vault_tags: list[str]) -> None:
    with db.transaction() as session:
        pkg = session.scalar(select(Package).where(Package.tag == vault_tags[0]))
        pkg.lab_state = LabState.TEST_FAILED
        held = session.scalar(select(Package).where(Package.tag == vault_tags[1]))
        held.status = PackageStatus.ON_HOLD
    with pytest.raises(RuleViolation, match="lab state TestFailed"):
        transfers.create_transfer(db, actors["alex"], "Vault", "Sales Floor", vault_tags[:1])
    with pytest.raises(RuleViolation, match="on hold"):
        transfers.create_transfer(db, actors["alex"], "Vault", "Sales Floor", vault_tags[1:2])
    # quarantine is allowed for failed product
    assert (
        transfers.create_transfer(db, actors["alex"], "Vault", "Quarantine", vault_tags[:1]).status
        is TransferStatus.DRAFT
    )


def test_wrong_source_destination_and_unknowns(db: Database, actors: dict[str, Actor], vault_tags: list[str]) -> None:
    with pytest.raises(RuleViolation, match="is in Vault, not in Sales Floor"):
        transfers.create_transfer(db, actors["alex"], "Sales Floor", "Vault", vault_tags[:1])
    with pytest.raises(NotFound, match="there is no location 'Attic'"):
        transfers.create_transfer(db, actors["alex"], "Vault", "Attic", vault_tags[:1])
    with pytest.raises(NotFound, match="not in this store's inventory"):
        transfers.create_transfer(db, actors["alex"], "Vault", "Sales Floor", ["1A4060300000000000099999"])
    with pytest.raises(ValidationError, match="two different locations"):
        transfers.create_transfer(db, actors["alex"], "Vault", "Vault", vault_tags[:1])
    with pytest.raises(PermissionDenied):
        transfers.create_transfer(db, actors["pat"], "Vault", "Sales Floor", vault_tags[:1])


def test_recorded_transfer_cannot_be_edited_or_cancelled(
    db: Database, actors: dict[str, Actor], vault_tags: list[str]
) -> None:
    t = transfers.record(
        db, actors["alex"], transfers.create_transfer(db, actors["alex"], "Vault", "Sales Floor", vault_tags[:1]).id
    )
    with pytest.raises(RuleViolation, match="only a draft"):
        transfers.add_package(db, actors["alex"], t.id, vault_tags[1])
    with pytest.raises(RuleViolation, match="only a draft"):
        transfers.cancel(db, actors["alex"], t.id, reason="oops")
    with pytest.raises(RuleViolation, match="only a draft"):
        transfers.record(db, actors["alex"], t.id)


def test_split_takes_a_pool_tag_and_balances(db: Database, actors: dict[str, Actor], vault_tags: list[str]) -> None:
    with db.transaction() as session:
        session.execute(insert(TagPoolEntry), [{"tag": "1A4060300000000000090001"}])
    source = _pkg(db, vault_tags[0])
    draft = transfers.create_transfer(db, actors["alex"], "Vault", "Sales Floor", [])
    half = (source.quantity / 2).quantize(Decimal("0.0001"))
    info = transfers.split_into(db, actors["alex"], draft.id, source.tag, half)
    assert info.lines[0].tag == "1A4060300000000000090001" and info.lines[0].split_from == source.tag
    assert _pkg(db, source.tag).quantity == source.quantity - half
    assert _pkg(db, "1A4060300000000000090001").quantity == half
    assert ledger.check_balances(db, SYSTEM) == []
    with pytest.raises(RuleViolation, match="tag pool is empty"):
        transfers.split_into(db, actors["alex"], draft.id, vault_tags[1], Decimal("1"))
    with pytest.raises(ValidationError, match="less than the package"):
        transfers.split_into(db, actors["alex"], draft.id, vault_tags[2], Decimal("100000"))


def test_replenishment_picks_first_expired_vault_packages(
    db: Database, actors: dict[str, Actor], vault_tags: list[str]
) -> None:
    today = date(2026, 11, 21)
    with db.transaction() as session:
        pkg = session.scalar(select(Package).where(Package.tag == vault_tags[0]))
        item = session.get(Item, pkg.item_id)
        on_floor = sum(
            (
                p.quantity
                for p in session.scalars(
                    select(Package).where(
                        Package.item_id == item.id,
                        Package.location.has(name="Sales Floor"),
                        Package.status == PackageStatus.ACTIVE,
                    )
                )
            ),
            Decimal(0),
        )
        item.floor_par = on_floor + 10  # the floor is 10 short of par
        session.add(
            SalesDaily(
                item_id=item.id, day=today - timedelta(days=1), units=Decimal(56), revenue=Decimal(100), lines=20
            )
        )
        same_item = session.scalars(
            select(Package)
            .where(
                Package.item_id == item.id, Package.location.has(name="Vault"), Package.status == PackageStatus.ACTIVE
            )
            .order_by(Package.expiration_date)
        ).all()
    suggestions = [s for s in replenishment.suggest(db, SYSTEM, today=today) if s.item_id == item.id]
    assert len(suggestions) == 1
    s = suggestions[0]
    assert s.daily_velocity == Decimal(2) and s.tags[0] == same_item[0].tag  # earliest expiry first
    assert s.need == Decimal(10) and f"par {(on_floor + 10).normalize():f}" in s.why and "2.00/day" in s.why
    draft = replenishment.create_from(db, actors["alex"], [s], from_location="Vault", to_location="Sales Floor")
    assert [line.tag for line in draft.lines] == s.tags


def test_replenishment_asks_for_whole_units_of_an_item_sold_by_the_each(
    db: Database, actors: dict[str, Actor], vault_tags: list[str]
) -> None:
    with db.transaction() as session:
        pkg = session.scalar(select(Package).where(Package.tag == vault_tags[0]))
        item = session.get(Item, pkg.item_id)
        assert item.quantity_type is QuantityType.COUNT_BASED
        on_floor = sum(
            (
                p.quantity
                for p in session.scalars(
                    select(Package).where(
                        Package.item_id == item.id,
                        Package.location.has(name="Sales Floor"),
                        Package.status == PackageStatus.ACTIVE,
                    )
                )
            ),
            Decimal(0),
        )
        item.floor_par = on_floor + Decimal("4.54")  # a par worked out from a fractional velocity
    (s,) = [s for s in replenishment.suggest(db, SYSTEM, today=date(2026, 11, 21)) if s.item_id == item.id]
    assert s.need == Decimal(5)  # five of them go to the floor, not 4.54
    assert "(whole units)" in s.why and "need 5;" in s.why and "4.54" not in s.why.split("=")[1]


def test_sell_soon_lists_by_expiry(db: Database, actors: dict[str, Actor], vault_tags: list[str]) -> None:
    notes = replenishment.sell_soon(db, SYSTEM, today=date(2027, 12, 31), within_days=0)
    dates = [n.on for n in notes]
    assert dates == sorted(dates) and notes


def test_a_package_moved_to_the_floor_leaves_its_vault_bin(
    db: Database, actors: dict[str, Actor], vault_tags: list[str]
) -> None:
    with db.transaction() as session:
        session.scalar(select(Package).where(Package.tag == vault_tags[0])).bin = "V-TIN-28"
    transfers.record(
        db, actors["alex"], transfers.create_transfer(db, actors["alex"], "Vault", "Sales Floor", [vault_tags[0]]).id
    )
    assert _pkg(db, vault_tags[0]).bin is None  # not "Sales Floor · V-TIN-28"
    transfers.confirm_arrival(db, actors["alex"], vault_tags[0], "Sales Floor")
    assert _pkg(db, vault_tags[0]).bin is None and _pkg(db, vault_tags[0]).location.name == "Sales Floor"
