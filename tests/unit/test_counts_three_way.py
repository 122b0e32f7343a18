"""Three-way truth per package: a count line names every source that disagrees with the shelf
(the ledger, the POS snapshot, the METRC snapshot), what is pending to METRC, and the cause;
METRC is fixed from the line without touching the store's ledger. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import AuditEvent, CountMetrcFix, LedgerEntry, OutboxEntry, Package
from backoffice.domain.enums import LedgerKind, MetrcFixKind, OutboxKind, OutboxStatus
from backoffice.errors import PermissionDenied, RuleViolation, ValidationError
from backoffice.services import adjustments, counts, ledger, metrc_packages_import, sales_import
from backoffice.services.actor import Actor
from backoffice.services.counts import LineStatus, Scope
from tests.unit.test_sales_import import B_HEADER, write_csv

EDIBLES = "Edible (weight - each)"
GUMMY = "1A4060300000000000000002"  # Edible, Vault, 12 Each in the store and in METRC's sample list
OTHER = "1A4060300000000000000010"  # Edible, Vault, 24 Each


@pytest.fixture
def store(db: Database, actors: dict[str, Actor], samples: Path) -> Database:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    return db


def _metrc(samples: Path, **quantities: int) -> list[dict[str, Any]]:
    """METRC's active packages as the connector returns them, with some quantities changed (by tag)."""
    records = json.loads((samples / "metrc_packages_active.json").read_text())
    for record in records:
        if record["Label"] in quantities:
            record["Quantity"] = quantities[record["Label"]]
    return records


def _line(db: Database, actor: Actor, count_id: int, tag: str) -> counts.VarianceLine:
    return next(ln for ln in counts.variance_lines(db, actor, count_id) if ln.tag == tag)


def _quantity(db: Database, tag: str) -> Decimal:
    with db.read() as session:
        return session.scalar(select(Package.quantity).where(Package.tag == tag))


def _sale_metrc_never_heard_of(db: Database, alex: Actor, tmp_path: Path) -> None:
    """Yesterday the POS sold 2 gummies on receipt R7 and that sale never reached METRC; METRC's
    receipts of the day are in the store's records (receipt R6, another package)."""
    write_csv(
        tmp_path / "pos.csv",
        [
            B_HEADER,
            ["R6", "2026-11-20 10:00:00", OTHER, "x", "x", "1", "Each", "9.00"],
            ["R7", "2026-11-20 15:02:00", GUMMY, "x", "x", "2", "Each", "18.00"],
        ],
    )
    (tmp_path / "metrc.json").write_text(
        json.dumps(
            [
                {
                    "Id": 1,
                    "ReceiptNumber": "M1",
                    "ExternalReceiptNumber": "R6",
                    "SalesDateTime": "2026-11-20T10:00:00",
                    "SalesCustomerType": "Consumer",
                    "Transactions": [
                        {"PackageLabel": OTHER, "Quantity": 1, "UnitOfMeasure": "Each", "TotalAmount": 9.0}
                    ],
                }
            ]
        )
    )
    sales_import.import_pos_file(db, alex, tmp_path / "pos.csv")
    sales_import.import_metrc_file(db, alex, tmp_path / "metrc.json")


