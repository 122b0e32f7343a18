"""Storing METRC sales receipts: once per receipt (METRC's Id, else its number), replaced when
METRC changed it, the same from JSON or CSV, and nothing from a bad file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.db.engine import Database
from backoffice.db.models import MetrcReceipt, MetrcReceiptLine
from backoffice.errors import ImportFileError
from backoffice.services import sales_import
from backoffice.services.actor import Actor
from tests.unit.test_sales_import import DAY


def _stored(db: Database) -> tuple[int, int]:
    with db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(MetrcReceipt)) or 0,
            session.scalar(select(func.count()).select_from(MetrcReceiptLine)) or 0,
        )


def test_receipts_are_stored_once_and_replaced_when_metrc_changed_them(
    db: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    alex = actors["alex"]
    first = sales_import.import_metrc_file(db, alex, samples / "metrc_sales_receipts.json")
    assert (first.receipts, first.added, first.updated, first.unchanged, first.business_dates) == (39, 39, 0, 0, (DAY,))
    assert _stored(db) == (39, 75)
    again = sales_import.import_metrc_file(db, alex, samples / "metrc_sales_receipts.json")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 39)

    receipts = json.loads((samples / "metrc_sales_receipts.json").read_text())
    receipts[0]["Transactions"].append(
        {"PackageLabel": "1A4060300000000000000010", "Quantity": 1, "UnitOfMeasure": "Each", "TotalAmount": 20.0}
    )
    (tmp_path / "edited.json").write_text(json.dumps(receipts))
    edited = sales_import.import_metrc_file(db, alex, tmp_path / "edited.json")
    assert (edited.added, edited.updated, edited.unchanged) == (0, 1, 38)
    assert _stored(db) == (39, 76)
    with db.read() as session:
        receipt = session.scalar(select(MetrcReceipt).where(MetrcReceipt.metrc_id == receipts[0]["Id"]))
        tags = sorted(session.scalars(select(MetrcReceiptLine.tag).where(MetrcReceiptLine.receipt_id == receipt.id)))
    assert tags == ["1A4060300000000000000009", "1A4060300000000000000010"]
    assert receipt.business_date == DAY and receipt.sold_at.isoformat() == "2026-11-20T17:43:00+00:00"


def test_a_csv_export_is_the_same_receipts(
    db: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    alex = actors["alex"]
    receipts = json.loads((samples / "metrc_sales_receipts.json").read_text())
    with (tmp_path / "receipts.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "Id",
                "ReceiptNumber",
                "SalesDateTime",
                "SalesCustomerType",
                "PackageLabel",
                "Quantity",
                "UnitOfMeasure",
                "TotalAmount",
            ]
        )
        for r in receipts:
            for t in r["Transactions"]:
                writer.writerow(
                    [
                        r["Id"],
                        r["ReceiptNumber"],
                        r["SalesDateTime"],
                        r["SalesCustomerType"],
                        t["PackageLabel"],
                        t["Quantity"],
                        t["UnitOfMeasure"],
                        t["TotalAmount"],
                    ]
                )
    assert sales_import.import_metrc_file(db, alex, tmp_path / "receipts.csv").added == 39
    json_import = sales_import.import_metrc_file(db, alex, samples / "metrc_sales_receipts.json")
    assert (json_import.added, json_import.updated, json_import.unchanged) == (0, 0, 39)


@pytest.mark.parametrize(
    "case, message",
    [
        ("packages", "holds METRC packages, not sales receipts"),
        ("no transactions", "a receipt must list at least one transaction"),
        ("long number", "is longer than 40 characters"),
    ],
)
def test_a_bad_receipts_file_imports_nothing(
    db: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path, case: str, message: str
) -> None:
    if case == "packages":
        path = samples / "metrc_packages_active.json"
    else:
        receipts = json.loads((samples / "metrc_sales_receipts.json").read_text())
        if case == "no transactions":
            receipts[5]["Transactions"] = []
        else:
            receipts[5]["ReceiptNumber"] = "R" * 41
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(receipts))
    with pytest.raises(ImportFileError) as caught:
        sales_import.import_metrc_file(db, actors["alex"], path)
    assert message in str(caught.value)
    if case != "packages":
        assert [p.line for p in caught.value.problems] == [6]  # the record's number in the list
    assert _stored(db) == (0, 0)
