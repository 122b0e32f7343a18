"""The demo store looks like a real week: METRC mirrors the POS except for the planted
differences, eight weeks of counts feed the accuracy report, a delivery and a transfer are
waiting, every item has a price and potency; the build is all or nothing; on PostgreSQL
the sequences are advanced so the services can add rows afterwards."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice import demo
from backoffice.db.engine import Database
from backoffice.db.models import (
    AuditEvent,
    CountSession,
    Item,
    LedgerEntry,
    Package,
    User,
)
from backoffice.domain.enums import (
    CountStatus,
    LedgerKind,
    LocationKind,
    PackageStatus,
    TransferStatus,
)
from backoffice.services import (
    audit,
    counts,
    ledger,
    receiving,
    reconciliation,
    sales_import,
    transfers,
    users,
)
from backoffice.services.actor import SYSTEM
from backoffice.services.counts.variance import count_lines
from backoffice.services.reports.accuracy import accuracy_report

TINY = demo.Scale(skus=40, active_packages=240, days=21, sale_lines=2_500)


@pytest.fixture(scope="module")
def small(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path
) -> Iterator[tuple[Database, demo.DemoSummary]]:
    path = tmp_path_factory.mktemp("demo") / "small.sqlite"
    shutil.copyfile(_sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    summary = demo.build(db, "small")
    yield db, summary
    db.dispose()


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(demo.SCALES, "tiny", TINY)
    return "tiny"


def _today() -> date:
    return datetime.now(demo.STORE_TZ).date()


def test_reconciling_a_recent_day_finds_exactly_the_planted_differences(
    small: tuple[Database, demo.DemoSummary],
) -> None:
    db, summary = small
    admin = users.actor_for(db, "admin")
    yesterday = _today() - timedelta(days=1)
    for day in (yesterday, yesterday - timedelta(days=3)):
        planted = {(p.kind, p.receipt_number, p.tag) for p in summary.planted if p.day == day}
        assert 2 <= len(planted) <= 4
        view = reconciliation.reconcile_day(db, admin, day)
        assert {(f.kind, f.receipt_number, f.tag) for f in view.findings} == planted
    older = reconciliation.reconcile_day(db, admin, yesterday - timedelta(days=30))
    assert older.findings == [] and older.summary.pos_lines == older.summary.metrc_lines > 0  # METRC mirrors every day


def test_the_accuracy_report_has_eight_weeks_of_counts_that_add_up(small: tuple[Database, demo.DemoSummary]) -> None:
    db, summary = small
    purchasing = users.actor_for(db, "pat")
    today = _today()
    report = accuracy_report(db, purchasing, since=today - timedelta(weeks=9), until=today)
    assert summary.counts == len(report.counts) == 16
    assert report.lines_counted > 1000 and 0.9 < report.accuracy < 1  # type: ignore[operator]
    assert report.adjustments and {a.reason for a in report.adjustments} >= {"Theft", "Scale Variance"}
    assert all(a.note and a.count_session_id for a in report.adjustments)
    assert sum(c.lines_counted for c in report.categories) == report.lines_counted
    assert sum(c.lines_matching for c in report.categories) == report.lines_matching
    # every count's frozen figures are what the cycle-count service computes from its lines
    with db.read() as session:
        for count in session.scalars(select(CountSession)):
            assert count.status is CountStatus.SUBMITTED
            figures = counts.accuracy_of(count_lines(session, count, hide=False))
            assert (figures.lines_counted, figures.lines_matching, figures.unit_variance, figures.dollar_variance) == (
                count.lines_counted,
                count.lines_matching,
                count.unit_variance,
                count.dollar_variance,
            )
            assert all(
                ln.status not in (counts.LineStatus.SHORT, counts.LineStatus.OVER)
                for ln in count_lines(session, count, hide=False)
            )  # each variance was adjusted


def test_a_delivery_and_a_transfer_are_waiting(small: tuple[Database, demo.DemoSummary]) -> None:
    db, summary = small
    alex = users.actor_for(db, "alex")
    waiting = receiving.list_manifests(db, alex, open_only=True)
    assert {m.manifest_number for m in waiting} == set(summary.manifests) and len(waiting) == 2
    views = [receiving.get_manifest(db, alex, m.id) for m in waiting]
    lines = [ln for view in views for ln in view.lines]
    assert sum(1 for ln in lines if ln.item_id is None) == 1  # one product to create from its manifest line
    with db.read() as session:
        assert not session.scalar(
            select(func.count()).select_from(Package).where(Package.tag.in_([ln.tag for ln in lines]))
        )
    transfer = transfers.get_transfer(db, SYSTEM, summary.transfer_id)  # type: ignore[arg-type]
    assert transfer.status is TransferStatus.RECORDED and transfer.lines
    assert not any(line.moved for line in transfer.lines)


def test_every_item_has_a_price_and_potency(small: tuple[Database, demo.DemoSummary]) -> None:
    db, _ = small
    with db.read() as session:
        for item in session.scalars(select(Item)):
            assert item.price > 0, item.sku
            if item.unit_thc_mg is None:  # potency by lab result on each package
                assert item.unit_cbd_mg is None
                assert not session.scalar(
                    select(func.count())
                    .select_from(Package)
                    .where(Package.item_id == item.id, Package.thc_percent.is_(None) | Package.cbd_percent.is_(None))
                )
            else:
                assert item.unit_cbd_mg is not None and item.unit_thc_mg > 0


def test_the_demo_store_passes_audit_verify(small: tuple[Database, demo.DemoSummary]) -> None:
    db, _ = small
    assert audit.verify(db, SYSTEM).ok
    assert ledger.check_balances(db, SYSTEM) == []
    with db.read() as session:  # packages adjusted by a count are still open, never below zero
        adjusted = select(LedgerEntry.package_id).where(LedgerEntry.kind == LedgerKind.ADJUSTMENT)
        assert session.scalar(select(func.min(Package.quantity)).where(Package.id.in_(adjusted))) > 0
        assert not session.scalar(
            select(func.count())
            .select_from(Package)
            .where(Package.id.in_(adjusted), Package.status != PackageStatus.ACTIVE)
        )


def _empty(db: Database) -> bool:
    with db.read() as session:
        return not any(session.scalar(select(func.count()).select_from(model)) for model in (Item, User, AuditEvent))


@pytest.mark.parametrize("stage", ["mirror_pos_sales", "recorded_transfer"])
def test_a_build_that_dies_part_way_leaves_an_empty_store_and_runs_again(
    sqlite_db: Database, tiny: str, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    def dies(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("killed")  # in the bulk load, or in this morning's service calls

    with monkeypatch.context() as patch:
        patch.setattr(demo, stage, dies)
        with pytest.raises(RuntimeError, match="killed"):
            demo.build(sqlite_db, tiny)
    assert _empty(sqlite_db)
    summary = demo.build(sqlite_db, tiny)
    assert summary.skus == TINY.skus and summary.transfer_id is not None
    assert audit.verify(sqlite_db, SYSTEM).ok and not _empty(sqlite_db)


@pytest.mark.postgres
def test_on_postgresql_a_pos_import_after_the_demo_works(pg_server: object, tiny: str, tmp_path: Path) -> None:
    from tests.conftest import _pg_copy

    db = _pg_copy(pg_server)  # type: ignore[arg-type]
    try:
        demo.build(db, tiny)
        alex, admin = users.actor_for(db, "alex"), users.actor_for(db, "admin")
        with db.read() as session:
            pkg, item = session.execute(
                select(Package, Item)
                .join(Item, Item.id == Package.item_id)
                .where(Package.status == PackageStatus.ACTIVE, Package.location.has(kind=LocationKind.FLOOR))
                .order_by(Package.id)
                .limit(1)
            ).one()
        today = _today()
        export = tmp_path / "pos.csv"
        export.write_text(
            "Transaction ID,Transaction Date,Package ID,SKU,Product Name,Brand,Category,Quantity,Unit,Net Sales,"
            f"Budtender\nT-{today:%m%d}-1,{today:%m/%d/%Y} 09:43 AM,{pkg.tag},{item.sku},{item.name},{item.brand},"
            f"{item.category},1,{item.unit.value},${item.price},KT\n",
            encoding="utf-8",
        )
        result = sales_import.import_pos_file(db, admin, export)
        assert result.lines_added == 1
        # and the other services add rows after the demo's too
        assert transfers.create_transfer(db, alex, "Vault", "Sales Floor", []).id > 1
        started = counts.start_count(db, alex, "Buds after the demo", counts.Scope(categories=("Buds",)))
        assert started.id > 16
    finally:
        db.dispose()
