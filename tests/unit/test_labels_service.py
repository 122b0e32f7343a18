"""Choosing labels from the database, the lab-result flag and a manager's override, the print
log with its audit event, and the price-changed run; without a GUI, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import (
    AuditEvent,
    Item,
    LabelPrint,
    Location,
    Manifest,
    ManifestLine,
    Package,
)
from backoffice.domain.enums import (
    LabState,
    LedgerKind,
    LocationKind,
    PackageStatus,
    QuantityType,
)
from backoffice.domain.units import Unit
from backoffice.errors import (
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from backoffice.labels.fields import potency, total_thc
from backoffice.services import audit, ledger, prices, transfers
from backoffice.services.actor import SYSTEM, Actor
from backoffice.services.labels import (
    LabelKind,
    LabelRun,
    Selection,
    Source,
    lab_override,
    list_categories,
    log_print,
    recent_manifests,
    save_pdf,
    select_labels,
)
from tests.conftest import PINS


@pytest.fixture(autouse=True)
def _app(qapp: object) -> None:
    """PDFs are painted in pytest-qt's application (else rendering makes a bare QGuiApplication
    that later GUI tests cannot use)."""


def tag(n: int) -> str:
    return f"1A4000000000000000000{n:03d}"


@dataclass(frozen=True)
class Store:
    flower: list[str]  # Blue Dream: 1 on the floor, 2 in the vault (one from manifest M1), TestPassed
    gummies: list[str]  # 10 mg edibles, from manifest M1 via its lines, TestPassed
    failed: str  # a vape that failed testing
    untested: str  # a vape with no lab results
    finished: str  # an empty Blue Dream package from manifest M1


def _item(sku: str, name: str, category: str, price: str, **extra: object) -> Item:
    return Item(
        sku=sku,
        name=name,
        brand="Good Farms",
        category=category,
        strain="Blue Dream",
        quantity_type=QuantityType.COUNT_BASED,
        unit=Unit.EACH,
        price=Decimal(price),
        **extra,
    )


@pytest.fixture
def store(db: Database, actors: dict[str, Actor]) -> Store:
    admin = actors["admin"]
    with db.transaction() as session:
        vault = Location(name="Vault", kind=LocationKind.VAULT, metrc_name="Vault")
        floor = Location(name="Sales Floor", kind=LocationKind.FLOOR, metrc_name="Sales Floor")
        flower = _item("FL-1", "Blue Dream 3.5g", "Buds", "35.00")
        gummy = _item(
            "ED-1",
            "Watermelon Gummies 10 pk",
            "Edible (weight - each)",
            "18.50",
            unit_thc_mg=Decimal(10),
            unit_cbd_mg=Decimal("0.5"),
        )
        vape = _item("VP-1", "Wedding Cake Cart 1g", "Vape Cartridge", "0")
        session.add_all([vault, floor, flower, gummy, vape])
        session.flush()

        def package(
            n: int,
            item: Item,
            where: Location,
            lab: LabState,
            quantity: int,
            *,
            manifest: str | None = None,
            thc: str | None = "21.5",
            total: str | None = "23.84",
        ) -> Package:
            pkg = Package(
                tag=tag(n),
                item_id=item.id,
                item=item,
                quantity=Decimal(0),
                unit=Unit.EACH,
                location_id=where.id,
                location=where,
                lab_state=lab,
                thc_percent=Decimal(thc) if thc else None,
                cbd_percent=Decimal("0.1"),
                total_thc_percent=Decimal(total) if total else None,
                packaged_date=date(2026, 1, n),
                expiration_date=date(2027, 1, n),
                received_from_manifest=manifest,
            )
            session.add(pkg)
            session.flush()
            ledger.post(session, admin, pkg, LedgerKind.OPENING, Decimal(quantity), ledger.Doc("test", None))
            return pkg

        package(1, flower, floor, LabState.TEST_PASSED, 5)
        package(2, flower, vault, LabState.TEST_PASSED, 20, manifest="M1")
        package(3, flower, vault, LabState.RETEST_PASSED, 20)
        g1 = package(4, gummy, vault, LabState.TEST_PASSED, 40, thc=None, total="0.31")
        g2 = package(5, gummy, vault, LabState.TEST_PASSED, 40, thc=None, total="0.31")
        package(6, vape, vault, LabState.TEST_FAILED, 10)
        package(7, vape, vault, LabState.UNKNOWN, 10, thc=None, total=None)
        empty = package(8, flower, vault, LabState.TEST_PASSED, 0, manifest="M1")
        empty.status = PackageStatus.FINISHED
        manifest = Manifest(manifest_number="M1", shipper_name="Kind Harvest", shipper_license="C11-1")
        session.add(manifest)
        session.flush()
        for pkg in (g2, g1):  # the manifest's own order, which is not tag order
            session.add(
                ManifestLine(
                    manifest_id=manifest.id,
                    tag=pkg.tag,
                    item_name="Gummies",
                    category="Edible",
                    shipped_quantity=Decimal(40),
                    unit=Unit.EACH,
                    lab_state=LabState.TEST_PASSED,
                    package_id=pkg.id,
                )
            )
    return Store(
        flower=[tag(1), tag(2), tag(3)], gummies=[tag(4), tag(5)], failed=tag(6), untested=tag(7), finished=tag(8)
    )


def _tags(run: LabelRun) -> list[str]:
    return [line.label.tag for line in run.lines]


def _log(db: Database) -> list[LabelPrint]:
    with db.read() as session:
        return list(session.scalars(select(LabelPrint).order_by(LabelPrint.id)))


def _events(db: Database, action: str) -> list[AuditEvent]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- choosing ------------------------------------------------------------------------------------


def test_bin_labels_for_scanned_tags_keep_scan_order_and_carry_lab_figures(
    db: Database, actors: dict[str, Actor], store: Store
) -> None:
    picked = [store.flower[2], store.gummies[0], store.flower[2], " " + store.flower[0]]
    run = select_labels(db, actors["alex"], Selection(Source.TAGS, tuple(picked)))
    assert _tags(run) == [store.flower[2], store.gummies[0], store.flower[0]]  # repeat scan once, whitespace gone
    flower, gummy = run.lines[0].label, run.lines[1].label
    assert flower.barcode_value == flower.tag == store.flower[2] and flower.sku == "FL-1"
    assert (flower.thc_percent, flower.total_thc_percent, flower.price) == (
        Decimal("21.5"),
        Decimal("23.84"),
        Decimal("35.00"),
    )
    assert (flower.packaged_date, flower.expiration_date) == (date(2026, 1, 3), date(2027, 1, 3))
    assert potency(flower) == "THC 21.5% · CBD 0.1%" and total_thc(flower) == "Total THC 23.84%"
    assert gummy.dosed and potency(gummy) == "THC 10 mg · CBD 0.5 mg per unit"
    assert total_thc(gummy) == "Total THC 0.31%"  # the package's lab result, not the item's dose
    assert run.lines[0].location == "Vault" and run.flagged == []


def test_bad_and_unknown_tags_are_named(db: Database, actors: dict[str, Actor], store: Store) -> None:
    with pytest.raises(ValidationError, match="'1a4000000000000000000001'.*lower-case"):
        select_labels(db, actors["alex"], Selection(Source.TAGS, ("1a4000000000000000000001", store.flower[0])))
    with pytest.raises(NotFound, match=f"not in this store's inventory: {tag(98)}, {tag(99)}"):
        select_labels(db, actors["alex"], Selection(Source.TAGS, (tag(98), store.flower[0], tag(99))))
    with pytest.raises(ValidationError, match="at least one package tag"):
        select_labels(db, actors["alex"], Selection(Source.TAGS, ("  ",)))


def test_manifest_takes_received_packages_and_manifest_lines_in_manifest_order(
    db: Database, actors: dict[str, Actor], store: Store
) -> None:
    run = select_labels(db, actors["alex"], Selection(Source.MANIFEST, ("M1",)))
    assert _tags(run) == [store.gummies[1], store.gummies[0], store.flower[1]]
    assert run.source == "manifest M1"
    assert run.left_out == (f"{store.finished}: finished (empty), so no label",)
    assert recent_manifests(db, SYSTEM) == ["M1"]  # the Labels tab's pick list
    with pytest.raises(NotFound, match="no packages were received from manifest M404"):
        select_labels(db, actors["alex"], Selection(Source.MANIFEST, ("M404",)))
    with pytest.raises(ValidationError, match="choose one manifest"):
        select_labels(db, actors["alex"], Selection(Source.MANIFEST))


def test_transfer_takes_its_lines_in_order(db: Database, actors: dict[str, Actor], store: Store) -> None:
    draft = transfers.create_transfer(db, actors["alex"], "Vault", "Sales Floor", [store.gummies[1], store.flower[1]])
    run = select_labels(db, actors["alex"], Selection(Source.TRANSFER, (f"#{draft.id}",)))
    assert _tags(run) == [store.gummies[1], store.flower[1]] and run.source == f"transfer #{draft.id}"
    with pytest.raises(NotFound, match="no transfer #999"):
        select_labels(db, actors["alex"], Selection(Source.TRANSFER, ("999",)))
    with pytest.raises(ValidationError, match="not a transfer number"):
        select_labels(db, actors["alex"], Selection(Source.TRANSFER, ("twelve",)))


def test_category_takes_packages_in_stock_whatever_the_case(
    db: Database, actors: dict[str, Actor], store: Store
) -> None:
    run = select_labels(db, actors["alex"], Selection(Source.CATEGORY, ("buds",)))
    assert _tags(run) == store.flower and run.source == "category Buds"  # not the finished one
    assert list_categories(db, SYSTEM) == ["Buds", "Edible (weight - each)", "Vape Cartridge"]
    with pytest.raises(NotFound, match="no category 'Flowers'; categories are: Buds, Edible"):
        select_labels(db, actors["alex"], Selection(Source.CATEGORY, ("Flowers",)))


def test_shelf_labels_are_one_per_item_with_the_sku_and_the_best_package(
    db: Database, actors: dict[str, Actor], store: Store
) -> None:
    run = select_labels(
        db,
        actors["alex"],
        Selection(Source.TAGS, (store.flower[2], store.flower[0], store.failed, store.gummies[0])),
        kind=LabelKind.SHELF,
    )
    assert [line.label.barcode_value for line in run.lines] == ["FL-1", "VP-1", "ED-1"]
    flower, vape = run.lines[0], run.lines[1]
    assert flower.package_id is None and flower.label.tag == "" and flower.location == "Sales Floor"  # floor wins
    assert flower.label.packaged_date is None  # a shelf label stands for every package of the item
    assert vape.label.price is None  # no price set: print none rather than $0.00
    assert [line.label.sku for line in run.flagged] == ["VP-1"]
    assert vape.lab_problem == "no package in stock is cleared for sale: failed lab testing (TestFailed)"


def test_only_sellers_may_choose_labels(db: Database, actors: dict[str, Actor], store: Store) -> None:
    with pytest.raises(PermissionDenied, match="pat .* may not print labels"):
        select_labels(db, actors["pat"], Selection(Source.CATEGORY, ("Buds",)))


# --- the lab flag and the manager's override --------------------------------------------------


def test_failed_and_missing_lab_results_are_flagged_and_refused_without_a_manager(
    db: Database, actors: dict[str, Actor], store: Store, tmp_path: Path
) -> None:
    run = select_labels(db, actors["alex"], Selection(Source.CATEGORY, ("Vape Cartridge",)))
    assert [line.lab_problem for line in run.lines] == ["failed lab testing (TestFailed)", "no lab results on file"]
    out = tmp_path / "vapes.pdf"
    with pytest.raises(RuleViolation, match="2 label.*not cleared for sale.*A manager must confirm"):
        save_pdf(db, actors["alex"], run, "thermal-2x1", out)
    assert not out.exists() and _log(db) == []
    with pytest.raises(PermissionDenied, match="a manager must confirm with their user name and PIN"):
        lab_override(db, actors["alex"])
    with pytest.raises(AuthenticationFailed, match="Wrong PIN"):
        lab_override(db, actors["alex"], "maria", "0000")
    with pytest.raises(PermissionDenied, match="alex .* may not print labels for packages without passing"):
        lab_override(db, actors["alex"], "alex", PINS["alex"])


def test_a_managers_pin_lets_flagged_labels_print_and_the_log_names_the_manager(
    db: Database, actors: dict[str, Actor], store: Store, tmp_path: Path
) -> None:
    run = select_labels(db, actors["alex"], Selection(Source.TAGS, (store.flower[0], store.failed)))
    override = lab_override(db, actors["alex"], "maria", PINS["maria"])
    job = save_pdf(db, actors["alex"], run, "thermal-2x1", tmp_path / "two.pdf", override=override)
    assert job.labels == 2 and job.lab_override_by == "maria" and job.path == tmp_path / "two.pdf"
    rows = _log(db)
    maria = actors["maria"].user_id
    assert [(r.barcode_value, r.lab_override_by_id) for r in rows] == [(store.flower[0], None), (store.failed, maria)]
    event = _events(db, "labels.print")[0]
    assert event.username == "alex" and "maria" in (event.reason or "") and store.failed in (event.after or "")
    # a manager confirms for themself
    assert lab_override(db, actors["maria"]).username == "maria"


def test_leaving_flagged_labels_out_prints_the_rest(
    db: Database, actors: dict[str, Actor], store: Store, tmp_path: Path
) -> None:
    run = select_labels(db, actors["alex"], Selection(Source.TAGS, (store.failed, store.flower[0]))).without_flagged()
    assert _tags(run) == [store.flower[0]]
    assert run.left_out == (f"{store.failed}: left out, failed lab testing (TestFailed)",)
    assert save_pdf(db, actors["alex"], run, "thermal-2x1", tmp_path / "one.pdf").labels == 1


# --- the print log ---------------------------------------------------------------------------------


def test_print_log_has_a_row_per_label_and_one_audit_event_per_job(
    db: Database, actors: dict[str, Actor], store: Store, tmp_path: Path
) -> None:
    alex = actors["alex"]
    run = select_labels(db, alex, Selection(Source.MANIFEST, ("M1",)))
    job = save_pdf(db, alex, run, "avery-5160", tmp_path / "m1.pdf", start_position=28)
    assert (job.labels, job.pages) == (3, 2)  # positions 28, 29, then a new sheet
    rows = _log(db)
    with db.read() as session:
        ids = {p.tag: (p.id, p.item_id) for p in session.scalars(select(Package))}
    assert [(r.package_id, r.item_id) for r in rows] == [ids[t] for t in _tags(run)]
    assert {r.job for r in rows} == {job.job} and {r.template for r in rows} == {"avery-5160"}
    assert {r.user_id for r in rows} == {alex.user_id}
    assert [r.price for r in rows] == [Decimal("18.50"), Decimal("18.50"), Decimal("35.00")]
    assert [r.barcode_value for r in rows] == _tags(run)
    events = _events(db, "labels.print")
    assert len(events) == 1 and events[0].entity_id == job.job and '"labels":3' in (events[0].after or "")
    assert audit.verify(db, SYSTEM).ok


def test_a_cancelled_pdf_leaves_no_file_and_no_log(
    db: Database, actors: dict[str, Actor], store: Store, tmp_path: Path
) -> None:
    run = select_labels(db, actors["alex"], Selection(Source.CATEGORY, ("Buds",)))
    out = tmp_path / "cancelled.pdf"
    job = save_pdf(db, actors["alex"], run, "thermal-2x1", out, cancel=lambda: True)
    assert job.cancelled and job.job is None and not out.exists()
    assert _log(db) == [] and _events(db, "labels.print") == []


def test_a_printer_run_stopped_part_way_logs_what_reached_the_printer(
    db: Database, actors: dict[str, Actor], store: Store
) -> None:
    run = select_labels(db, actors["alex"], Selection(Source.CATEGORY, ("Buds",)))
    job = log_print(
        db, actors["alex"], run, "thermal-2x1", labels=2, pages=2, override=None, destination="printer Zebra"
    )
    assert job.cancelled and job.labels == 2
    assert [r.barcode_value for r in _log(db)] == store.flower[:2]


# --- prices -----------------------------------------------------------------------------------------


def test_price_changes_list_labels_until_they_are_printed(
    db: Database, actors: dict[str, Actor], store: Store, tmp_path: Path
) -> None:
    maria = actors["maria"]
    due = Selection(Source.PRICE_CHANGED)
    assert select_labels(db, maria, due, kind=LabelKind.SHELF).lines == ()
    change = prices.set_price(db, maria, "FL-1", "$32.50", reason="weekly special")
    assert (change.before, change.after, change.changed) == (Decimal("35.00"), Decimal("32.50"), True)
    shelf = select_labels(db, maria, due, kind=LabelKind.SHELF)
    assert [line.label.sku for line in shelf.lines] == ["FL-1"] and shelf.lines[0].label.price == Decimal("32.50")
    assert _tags(select_labels(db, maria, due)) == store.flower  # bin labels: every package in stock
    save_pdf(db, maria, shelf, "avery-5160", tmp_path / "shelf.pdf")
    assert select_labels(db, maria, due, kind=LabelKind.SHELF).lines == ()
    assert _tags(select_labels(db, maria, due)) == store.flower  # shelf prints do not stand for bin labels
    save_pdf(
        db,
        maria,
        select_labels(db, maria, Selection(Source.TAGS, (store.flower[0],))),
        "thermal-4x2",
        tmp_path / "bin.pdf",
    )
    assert _tags(select_labels(db, maria, due)) == store.flower[1:]
    prices.set_price(db, maria, "FL-1", "30")
    assert len(select_labels(db, maria, due, kind=LabelKind.SHELF).lines) == 1  # changed again: due again


def test_price_rules(db: Database, actors: dict[str, Actor], store: Store) -> None:
    maria = actors["maria"]
    assert not prices.set_price(db, maria, "FL-1", "35").changed  # the same price changes nothing
    with pytest.raises(ValidationError, match="negative"):
        prices.set_price(db, maria, "FL-1", "-1")
    with pytest.raises(ValidationError, match="fractions of a cent"):
        prices.set_price(db, maria, "FL-1", "1.999")
    with pytest.raises(ValidationError, match="price .cheap. is not a number"):
        prices.set_price(db, maria, "FL-1", "cheap")
    with pytest.raises(NotFound, match="no item with SKU 'NOPE'"):
        prices.set_price(db, maria, "NOPE", "1")
    with pytest.raises(PermissionDenied, match="may not change item prices"):
        prices.set_price(db, actors["alex"], "FL-1", "1")
    with db.read() as session:
        assert session.scalar(select(Item.price_changed_at).where(Item.sku == "FL-1")) is None
    assert [e.action for e in _events(db, "item.price")] == []


def test_bin_labels_print_the_bin(db: Database, actors: dict[str, Actor], store: Store) -> None:
    from backoffice.labels.fields import TEXT_FIELDS
    from backoffice.labels.templates import TEMPLATES

    with db.transaction() as session:
        session.scalar(select(Package).where(Package.tag == store.flower[1])).bin = "V-BUD-07"
    run = select_labels(db, actors["alex"], Selection(Source.TAGS, (store.flower[1], store.flower[0])))
    in_bin, on_floor = (line.label for line in run.lines)
    assert TEXT_FIELDS["bin"](in_bin) == "Bin V-BUD-07" and TEXT_FIELDS["bin"](on_floor) == ""
    for name in ("thermal-2x1", "thermal-2.25x1.25"):  # the bin label templates place it
        assert "bin" in {box.field for box in TEMPLATES[name].fields}
