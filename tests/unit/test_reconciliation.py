"""Reconciling a business day: the planted differences and nothing else, idempotent re-runs,
resolution with an action and a note (queueing the missing receipt for METRC), carried-over
findings, and sales off the floor or of tags the store does not know."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.db.engine import Database
from backoffice.db.models import AuditEvent, Finding, OutboxEntry
from backoffice.domain.enums import FindingKind, FindingStatus, OutboxKind, OutboxStatus
from backoffice.errors import PermissionDenied, RuleViolation, ValidationError
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.simulator import (
    DEFAULT_USER_KEY,
    DEFAULT_VENDOR_KEY,
    MetrcSimulator,
)
from backoffice.services import (
    audit,
    metrc_connection,
    metrc_sync,
    reconciliation,
    sales_import,
    transfers,
)
from backoffice.services.actor import SYSTEM, Actor
from backoffice.services.reconciliation import Resolution
from tests.unit.test_sales_import import B_HEADER, DAY, store, write_csv  # noqa: F401 — `store` is a fixture

MISSING = (FindingKind.MISSING_IN_METRC, "R1120-0019", "1A4060300000000000000096")
OVER_DEDUCTED = (FindingKind.QUANTITY_MISMATCH, "R1120-0039", "1A4060300000000000000087")


@pytest.fixture(params=["pos_sales_export_a.csv", "pos_sales_export_b.csv"])
def day_in(request: pytest.FixtureRequest, store: tuple[Database, Actor], samples: Path) -> tuple[Database, Actor]:
    """The sample day imported: a POS export in either layout and METRC's receipts."""
    db, alex = store
    sales_import.import_pos_file(db, alex, samples / request.param)
    sales_import.import_metrc_file(db, alex, samples / "metrc_sales_receipts.json")
    return db, alex


def _keys(view: reconciliation.DayView) -> list[tuple[FindingKind, str, str]]:
    return [(f.kind, f.receipt_number, f.tag) for f in view.findings]


def _finding(view: reconciliation.DayView, key: tuple[FindingKind, str, str]) -> reconciliation.FindingRow:
    return next(f for f in view.findings if (f.kind, f.receipt_number, f.tag) == key)


def test_the_planted_differences_are_found_and_nothing_else(day_in: tuple[Database, Actor]) -> None:
    db, alex = day_in
    view = reconciliation.reconcile_day(db, alex, DAY)
    assert _keys(view) == [MISSING, OVER_DEDUCTED]
    missing, over = view.findings
    assert (missing.pos_quantity, missing.pos_amount, missing.metrc_quantity) == (1, Decimal("37.00"), None)
    assert missing.detail.startswith("POS receipt R1120-0019 at 11:17 sold 1 Each")  # the store's clock
    assert missing.item == "Kind Harvest Blue Dream Tincture 30ml 1:1"
    assert (over.pos_quantity, over.metrc_quantity) == (1, 2)
    assert "METRC deducted 2 Each (1 Each more than was sold)" in over.detail
    assert all(f.status is FindingStatus.OPEN and not f.carried for f in view.findings)
    s = view.summary
    assert (s.pos_receipts, s.pos_lines, s.pos_amount) == (40, 76, Decimal("2208.00"))
    assert (s.metrc_receipts, s.metrc_lines, s.metrc_amount) == (39, 75, Decimal("2171.00"))
    assert (view.new, view.cleared, s.open, s.carried_open) == (2, 0, 2, 0)
    assert "Findings: Sale missing in METRC 1 · Quantity differs 1; 2 open" in s.text


def test_running_a_day_again_changes_nothing(day_in: tuple[Database, Actor]) -> None:
    db, alex = day_in
    first = reconciliation.reconcile_day(db, alex, DAY)
    again = reconciliation.reconcile_day(db, alex, DAY)
    assert [f.id for f in again.findings] == [f.id for f in first.findings]
    assert (again.new, again.cleared) == (0, 0)
    assert reconciliation.day_view(db, SYSTEM, DAY).findings == again.findings
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Finding)) == 2
        assert session.scalar(select(func.count()).where(AuditEvent.action == "reconcile.day")) == 2


