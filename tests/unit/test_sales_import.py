"""Storing POS exports: once per sale whatever the file or layout, each sold package deducted
in the stock ledger and the daily totals kept, and a bad file imports nothing."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from backoffice.db.engine import Database
from backoffice.db.models import (
    AuditEvent,
    LedgerEntry,
    Package,
    PosImport,
    PosSaleLine,
    SalesDaily,
)
from backoffice.domain.enums import LedgerKind, PackageStatus
from backoffice.errors import Cancelled, ImportFileError, ValidationError
from backoffice.importers.pos_sales_file import UnknownLayoutError, parse_pos_file
from backoffice.services import (
    audit,
    ledger,
    metrc_packages_import,
    pos_layouts,
    sales_import,
)
from backoffice.services.actor import SYSTEM, Actor

DAY = date(2026, 11, 20)
TINCTURE = "1A4060300000000000000009"  # on the floor, 2 Each sold on R1120-0001
FLOWER = "1A4060300000000000000054"  # on the floor, sold in Grams


@pytest.fixture
def store(db: Database, actors: dict[str, Actor], samples: Path) -> tuple[Database, Actor]:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    return db, actors["alex"]


def rows_of(samples: Path, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((samples / name).read_text(encoding="utf-8-sig"), newline="")))


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {
            "imports": session.scalar(select(func.count()).select_from(PosImport)) or 0,
            "lines": session.scalar(select(func.count()).select_from(PosSaleLine)) or 0,
            "sales": session.scalar(select(func.count()).where(LedgerEntry.kind == LedgerKind.SALE)) or 0,
            "daily": session.scalar(select(func.count()).select_from(SalesDaily)) or 0,
        }


def quantities(db: Database) -> dict[str, Decimal]:
    with db.read() as session:
        return {tag: quantity for tag, quantity in session.execute(select(Package.tag, Package.quantity))}


@pytest.mark.parametrize(
    "first, second",
    [("pos_sales_export_a.csv", "pos_sales_export_b.csv"), ("pos_sales_export_b.csv", "pos_sales_export_a.csv")],
)
def test_each_sale_is_stored_once_whatever_the_layout(
    store: tuple[Database, Actor], samples: Path, first: str, second: str
) -> None:
    db, alex = store
    before = quantities(db)
    parsed = parse_pos_file(samples / first, store_tz="America/Los_Angeles").lines
    sold: dict[str, Decimal] = defaultdict(Decimal)
    for line in parsed:
        sold[line.tag or ""] += line.quantity

    result = sales_import.import_pos_file(db, alex, samples / first)

    assert (result.lines_in_file, result.lines_added, result.lines_already_imported) == (76, 76, 0)
    assert result.business_dates == (DAY,) and result.unknown_tags == ()
    after = quantities(db)
    assert {tag: before[tag] - after[tag] for tag in sold} == sold  # every sold package deducted by what it sold
    assert all(before[tag] == after[tag] for tag in before if tag not in sold)
    with db.read() as session:
        lines = session.scalars(select(PosSaleLine)).all()
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.SALE)).all()
        daily = session.scalars(select(SalesDaily)).all()
    assert {(e.doc_type, e.doc_id) for e in entries} == {("pos_sale_line", line.id) for line in lines}
    assert all(line.package_id is not None and line.item_id is not None for line in lines)
    assert {e.at for e in entries} == {line.sold_at for line in lines}  # each sale at its own time
    assert {d.day for d in daily} == {DAY}
    assert sum(d.lines for d in daily) == 76
    assert sum(d.revenue for d in daily) == sum(line.amount for line in parsed) == Decimal("2208.00")

    again = sales_import.import_pos_file(db, alex, samples / second)
    assert (again.lines_added, again.lines_already_imported, again.file_seen_before) == (0, 76, False)
    same_file = sales_import.import_pos_file(db, alex, samples / first)
    assert same_file.file_seen_before and same_file.lines_added == 0
    assert "already imported" in same_file.summary
    assert counts(db) == {"imports": 2, "lines": 76, "sales": 76, "daily": len(daily)}
    assert quantities(db) == after
    assert ledger.check_balances(db, SYSTEM) == [] and audit.verify(db, SYSTEM).ok


def test_a_later_file_that_changes_an_imported_sale_is_refused(
    store: tuple[Database, Actor], samples: Path, tmp_path: Path
) -> None:
    db, alex = store
    sales_import.import_pos_file(db, alex, samples / "pos_sales_export_b.csv")
    rows = rows_of(samples, "pos_sales_export_b.csv")
    rows[1][5] = "3"  # R1120-0001 sold 2 tinctures; this "corrected" export says 3
    rows.append(["R1120-0999", "2026-11-20 20:00:00", TINCTURE, "Tincture", "Tincture", "1", "Each", "32.00"])
    before = counts(db), quantities(db)
    with pytest.raises(ImportFileError) as caught:
        sales_import.import_pos_file(db, alex, write_csv(tmp_path / "corrected.csv", rows))
    assert [(p.line, p.field) for p in caught.value.problems] == [(2, "qty_sold")]
    assert "imported before with 2 Each for $64.00; this file says 3 Each" in caught.value.problems[0].reason
    assert "nothing was imported" in str(caught.value)
    assert (counts(db), quantities(db)) == before


def _bad_export(samples: Path, tmp_path: Path, case: str) -> Path:
    rows = rows_of(samples, "pos_sales_export_b.csv")
    if case in ("missing column", "unknown layout"):
        return write_csv(tmp_path / "bad.csv", [row[:5] + row[6:] for row in rows])  # no qty_sold
    if case == "bad date":
        rows[4][1] = "2026-11-31 10:00:00"
    elif case == "non-numeric quantity":
        rows[7][5] = "two"
    elif case == "empty":
        (tmp_path / "bad.csv").write_bytes(b"\xef\xbb\xbf\r\n")
        return tmp_path / "bad.csv"
    elif case == "manifest":
        return samples / "metrc_incoming_transfer.csv"
    elif case == "metrc receipts":
        return samples / "metrc_sales_receipts.json"
    return write_csv(tmp_path / "bad.csv", rows)


@pytest.mark.parametrize(
    "case, message, lines",
    [
        ("missing column", "lacks the column(s) qty_sold", [1]),
        ("unknown layout", "in a layout this store has not seen", []),
        ("bad date", "nothing was imported", [5]),
        ("non-numeric quantity", "nothing was imported", [8]),
        ("empty", "is empty", []),
        ("manifest", "is a METRC manifest", []),
        ("metrc receipts", "is a JSON file, not a POS sales export", []),
    ],
)
def test_malformed_exports_say_where_and_import_nothing(
    store: tuple[Database, Actor], samples: Path, tmp_path: Path, case: str, message: str, lines: list[int]
) -> None:
    db, alex = store
    before = quantities(db)
    # a file missing a column fits no layout; named, the layout says which column it lacks
    layout = "export-b" if case == "missing column" else None
    with pytest.raises(ImportFileError) as caught:
        sales_import.import_pos_file(db, alex, _bad_export(samples, tmp_path, case), layout=layout)
    assert message in str(caught.value)
    assert [p.line for p in caught.value.problems] == lines
    assert counts(db) == {"imports": 0, "lines": 0, "sales": 0, "daily": 0}
    assert quantities(db) == before


def test_selling_more_than_a_package_holds_or_in_another_unit_family_imports_nothing(
    store: tuple[Database, Actor], samples: Path, tmp_path: Path
) -> None:
    db, alex = store
    held = quantities(db)[TINCTURE]
    rows = rows_of(samples, "pos_sales_export_b.csv")
    rows[1][5] = str(held + 1)
    rows[3][6] = "Each"  # 3.5 "Each" of a flower package counted in Grams
    with pytest.raises(ImportFileError) as caught:
        sales_import.import_pos_file(db, alex, write_csv(tmp_path / "over.csv", rows))
    problems = {p.line: p.reason for p in caught.value.problems}
    assert set(problems) == {2, 4}
    assert f"records show {held.normalize():f} Each left in it. Count the package and adjust it" in problems[2]
    assert "that package is counted in Grams" in problems[4]
    # each problem names the column as the file's own header spells it
    assert {p.line: p.field for p in caught.value.problems} == {2: "qty_sold", 4: "unit_of_measure"}
    assert counts(db)["lines"] == 0 and quantities(db)[TINCTURE] == held


B_HEADER = [
    "order_id",
    "completed_at",
    "metrc_tag",
    "product",
    "product_category",
    "qty_sold",
    "unit_of_measure",
    "line_total",
]


def _b_line(receipt: str, at: str, quantity: str, amount: str, tag: str = TINCTURE) -> list[str]:
    return [receipt, f"2026-11-20 {at}", tag, "Tincture", "Tincture", quantity, "Each", amount]


def _package(db: Database, tag: str = TINCTURE) -> Package:
    with db.read() as session:
        return session.scalar(select(Package).where(Package.tag == tag))


def test_a_return_never_reopens_a_finished_package(store: tuple[Database, Actor], tmp_path: Path) -> None:
    db, alex = store
    held = quantities(db)[TINCTURE]
    sales_import.import_pos_file(
        db, alex, write_csv(tmp_path / "sale.csv", [B_HEADER, _b_line("R1", "10:00:00", str(held), "320.00")])
    )
    pkg = _package(db)
    assert (pkg.quantity, pkg.status) == (0, PackageStatus.FINISHED)
    result = sales_import.import_pos_file(
        db, alex, write_csv(tmp_path / "refund.csv", [B_HEADER, _b_line("R2", "15:00:00", "-1", "-32.00")])
    )
    assert result.lines_added == 1 and result.not_restocked == (TINCTURE,)
    assert f"Returns to 1 finished package(s) were not put back into stock ({TINCTURE})" in result.summary
    assert "a manager decides" in result.summary
    pkg = _package(db)
    assert (pkg.quantity, pkg.status) == (0, PackageStatus.FINISHED)  # the manager decides, not the import
    with db.read() as session:
        daily = session.scalars(select(SalesDaily)).one()
        returned = session.scalar(select(PosSaleLine).where(PosSaleLine.receipt_number == "R2"))
    assert returned.quantity == -1 and returned.package_id == pkg.id  # kept for reconciliation
    assert (daily.units, daily.revenue, daily.lines) == (held - 1, Decimal("288.00"), 2)
    assert ledger.check_balances(db, SYSTEM) == []


def test_a_return_in_the_same_file_as_the_last_sale_does_not_reopen_it(
    store: tuple[Database, Actor], tmp_path: Path
) -> None:
    db, alex = store
    held = quantities(db)[TINCTURE]
    rows = [B_HEADER, _b_line("R1", "10:00:00", str(held), "320.00"), _b_line("R2", "15:00:00", "-1", "-32.00")]
    result = sales_import.import_pos_file(db, alex, write_csv(tmp_path / "day.csv", rows))
    assert result.not_restocked == (TINCTURE,)
    assert (_package(db).quantity, _package(db).status) == (0, PackageStatus.FINISHED)


def test_a_return_restocks_at_most_what_was_sold(store: tuple[Database, Actor], tmp_path: Path) -> None:
    db, alex = store
    held = quantities(db)[TINCTURE]
    sales_import.import_pos_file(
        db, alex, write_csv(tmp_path / "sale.csv", [B_HEADER, _b_line("R1", "10:00:00", "2", "64.00")])
    )
    before = counts(db)
    huge = write_csv(tmp_path / "huge.csv", [B_HEADER, _b_line("R2", "15:00:00", "-3", "-96.00")])
    with pytest.raises(ImportFileError) as caught:
        sales_import.import_pos_file(db, alex, huge)
    assert (
        f"huge.csv, line 2, field 'qty_sold': receipt R2 returns 3 Each of {TINCTURE}, but only 2 Each were "
        "sold from it before; a return puts back at most what was sold"
    ) in str(caught.value)
    assert counts(db) == before and quantities(db)[TINCTURE] == held - 2
    million = write_csv(tmp_path / "million.csv", [B_HEADER, _b_line("R3", "15:00:00", "-1000000", "-1.00")])
    with pytest.raises(ImportFileError, match="quantity -1,000,000 is out of range"):
        sales_import.import_pos_file(db, alex, million)
    fine = sales_import.import_pos_file(
        db, alex, write_csv(tmp_path / "fine.csv", [B_HEADER, _b_line("R4", "16:00:00", "-2", "-64.00")])
    )
    assert fine.not_restocked == () and quantities(db)[TINCTURE] == held
    assert ledger.check_balances(db, SYSTEM) == []


def test_a_void_nets_to_zero(store: tuple[Database, Actor], tmp_path: Path) -> None:
    db, alex = store
    held = quantities(db)[TINCTURE]
    rows = [
        B_HEADER,
        _b_line("R1", "10:00:00", "-1", "-32.00"),
        _b_line("R1", "10:00:00", "1", "32.00"),
        _b_line("R1", "10:00:00", str(held), "320.00"),
        _b_line("R1", "10:01:00", f"-{held}", "-320.00"),
    ]
    result = sales_import.import_pos_file(db, alex, write_csv(tmp_path / "void.csv", rows))
    assert result.lines_added == 4 and result.not_restocked == ()
    pkg = _package(db)
    assert (pkg.quantity, pkg.status) == (held, PackageStatus.ACTIVE)  # selling it all then voiding did not finish it
    assert counts(db)["sales"] == 0
    with db.read() as session:
        daily = session.scalars(select(SalesDaily)).one()
    assert (daily.units, daily.revenue) == (0, Decimal("0.00"))


def test_unknown_tags_and_untagged_items_are_kept_without_a_deduction(
    store: tuple[Database, Actor], tmp_path: Path
) -> None:
    db, alex = store
    stray = "1A4060300000000000099999"
    with db.read() as session:
        sku = session.scalar(select(Package).where(Package.tag == TINCTURE)).item.sku
    header = [
        "Transaction ID",
        "Transaction Date",
        "Package ID",
        "SKU",
        "Product Name",
        "Brand",
        "Category",
        "Quantity",
        "Unit",
        "Net Sales",
        "Budtender",
    ]
    rows = [
        header,
        ["R1", "11/20/2026 10:00 AM", stray, "", "Mystery cart", "", "", "1", "Each", "$30.00", "KT"],
        ["R1", "11/20/2026 10:00 AM", "", sku, "Tincture (no tag)", "", "", "1", "", "$30.00", "KT"],
        ["R1", "11/20/2026 10:00 AM", "", "", "Lighter", "", "", "2", "", "$4.00", "KT"],
    ]
    result = sales_import.import_pos_file(db, alex, write_csv(tmp_path / "odd.csv", rows))
    assert result.lines_added == 3 and result.unknown_tags == (stray,)
    assert "1 tag(s) sold are not in this store's inventory" in result.summary
    with db.read() as session:
        lines = {line.product_name: line for line in session.scalars(select(PosSaleLine))}
        daily = session.scalars(select(SalesDaily)).all()
    assert lines["Mystery cart"].package_id is None and lines["Mystery cart"].tag == stray
    assert lines["Tincture (no tag)"].item_id is not None and lines["Tincture (no tag)"].unit.value == "Each"
    assert lines["Lighter"].item_id is None and lines["Lighter"].line_key.startswith("20261120:item:")
    assert counts(db)["sales"] == 0  # nothing this store can name was deducted
    assert [(d.units, d.revenue, d.lines) for d in daily] == [(1, Decimal("30.00"), 1)]


def test_a_receipt_number_used_again_on_another_day_is_another_sale(
    store: tuple[Database, Actor], tmp_path: Path
) -> None:
    db, alex = store
    header = B_HEADER
    for day in ("2026-11-20", "2026-11-21"):  # a POS that numbers its receipts from 1 every morning
        sale = ["1", f"{day} 10:00:00", TINCTURE, "Tincture", "Tincture", "1", "Each", "32.00"]
        result = sales_import.import_pos_file(db, alex, write_csv(tmp_path / f"{day}.csv", [header, sale]))
        assert result.lines_added == 1
    assert counts(db)["sales"] == 2


def test_an_unknown_layout_is_mapped_once_and_recognised_after(
    store: tuple[Database, Actor], samples: Path, tmp_path: Path
) -> None:
    db, alex = store
    rows = rows_of(samples, "pos_sales_export_b.csv")
    acme = [["Ticket #", "Closed", "Tag", "Item", "Qty", "UOM", "Total"]] + [
        [r[0], r[1], r[2], r[3], r[5], r[6], r[7]] for r in rows[1:41]
    ]
    with pytest.raises(UnknownLayoutError) as caught:
        sales_import.import_pos_file(db, alex, write_csv(tmp_path / "acme.csv", acme))
    assert caught.value.headers == acme[0]
    assert counts(db)["lines"] == 0

    columns = {
        "receipt_number": "Ticket #",
        "sold_at": "Closed",
        "tag": "Tag",
        "product_name": "Item",
        "quantity": "Qty",
        "unit": "UOM",
        "amount": "Total",
    }
    pos_layouts.save_layout(db, alex, "Acme POS", caught.value.headers, columns)
    assert "Acme POS" in pos_layouts.layout_names(db)
    first = sales_import.import_pos_file(db, alex, tmp_path / "acme.csv")
    assert (first.layout, first.lines_added) == ("Acme POS", 40)
    # the same headers in another order and spelling are the same layout
    rest = [[r[7], r[0], r[1], r[2], r[3], r[5], r[6]] for r in rows[41:]]
    shuffled = [["TOTAL", "ticket #", "closed", "TAG", "item", "qty", "uom"], *rest]
    second = sales_import.import_pos_file(db, alex, write_csv(tmp_path / "acme2.csv", shuffled))
    assert (second.layout, second.lines_added) == ("Acme POS", 36)
    # export B's sales already came in through Acme's files
    forced = sales_import.import_pos_file(db, alex, samples / "pos_sales_export_b.csv", layout="export-b")
    assert (forced.lines_added, forced.lines_already_imported) == (0, 76)
    with db.read() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "pos_layout.save")) == 1


def test_layout_mappings_are_checked(store: tuple[Database, Actor], samples: Path) -> None:
    db, alex = store
    headers = ["Ticket", "When", "Tag", "Qty", "Total"]
    columns = {"receipt_number": "Ticket", "sold_at": "When", "tag": "Tag", "quantity": "Qty", "amount": "Total"}
    with pytest.raises(ValidationError, match="must say which column holds: amount"):
        pos_layouts.save_layout(db, alex, "Mine", headers, {**columns, "amount": ""})
    with pytest.raises(ValidationError, match="the file has no column 'Price'"):
        pos_layouts.save_layout(db, alex, "Mine", headers, {**columns, "amount": "Price"})
    with pytest.raises(ValidationError, match="mapped to two fields"):
        pos_layouts.save_layout(db, alex, "Mine", headers, {**columns, "product_name": "Tag"})
    with pytest.raises(ValidationError, match="built-in layout's name"):
        pos_layouts.save_layout(db, alex, "Export-A", headers, columns)
    pos_layouts.save_layout(db, alex, "Mine", headers, columns)
    with pytest.raises(ValidationError, match="already called 'Mine'"):
        pos_layouts.save_layout(db, alex, "Mine", [*headers, "Budtender"], columns)
    with pytest.raises(ValidationError, match="no POS export layout 'Nope'; layouts: export-a, export-b, Mine"):
        sales_import.import_pos_file(db, alex, samples / "pos_sales_export_a.csv", layout="Nope")


def test_an_excel_export_is_the_same_sales_as_its_csv(
    store: tuple[Database, Actor], samples: Path, tmp_path: Path
) -> None:
    db, alex = store
    book = Workbook()
    sheet = book.active
    for row in rows_of(samples, "pos_sales_export_a.csv"):
        sheet.append(row)
    book.save(tmp_path / "export.xlsx")
    assert sales_import.import_pos_file(db, alex, tmp_path / "export.xlsx").lines_added == 76
    assert sales_import.import_pos_file(db, alex, samples / "pos_sales_export_b.csv").lines_added == 0


# Reading, checking, one batch of lines, the ledger, the daily totals: where a cancel is heard.
CANCEL_POINTS = 5


@pytest.mark.parametrize("heard_at", range(CANCEL_POINTS))
def test_a_cancelled_import_stores_nothing(store: tuple[Database, Actor], samples: Path, heard_at: int) -> None:
    db, alex = store
    before = counts(db), quantities(db)
    asked: list[int] = []

    def cancelled() -> bool:  # the person presses Cancel just before the step ``heard_at``
        asked.append(1)
        return len(asked) > heard_at

    with pytest.raises(Cancelled, match="pos_sales_export_b.csv was not imported: the import was cancelled"):
        sales_import.import_pos_file(db, alex, samples / "pos_sales_export_b.csv", cancelled=cancelled)
    assert (counts(db), quantities(db)) == before
    with db.read() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "import.pos_sales")) == 0


def test_a_cancel_after_the_last_step_comes_too_late_and_the_import_stands(
    store: tuple[Database, Actor], samples: Path
) -> None:
    db, alex = store
    asked: list[int] = []
    said: list[tuple[str, float]] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > CANCEL_POINTS

    result = sales_import.import_pos_file(
        db, alex, samples / "pos_sales_export_b.csv", cancelled=cancelled, progress=lambda t, f: said.append((t, f))
    )
    assert result.lines_added > 0 and counts(db)["lines"] == result.lines_added
    assert len(asked) == CANCEL_POINTS and said[-1] == ("Imported", 1.0)
    assert [f for _, f in said] == sorted(f for _, f in said)  # the bar only moves forward
