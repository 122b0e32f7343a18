from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from backoffice.db.engine import Database
from backoffice.db.models import LedgerEntry, Package
from backoffice.domain.enums import LedgerKind, PackageStatus
from backoffice.errors import PermissionDenied, RuleViolation
from backoffice.services import ledger, metrc_packages_import
from backoffice.services.actor import SYSTEM, Actor


def test_quantity_cannot_go_below_zero_and_nothing_is_written(
    db: Database, actors: dict[str, Actor], samples: Path
) -> None:
    metrc_packages_import.import_file(db, actors["alex"], samples / "metrc_packages_active.json")
    with db.read() as session:
        tag = session.scalars(select(Package.tag).order_by(Package.id)).first()
    with pytest.raises(RuleViolation, match="would leave"), db.transaction() as session:
        pkg = session.scalar(select(Package).where(Package.tag == tag))
        ledger.post(session, actors["alex"], pkg, LedgerKind.SALE, -(pkg.quantity + 1), ledger.Doc("test", 1))
    with db.read() as session:
        assert session.scalar(select(LedgerEntry).where(LedgerEntry.doc_type == "test")) is None


def test_selling_out_finishes_the_package(db: Database, actors: dict[str, Actor], samples: Path) -> None:
    metrc_packages_import.import_file(db, actors["alex"], samples / "metrc_packages_active.json")
    with db.transaction() as session:
        pkg = session.scalars(select(Package).order_by(Package.id)).first()
        ledger.post(session, actors["alex"], pkg, LedgerKind.SALE, -pkg.quantity, ledger.Doc("test", 1))
        assert pkg.status is PackageStatus.FINISHED and pkg.quantity == Decimal(0)
    assert ledger.check_balances(db, SYSTEM) == []


def test_balance_check_names_a_tampered_package(db: Database, actors: dict[str, Actor], samples: Path) -> None:
    metrc_packages_import.import_file(db, actors["alex"], samples / "metrc_packages_active.json")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE packages SET quantity = quantity + 10000 WHERE id = 1"))
    mismatches = ledger.check_balances(db, SYSTEM)
    assert len(mismatches) == 1
    assert mismatches[0].package_quantity - mismatches[0].ledger_quantity == Decimal(1)


def test_balance_check_needs_the_audit_permission(db: Database, actors: dict[str, Actor]) -> None:
    with pytest.raises(PermissionDenied, match="alex"):
        ledger.check_balances(db, actors["alex"])
    assert ledger.check_balances(db, actors["maria"]) == []