def test_a_difference_fixed_at_the_source_is_cleared_and_comes_back_if_it_returns(
    day_in: tuple[Database, Actor], samples: Path, tmp_path: Path
) -> None:
    db, alex = day_in
    reconciliation.reconcile_day(db, alex, DAY)
    receipts = json.loads((samples / "metrc_sales_receipts.json").read_text())
    fixed = next(r for r in receipts if r["ReceiptNumber"] == "R1120-0039")
    next(t for t in fixed["Transactions"] if t["PackageLabel"] == OVER_DEDUCTED[2])["Quantity"] = 1.0
    (tmp_path / "fixed.json").write_text(json.dumps(receipts))
    assert sales_import.import_metrc_file(db, alex, tmp_path / "fixed.json").updated == 1

    view = reconciliation.reconcile_day(db, alex, DAY)
    assert (view.new, view.cleared) == (0, 1)
    cleared = _finding(view, OVER_DEDUCTED)
    assert (cleared.status, cleared.resolution, cleared.resolved_by) == (
        FindingStatus.RESOLVED,
        Resolution.CLEARED,
        "alex",
    )
    assert _finding(view, MISSING).status is FindingStatus.OPEN and view.summary.open == 1

    sales_import.import_metrc_file(db, alex, samples / "metrc_sales_receipts.json")  # METRC wrong again
    back = reconciliation.reconcile_day(db, alex, DAY)
    assert _finding(back, OVER_DEDUCTED).status is FindingStatus.OPEN and _finding(back, OVER_DEDUCTED).note is None


def test_queue_the_missing_receipt_for_metrc(day_in: tuple[Database, Actor], actors: dict[str, Actor]) -> None:
    db, alex = day_in
    view = reconciliation.reconcile_day(db, alex, DAY)
    missing, over = _finding(view, MISSING), _finding(view, OVER_DEDUCTED)
    assert reconciliation.actions_for(db, SYSTEM, missing.id) == [Resolution.QUEUE_RECEIPT, Resolution.EXPLAINED]
    assert reconciliation.actions_for(db, SYSTEM, over.id) == [Resolution.EXPLAINED]  # METRC has that receipt

    result = reconciliation.resolve(db, alex, missing.id, Resolution.QUEUE_RECEIPT, "POS sync failed at 11:17")

    assert result.resolved == [missing.id] and result.outbox_id is not None
    with db.read() as session:
        entry = session.get(OutboxEntry, result.outbox_id)
    assert (entry.kind, entry.endpoint, entry.status) == (
        OutboxKind.SALES_RECEIPT,
        "sales/v1/receipts",
        OutboxStatus.PENDING,
    )
    assert json.loads(entry.payload) == [
        {
            "SalesDateTime": "2026-11-20T11:17:00",
            "SalesCustomerType": "Consumer",
            "ExternalReceiptNumber": "R1120-0019",
            "Transactions": [
                {"PackageLabel": MISSING[2], "Quantity": "1", "UnitOfMeasure": "Each", "TotalAmount": "37.00"}
            ],
        }
    ]
    done = _finding(reconciliation.day_view(db, SYSTEM, DAY), MISSING)
    assert (done.status, done.resolution, done.note, done.resolved_by, done.outbox_id) == (
        FindingStatus.RESOLVED,
        Resolution.QUEUE_RECEIPT,
        "POS sync failed at 11:17",
        "alex",
        result.outbox_id,
    )
    assert reconciliation.actions_for(db, SYSTEM, missing.id) == []
    with pytest.raises(RuleViolation, match="already resolved"):
        reconciliation.resolve(db, alex, missing.id, Resolution.EXPLAINED, "again")
    with pytest.raises(RuleViolation, match="only a sale missing in METRC can be queued"):
        reconciliation.resolve(db, alex, over.id, Resolution.QUEUE_RECEIPT, "queue it")
    # METRC has not got the sale yet, but the resolution stands when the day is run again
    rerun = reconciliation.reconcile_day(db, alex, DAY)
    assert _finding(rerun, MISSING).status is FindingStatus.RESOLVED and rerun.summary.open == 1
    assert audit.verify(db, SYSTEM).ok