def test_a_sale_that_never_reached_metrc_is_not_a_match_and_names_the_receipt(
    store: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    alex, maria = actors["alex"], actors["maria"]
    _sale_metrc_never_heard_of(store, alex, tmp_path)
    assert _quantity(store, GUMMY) == 10  # the ledger took the sale
    info = counts.start_count(
        store,
        alex,
        "Gummies",
        Scope(categories=(EDIBLES,)),
        blind=False,
        metrc_packages_data=_metrc(samples, **{OTHER: 23}),
    )  # METRC still says 12
    counts.record_count(store, alex, info.id, GUMMY, 10)  # the shelf agrees with the ledger

    line = _line(store, alex, info.id, GUMMY)
    assert (line.counted, line.ledger, line.metrc, line.variance) == (10, 10, 12, 0)
    assert line.status is LineStatus.METRC_DIFFERS and line.status is not LineStatus.MATCH
    assert (line.metrc_vs_ledger, line.pending_metrc) == (2, -2)  # METRC + pending = the store's number
    (cause,) = line.causes
    assert cause.explained and "POS receipt R7" in cause.text and "never reached METRC" in cause.text
    assert not line.investigate and [p.receipt_number for p in line.pending] == ["R7"]

    options = counts.fix_options(store, maria, info.id, GUMMY)
    assert [r.receipt_number for r in options.receipts] == ["R7"] and options.suggested == 0
    with pytest.raises(RuleViolation, match="accounted for by what is pending"):  # not corrected twice
        counts.metrc_only_adjustment(store, maria, info.id, GUMMY, -2, "Inventory Audit", "count found 10")
    with pytest.raises(ValidationError, match="note"):
        counts.queue_missing_receipt(store, alex, info.id, GUMMY, "R7", "  ")
    with pytest.raises(RuleViolation, match="not a sale of"):
        counts.queue_missing_receipt(store, alex, info.id, GUMMY, "R6", "wrong receipt")

    fixed = counts.queue_missing_receipt(store, alex, info.id, GUMMY, "R7", "sale of 2 never synced")
    assert fixed.kind is MetrcFixKind.RECEIPT and fixed.quantity == -2
    with store.read() as session:
        entry = session.get(OutboxEntry, fixed.outbox_id)
        assert entry.kind is OutboxKind.SALES_RECEIPT and entry.status is OutboxStatus.PENDING
        assert "R7" in entry.payload and GUMMY in entry.payload
        assert (
            session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == "count.metrc_receipt"
        )
    assert _quantity(store, GUMMY) == 10  # the store's ledger is not touched
    line = _line(store, alex, info.id, GUMMY)
    assert line.status is LineStatus.RESOLVED and line.metrc_fixed == -2 and line.metrc_open == 0
    # queued twice is one outbox entry (reconciliation's key), and the line then has nothing left to queue
    assert counts.fix_options(store, maria, info.id, GUMMY).receipts == ()


def test_a_metrc_only_difference_with_no_cause_says_investigate(
    store: Database, actors: dict[str, Actor], samples: Path
) -> None:
    alex, maria = actors["alex"], actors["maria"]
    info = counts.start_count(
        store,
        alex,
        "Gummies",
        Scope(categories=(EDIBLES,)),
        blind=False,
        metrc_packages_data=_metrc(samples, **{GUMMY: 15}),
    )
    counts.record_count(store, alex, info.id, GUMMY, 12)
    line = _line(store, alex, info.id, GUMMY)
    assert line.status is LineStatus.METRC_DIFFERS and (line.metrc_vs_ledger, line.pending_metrc) == (3, 0)
    (cause,) = line.causes
    assert not cause.explained and "nothing explains it: investigate" in cause.text and "3 Each more" in cause.text
    assert line.investigate

    with pytest.raises(PermissionDenied, match="manager"):
        counts.metrc_only_adjustment(store, alex, info.id, GUMMY, -3, "Inventory Audit", "METRC had 3 extra")
    for quantity, problem in (("+1", "wrong way"), ("-4", "past it"), ("0", "changes nothing")):
        with pytest.raises((RuleViolation, ValidationError), match=problem.split()[-1]):
            counts.metrc_only_adjustment(store, maria, info.id, GUMMY, quantity, "Inventory Audit", "x")
    with pytest.raises(ValidationError, match="not one of this state's"):
        counts.metrc_only_adjustment(store, maria, info.id, GUMMY, -3, "Whatever", "x")
    with pytest.raises(ValidationError, match="200"):
        counts.metrc_only_adjustment(store, maria, info.id, GUMMY, -3, "Inventory Audit", "x" * 201)

    done = counts.metrc_only_adjustment(store, maria, info.id, GUMMY, -3, "Inventory Audit", "METRC had 3 extra")
    assert _quantity(store, GUMMY) == 12  # METRC only: no ledger row, no inventory adjustment
    with store.read() as session:
        entry = session.get(OutboxEntry, done.outbox_id)
        (element,) = json.loads(entry.payload)
        assert entry.kind is OutboxKind.ADJUST and element["Label"] == GUMMY and Decimal(element["Quantity"]) == -3
        assert element["AdjustmentReason"] == "Inventory Audit" and element["ReasonNote"] == "METRC had 3 extra"
        assert (
            session.scalar(select(LedgerEntry.kind).order_by(LedgerEntry.id.desc()).limit(1))
            is not LedgerKind.ADJUSTMENT
        )
        assert session.scalar(select(CountMetrcFix.kind)) is MetrcFixKind.ADJUSTMENT
        event = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        assert event.action == "package.metrc_adjust" and "Inventory Audit" in (event.reason or "")
    line = _line(store, alex, info.id, GUMMY)
    assert line.status is LineStatus.RESOLVED and (line.metrc_fixed, line.metrc_open) == (-3, 0)


def test_a_pending_adjustment_explains_metrc(store: Database, actors: dict[str, Actor], samples: Path) -> None:
    alex, maria = actors["alex"], actors["maria"]
    adjusted = adjustments.adjust(store, alex, GUMMY, "-2", "Theft", "two gone from the bin")  # METRC not told yet
    info = counts.start_count(
        store, alex, "Gummies", Scope(categories=(EDIBLES,)), blind=False, metrc_packages_data=_metrc(samples)
    )
    counts.record_count(store, alex, info.id, GUMMY, 10)
    line = _line(store, alex, info.id, GUMMY)
    assert line.status is LineStatus.METRC_DIFFERS and (line.metrc_vs_ledger, line.pending_metrc) == (2, -2)
    (cause,) = line.causes
    assert cause.explained and f"outbox (#{adjusted.outbox_id})" in cause.text and "waiting" in cause.text
    assert "adjustment -2 Each (Theft)" in cause.text

    with store.transaction() as session:  # METRC refused it: the line says so
        entry = session.get(OutboxEntry, adjusted.outbox_id)
        entry.status, entry.last_error = OutboxStatus.FAILED, "Package is on hold"
    (cause,) = _line(store, alex, info.id, GUMMY).causes
    assert "failed (Package is on hold)" in cause.text
    with pytest.raises(RuleViolation, match="retry"):
        counts.metrc_only_adjustment(store, maria, info.id, GUMMY, -2, "Inventory Audit", "x")


def test_a_sale_during_the_count(store: Database, actors: dict[str, Actor], samples: Path) -> None:
    alex = actors["alex"]
    info = counts.start_count(
        store, alex, "Gummies", Scope(categories=(EDIBLES,)), blind=False, metrc_packages_data=_metrc(samples)
    )

    def sell(tag: str, quantity: int) -> None:
        with store.transaction() as session:
            pkg = session.scalar(select(Package).where(Package.tag == tag))
            ledger.post(session, alex, pkg, LedgerKind.SALE, Decimal(-quantity), ledger.Doc("pos_sale_line", None))

    sell(GUMMY, 3)  # sold after the snapshot, before the counter got there: every source expects 9 now
    counts.record_count(store, alex, info.id, GUMMY, 9)
    line = _line(store, alex, info.id, GUMMY)
    assert line.status is LineStatus.MATCH and line.sold_since == 3 and line.causes == ()

    counts.record_count(store, alex, info.id, OTHER, 23)
    sell(OTHER, 1)  # rung up a minute after the shelf was counted: the unit had already gone
    line = _line(store, alex, info.id, OTHER)
    assert line.status is LineStatus.SHORT and line.variance == -1
    (cause,) = line.causes
    assert cause.explained and "a sale of 1" in cause.text and "after this package was counted" in cause.text


def test_a_package_where_everything_agrees_stays_a_match(
    store: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    alex, maria = actors["alex"], actors["maria"]
    write_csv(tmp_path / "pos.csv", [["Package ID", "On Hand"], [GUMMY, "12"], [OTHER, "24"]])
    info = counts.start_count(
        store,
        alex,
        "Gummies",
        Scope(categories=(EDIBLES,)),
        pos_file=tmp_path / "pos.csv",
        metrc_packages_data=_metrc(samples, **{OTHER: 20}),
    )
    counts.record_count(store, alex, info.id, GUMMY, 12)
    counts.record_count(store, alex, info.id, OTHER, 23)
    # blind: the counter sees neither statuses nor causes until submit
    hidden = _line(store, alex, info.id, OTHER)
    assert hidden.status is LineStatus.COUNTED and hidden.causes == () and hidden.pending_metrc is None
    line = _line(store, maria, info.id, GUMMY)
    assert line.status is LineStatus.MATCH and (line.variance_pos, line.variance_metrc) == (0, 0)
    assert line.causes == () and line.pending_metrc == 0
    several = _line(store, maria, info.id, OTHER)  # one short on the shelf, and METRC 4 under the ledger
    assert several.status is LineStatus.SEVERAL and {c.source.value for c in several.causes} == {"ledger", "METRC"}

    done = counts.submit(store, alex, info.id, uncounted_as_zero=True)
    assert done.metrc_lines_compared == done.lines_counted and done.metrc_lines_agreeing is not None
    assert _line(store, alex, info.id, GUMMY).status is LineStatus.MATCH  # shown to everyone after submit


def test_only_days_with_metrc_receipts_count_as_unreported(
    store: Database, actors: dict[str, Actor], tmp_path: Path
) -> None:
    """A POS sale on a day whose METRC receipts the store holds, but not this one, never reached
    METRC; a sale on a day with no METRC receipts at all proves nothing (they were not fetched)."""
    from backoffice.domain.units import Unit
    from backoffice.services import metrc_pending

    _sale_metrc_never_heard_of(store, actors["alex"], tmp_path)  # 2026-11-20: R6 in METRC, R7 not
    write_csv(tmp_path / "later.csv", [B_HEADER, ["R9", "2026-11-22 11:00:00", GUMMY, "x", "x", "1", "Each", "9.00"]])
    sales_import.import_pos_file(store, actors["alex"], tmp_path / "later.csv")  # no METRC receipts that day
    with store.read() as session:
        found = metrc_pending.unreported_sales(session, [GUMMY, OTHER], {GUMMY: Unit.EACH, OTHER: Unit.EACH})
    assert list(found) == [GUMMY] and [p.receipt_number for p in found[GUMMY]] == ["R7"]
    assert found[GUMMY][0].quantity == -2
