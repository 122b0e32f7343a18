"""Adjustments on SQLite and PostgreSQL: METRC's rules, the approval threshold, reasons, and
the adjustment + ledger + audit + outbox written together or not at all."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.db.engine import Database
from backoffice.db.models import (
    Adjustment,
    AdjustmentReason,
    AuditEvent,
    LedgerEntry,
    OutboxEntry,
    Package,
)
from backoffice.domain.enums import LedgerKind, OutboxKind, PackageStatus
from backoffice.errors import (
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from backoffice.services import (
    adjustments,
    audit,
    ledger,
    metrc_packages_import,
    outbox,
    prices,
    settings,
)
from backoffice.services.actor import SYSTEM, Actor

GUMMY = "1A4060300000000000000002"  # 12 Each, packaged 2026-09-22 or so
FLOWER = "1A4060300000000000000008"  # 113.4 Grams


@pytest.fixture
def store(db: Database, actors: dict[str, Actor], samples: Path) -> Database:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    return db


def _package(db: Database, tag: str) -> Package:
    with db.read() as session:
        return session.scalar(select(Package).where(Package.tag == tag))


def _counts(db: Database) -> tuple[int, int, int, int]:
    with db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Adjustment)) or 0,
            session.scalar(
                select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == LedgerKind.ADJUSTMENT)
            )
            or 0,
            session.scalar(select(func.count()).select_from(OutboxEntry)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "package.adjust"))
            or 0,
        )


def test_an_adjustment_writes_row_ledger_audit_and_metrc_call_together(
    store: Database, actors: dict[str, Actor]
) -> None:
    result = adjustments.adjust(store, actors["alex"], GUMMY, "-2", "Theft", "  two missing from the vault bin ")
    assert (result.before, result.delta, result.after) == (12, -2, 10)
    assert result.note == "two missing from the vault bin" and result.approved_by is None
    assert _package(store, GUMMY).quantity == 10
    assert ledger.check_balances(store, SYSTEM) == []
    assert audit.verify(store, SYSTEM).ok
    with store.read() as session:
        row = session.get(Adjustment, result.id)
        entry = session.get(OutboxEntry, result.outbox_id)
        posted = session.scalar(
            select(LedgerEntry).where(LedgerEntry.doc_type == "adjustment", LedgerEntry.doc_id == result.id)
        )
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "package.adjust"))
    assert row.outbox_id == entry.id and row.user_id == actors["alex"].user_id and row.reason == "Theft"
    assert posted.quantity_delta == -2 and posted.kind is LedgerKind.ADJUSTMENT
    assert entry.kind is OutboxKind.ADJUST and entry.endpoint == "packages/v1/adjust"
    assert outbox.payload_of(entry) == [
        {
            "Label": GUMMY,
            "Quantity": "-2",
            "UnitOfMeasure": "Each",
            "AdjustmentReason": "Theft",
            "AdjustmentDate": result.adjustment_date.isoformat(),
            "ReasonNote": "two missing from the vault bin",
        }
    ]
    assert event.entity_id == GUMMY and json.loads(event.after)["quantity"] == "10.0000"
    assert result.changes & result.changes.INVENTORY and result.changes & result.changes.OUTBOX


def test_nothing_is_half_written_when_the_outbox_fails(
    store: Database, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(outbox, "enqueue", broken)
    with pytest.raises(OSError):
        adjustments.adjust(store, actors["alex"], GUMMY, -1, "Damage")
    assert _counts(store) == (0, 0, 0, 0) and _package(store, GUMMY).quantity == 12


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"quantity": 0}, ValidationError, "adjustment of 0 changes nothing"),
        ({"quantity": "-13"}, RuleViolation, "would leave -1. The change is the difference"),
        ({"quantity": "two"}, ValidationError, "not a number"),
        ({"reason": "Lost"}, ValidationError, "'Lost' is not one of this state's adjustment reasons"),
        ({"reason": "Theft", "note": " "}, ValidationError, "'Theft' needs a note"),
        ({"note": "x" * 201}, ValidationError, "201 characters; METRC allows 200"),
        ({"unit": "Grams"}, ValidationError, "counted in Each; an adjustment in Grams"),
        ({"adjustment_date": date.today() + timedelta(days=2)}, ValidationError, "is in the future"),
        ({"adjustment_date": date(2020, 1, 1)}, ValidationError, "before the package was packaged"),
        ({"tag": "1A4060300000000000000999"}, NotFound, "not in this store's inventory"),
        ({"tag": "1a406030000000000000000"}, ValidationError, "not a METRC tag"),
    ],
)
def test_metrc_rules_refuse_bad_adjustments(
    store: Database, actors: dict[str, Actor], kwargs: dict, error: type[Exception], message: str
) -> None:
    args = {"tag": GUMMY, "quantity": -1, "reason": "Damage", "note": ""} | kwargs
    with pytest.raises(error, match=message):
        adjustments.adjust(
            store, actors["alex"], args.pop("tag"), args.pop("quantity"), args.pop("reason"), args.pop("note"), **args
        )
    assert _counts(store) == (0, 0, 0, 0)


def test_units_convert_within_a_family(store: Database, actors: dict[str, Actor]) -> None:
    result = adjustments.adjust(store, actors["alex"], FLOWER, "-400", "Drying", unit="Milligrams")
    assert result.delta == Decimal("-0.4") and result.after == Decimal("113.0") and result.unit.value == "Grams"
    with pytest.raises(ValidationError, match="more than 4 decimal places"):
        adjustments.adjust(store, actors["alex"], FLOWER, "-1", "Drying", unit="Ounces")


def test_scale_variance_is_capped(store: Database, actors: dict[str, Actor]) -> None:
    adjustments.adjust(store, actors["maria"], FLOWER, "-11.3", "Scale Variance")  # 9.96 % of 113.4
    with pytest.raises(RuleViolation, match=r"capped at 10 %.*Inventory Audit"):
        adjustments.adjust(store, actors["maria"], FLOWER, "-11.3", "Scale Variance")  # 11.1 % of 102.1


def test_a_finished_package_is_not_adjusted(store: Database, actors: dict[str, Actor]) -> None:
    adjustments.adjust(store, actors["maria"], GUMMY, -12, "Waste")
    assert _package(store, GUMMY).status is PackageStatus.FINISHED
    with pytest.raises(RuleViolation, match="finished"):
        adjustments.adjust(store, actors["alex"], GUMMY, 1, "Entry Error", "found one")


def test_over_the_unit_threshold_needs_a_managers_pin(store: Database, actors: dict[str, Actor]) -> None:
    check = adjustments.preview(store, actors["alex"], GUMMY, -6, "Damage")
    assert check.needs_approval and "over the 5-unit threshold" in check.approval_why  # type: ignore[operator]
    with pytest.raises(PermissionDenied, match=r"needs approval \(6 Each is over .*a manager must enter their PIN"):
        adjustments.adjust(store, actors["alex"], GUMMY, -6, "Damage")
    with pytest.raises(PermissionDenied, match="alex .associate. may not approve"):
        adjustments.adjust(store, actors["alex"], GUMMY, -6, "Damage", approver="alex", approver_pin="1111")
    with pytest.raises(AuthenticationFailed, match="manager approval failed: Wrong PIN"):
        adjustments.adjust(store, actors["alex"], GUMMY, -6, "Damage", approver="maria", approver_pin="0000")
    assert _counts(store) == (0, 0, 0, 0)
    result = adjustments.adjust(store, actors["alex"], GUMMY, -6, "Damage", approver="maria", approver_pin="222222")
    assert result.approved_by == "maria"
    with store.read() as session:
        assert session.get(Adjustment, result.id).approved_by_id == actors["maria"].user_id
    own = adjustments.adjust(store, actors["maria"], GUMMY, -6, "Damage")  # a manager approves by doing it
    assert own.approved_by == "maria"
    assert not adjustments.preview(store, actors["alex"], FLOWER, -5, "Drying").needs_approval


def test_over_the_dollar_threshold_needs_approval_too(store: Database, actors: dict[str, Actor]) -> None:
    prices.set_price(store, actors["maria"], _package(store, GUMMY).item.sku, "30.00")
    check = adjustments.preview(store, actors["alex"], GUMMY, -4, "Damage")
    assert (
        check.value == Decimal("120.00") and check.needs_approval and "$120.00 is over the $100" in check.approval_why
    )  # type: ignore[operator]
    settings.set_value(store, actors["admin"], settings.APPROVAL_DOLLARS.key, "500")
    assert not adjustments.preview(store, actors["alex"], GUMMY, -4, "Damage").needs_approval


def test_roles_and_named_users(store: Database, actors: dict[str, Actor]) -> None:
    with pytest.raises(PermissionDenied, match="adjust inventory"):
        adjustments.adjust(store, actors["pat"], GUMMY, -1, "Damage")
    with pytest.raises(PermissionDenied, match="sign in"):
        adjustments.adjust(store, Actor(None, "cli:root", actors["admin"].role), GUMMY, -1, "Damage")


def test_reasons_are_seeded_loaded_from_metrc_and_set_by_hand(store: Database, actors: dict[str, Actor]) -> None:
    names = {r.name: r for r in adjustments.list_reasons(store, SYSTEM)}
    assert set(names) == {name for name, _, _ in adjustments.DEFAULT_REASONS}
    assert names["Theft"].requires_note and names["Scale Variance"].max_percent == 10
    assert adjustments.seed_default_reasons(store) == 0  # only when empty
    loaded = adjustments.load_reasons(
        store,
        actors["admin"],
        [
            {"Name": "Scale Variance", "RequiresNote": True},
            {"Name": "Spoilage", "RequiresNote": False},
            {"Name": "Incorrect Quantity", "RequiresNote": True},
        ],
    )
    assert [(r.name, r.requires_note, r.max_percent, r.source) for r in loaded] == [
        ("Incorrect Quantity", True, None, "metrc"),
        ("Scale Variance", True, 10, "metrc"),
        ("Spoilage", False, None, "metrc"),
    ]
    with pytest.raises(ValidationError, match="'Theft' is not one of this state's"):
        adjustments.adjust(store, actors["alex"], GUMMY, -1, "Theft", "gone")
    with store.read() as session:  # kept for the adjustments that name it, just inactive
        assert session.scalar(select(AdjustmentReason.active).where(AdjustmentReason.name == "Theft")) is False
    with pytest.raises(ValidationError, match="no Name"):
        adjustments.load_reasons(store, actors["admin"], [{"RequiresNote": True}])
    with pytest.raises(PermissionDenied):
        adjustments.load_reasons(store, actors["alex"], [{"Name": "Other"}])
    capped = adjustments.set_reason(store, actors["admin"], "Spoilage", requires_note=True, max_percent=5)
    assert capped.max_percent == 5
    with pytest.raises(ValidationError, match="makes no sense"):
        adjustments.set_reason(store, actors["admin"], "Spoilage", requires_note=True, max_percent=0)


def test_list_adjustments(store: Database, actors: dict[str, Actor]) -> None:
    adjustments.adjust(store, actors["alex"], GUMMY, -1, "Damage")
    adjustments.adjust(store, actors["alex"], FLOWER, "2.5", "Entry Error", "typed 110.9 at receiving")
    rows = adjustments.list_adjustments(store, SYSTEM)
    assert [r.tag for r in rows] == [FLOWER, GUMMY] and rows[0].by == "alex"
    assert [r.tag for r in adjustments.list_adjustments(store, SYSTEM, tag=GUMMY)] == [GUMMY]