def test_a_line_missing_from_a_receipt_metrc_has_is_not_queued_again(
    store: tuple[Database, Actor], tmp_path: Path
) -> None:
    db, alex = store
    tags = ["1A4060300000000000000009", "1A4060300000000000000048"]
    header = B_HEADER
    write_csv(
        tmp_path / "pos.csv",
        [header, *(["R1", "2026-11-20 10:00:00", t, "x", "x", "1", "Each", "10.00"] for t in tags)],
    )
    (tmp_path / "metrc.json").write_text(
        json.dumps(
            [
                {
                    "Id": 1,
                    "ReceiptNumber": "R1",
                    "SalesDateTime": "2026-11-20T10:00:00",
                    "SalesCustomerType": "Consumer",
                    "Transactions": [
                        {"PackageLabel": tags[0], "Quantity": 1, "UnitOfMeasure": "Each", "TotalAmount": 10.0}
                    ],
                }
            ]
        )
    )
    sales_import.import_pos_file(db, alex, tmp_path / "pos.csv")
    sales_import.import_metrc_file(db, alex, tmp_path / "metrc.json")
    view = reconciliation.reconcile_day(db, alex, DAY)
    assert _keys(view) == [(FindingKind.MISSING_IN_METRC, "R1", tags[1])]
    assert reconciliation.actions_for(db, SYSTEM, view.findings[0].id) == [Resolution.EXPLAINED]
    with pytest.raises(RuleViolation, match="METRC already has a receipt numbered R1, so a second one would be"):
        reconciliation.resolve(db, alex, view.findings[0].id, Resolution.QUEUE_RECEIPT, "queue it")


def test_resolving_needs_an_action_a_note_and_the_permission(
    day_in: tuple[Database, Actor], actors: dict[str, Actor]
) -> None:
    db, alex = day_in
    over = _finding(reconciliation.reconcile_day(db, alex, DAY), OVER_DEDUCTED)
    with pytest.raises(ValidationError, match="write a note"):
        reconciliation.resolve(db, alex, over.id, Resolution.EXPLAINED, "   ")
    with pytest.raises(ValidationError, match="keep it to 400"):
        reconciliation.resolve(db, alex, over.id, Resolution.EXPLAINED, "x" * 401)
    with pytest.raises(ValidationError, match="set by reconciling again"):
        reconciliation.resolve(db, alex, over.id, Resolution.CLEARED, "gone")
    with pytest.raises(ValidationError, match="'fix' is not a way to resolve"):
        reconciliation.resolve(db, alex, over.id, "fix", "gone")
    with pytest.raises(PermissionDenied):
        reconciliation.resolve(db, actors["pat"], over.id, Resolution.EXPLAINED, "counted: POS is right")
    with pytest.raises(PermissionDenied):
        reconciliation.reconcile_day(db, actors["pat"], DAY)
    result = reconciliation.resolve(db, alex, over.id, "explained", "Counted the shelf: POS right; METRC fixed")
    assert result.outbox_id is None
    assert _finding(reconciliation.day_view(db, SYSTEM, DAY), OVER_DEDUCTED).resolution is Resolution.EXPLAINED


def test_open_findings_carry_into_the_next_days_view(day_in: tuple[Database, Actor]) -> None:
    db, alex = day_in
    first = reconciliation.reconcile_day(db, alex, DAY)
    next_day = reconciliation.reconcile_day(db, alex, DAY + timedelta(days=1))
    assert _keys(next_day) == [MISSING, OVER_DEDUCTED]
    assert all(f.carried and f.business_date == DAY for f in next_day.findings)
    assert (next_day.summary.open, next_day.summary.carried_open, next_day.summary.pos_lines) == (0, 2, 0)
    reconciliation.resolve(db, alex, _finding(first, MISSING).id, Resolution.EXPLAINED, "sent by hand in METRC")
    later = reconciliation.day_view(db, SYSTEM, DAY + timedelta(days=2))
    assert _keys(later) == [OVER_DEDUCTED] and later.summary.carried_open == 1
    assert len(reconciliation.day_view(db, SYSTEM, DAY).findings) == 2  # the day itself still shows both


def _vault_tags(samples: Path) -> list[str]:
    return [
        r["Label"]
        for r in json.loads((samples / "metrc_packages_active.json").read_text())
        if r["LocationName"] == "Vault" and r["LabTestingState"] == "TestPassed" and not r["IsOnHold"]
    ]


def test_sales_off_the_floor_and_of_unknown_tags(store: tuple[Database, Actor], samples: Path, tmp_path: Path) -> None:
    db, alex = store
    floor_tag = "1A4060300000000000000009"
    in_vault, moved_up = _vault_tags(samples)[:2]
    stray = "1A4060300000000000099999"
    sales = [("R1", floor_tag), ("R2", in_vault), ("R3", moved_up), ("R4", stray)]
    header = B_HEADER
    write_csv(
        tmp_path / "pos.csv",
        [header, *([n, "2026-11-20 10:00:00", t, "x", "x", "1", "Each", "10.00"] for n, t in sales)],
    )
    (tmp_path / "metrc.json").write_text(
        json.dumps(
            [
                {
                    "Id": i,
                    "ReceiptNumber": n,
                    "SalesDateTime": "2026-11-20T10:00:00",
                    "SalesCustomerType": "Consumer",
                    "Transactions": [{"PackageLabel": t, "Quantity": 1, "UnitOfMeasure": "Each", "TotalAmount": 10.0}],
                }
                for i, (n, t) in enumerate(sales, start=1)
            ]
        )
    )
    sales_import.import_pos_file(db, alex, tmp_path / "pos.csv")
    sales_import.import_metrc_file(db, alex, tmp_path / "metrc.json")
    # after the sales: the floor package goes back to the vault, a vault package up to the floor
    for tag, source, destination in ((floor_tag, "Sales Floor", "Vault"), (moved_up, "Vault", "Sales Floor")):
        transfers.record(db, alex, transfers.create_transfer(db, alex, source, destination, [tag]).id)

    view = reconciliation.reconcile_day(db, alex, DAY)

    # where each package was when it was sold counts, not where it is now
    assert sorted(_keys(view)) == sorted(
        [
            (FindingKind.NOT_ON_FLOOR, "R2", in_vault),
            (FindingKind.NOT_ON_FLOOR, "R3", moved_up),
            (FindingKind.UNKNOWN_TAG, "R4", stray),
        ]
    )
    assert "not on the sales floor" in _finding(view, (FindingKind.NOT_ON_FLOOR, "R2", in_vault)).detail
    assert _finding(view, (FindingKind.UNKNOWN_TAG, "R4", stray)).item == "x"  # no package: the POS file's name


@pytest.fixture
def sim(samples: Path) -> Iterator[MetrcSimulator]:
    with MetrcSimulator(seed_dir=samples) as simulator:
        yield simulator


def test_a_queued_receipt_reaches_metrc_and_the_fetched_day_agrees(
    day_in: tuple[Database, Actor], sim: MetrcSimulator
) -> None:
    db, alex = day_in
    missing = _finding(reconciliation.reconcile_day(db, alex, DAY), MISSING)
    reconciliation.resolve(db, alex, missing.id, Resolution.QUEUE_RECEIPT, "POS sync failed")
    with MetrcClient(sim.url, sim.license_number, DEFAULT_VENDOR_KEY, DEFAULT_USER_KEY, timeout=5) as client:
        assert metrc_sync.sync(db, metrc_connection.sender_for(client)).sent == 1
        fetched = sales_import.fetch_metrc_receipts(db, alex, DAY, client)
    assert (fetched.receipts, fetched.added, fetched.unchanged) == (40, 1, 39)
    assert [r["ExternalReceiptNumber"] for batch in sim.applied("sales/v1/receipts") for r in batch] == ["R1120-0019"]
    view = reconciliation.reconcile_day(db, alex, DAY)
    assert _finding(view, MISSING).resolution is Resolution.QUEUE_RECEIPT
    assert [f.kind for f in view.findings if f.status is FindingStatus.OPEN] == [FindingKind.QUANTITY_MISMATCH]
    assert view.summary.metrc_receipts == 40
