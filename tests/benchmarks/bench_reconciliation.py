"""Reconciliation on the large demo store (a copy): import a busy day's POS export (3,000
receipts, 10,000 lines, layout A: BOM, US dates, $ amounts) and METRC's receipts for it,
then reconcile the day, again (idempotent re-run), and export the workbook.
Run: python tests/benchmarks/bench_reconciliation.py"""

from __future__ import annotations

import csv
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.common import LARGE_DB, large_store, print_table, row  # noqa: E402

T = TypeVar("T")
RECEIPTS = 3_000
LINES = 10_000


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def run() -> list[dict[str, Any]]:
    large_store()
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "large.sqlite"
        shutil.copyfile(LARGE_DB, copy)
        return _measure(f"sqlite:///{copy}", Path(folder))


def _day_files(db: Any, folder: Path) -> tuple[date, Path, Path, int]:
    """A POS export and METRC's receipts for the day after the store's last sales; METRC
    misses one receipt and over-deducts one line, as on a real bad day. Returns the day, the
    two files and how many findings that makes."""
    from sqlalchemy import func, select

    from backoffice.db.models import Item, LedgerEntry, Location, Package, PosSaleLine
    from backoffice.domain.enums import LocationKind, PackageStatus
    from backoffice.services import settings

    rng = random.Random(11)
    with db.read() as session:
        day = session.scalar(select(func.max(PosSaleLine.business_date))) + timedelta(days=1)
        tz = ZoneInfo(settings.get(session, settings.TIMEZONE))
        opening = datetime.combine(day, datetime.min.time(), tz) + timedelta(hours=9)
        # not a package whose move to the floor is recorded after the day's first sale: a store
        # built today records its transfers now, and selling those is a real finding (not on the floor)
        moved_later = select(LedgerEntry.package_id).where(
            LedgerEntry.to_location_id.is_not(None), LedgerEntry.at >= opening
        )
        stock = session.execute(
            select(
                Package.tag, Package.quantity, Package.unit, Item.sku, Item.name, Item.brand, Item.category, Item.price
            )
            .join(Item, Item.id == Package.item_id)
            .join(Location, Location.id == Package.location_id)
            .where(
                Location.kind == LocationKind.FLOOR,
                Package.status == PackageStatus.ACTIVE,
                Package.quantity >= 3,
                Package.id.not_in(moved_later),
            )
            .order_by(Package.id)
        ).all()
    left = {s.tag: s.quantity for s in stock}
    per_receipt = [1] * RECEIPTS
    for _ in range(LINES - RECEIPTS):
        per_receipt[rng.randrange(RECEIPTS)] += 1
    pos_rows, receipts = [], []
    for n, count in enumerate(per_receipt, start=1):
        number = f"B{day:%m%d}-{n:05d}"
        sold_at = opening + timedelta(seconds=n * 12 * 3600 // RECEIPTS)
        transactions = []
        chosen: dict[str, Any] = {}
        while len(chosen) < count:  # distinct packages that still hold a unit
            s = rng.choice(stock)
            if left[s.tag] >= 1 and s.tag not in chosen:
                left[s.tag] -= 1
                chosen[s.tag] = s
        for s in chosen.values():
            amount = Decimal(s.price or 10).quantize(Decimal("0.01"))
            pos_rows.append(
                [
                    number,
                    sold_at.strftime("%m/%d/%Y %I:%M %p"),
                    s.tag,
                    s.sku,
                    s.name,
                    s.brand,
                    s.category,
                    "1",
                    s.unit.value,
                    f"${amount:,.2f}",
                    "KT",
                ]
            )
            transactions.append(
                {"PackageLabel": s.tag, "Quantity": 1.0, "UnitOfMeasure": s.unit.value, "TotalAmount": float(amount)}
            )
        receipts.append(
            {
                "Id": 7_000_000 + n,
                "ReceiptNumber": f"M{7_000_000 + n}",
                "ExternalReceiptNumber": number,
                "SalesDateTime": sold_at.strftime("%Y-%m-%dT%H:%M:%S"),
                "SalesCustomerType": "Consumer",
                "Transactions": transactions,
            }
        )
    never_synced = receipts.pop(RECEIPTS // 2)
    receipts[10]["Transactions"][0]["Quantity"] = 2.0  # METRC deducted one too many
    pos = folder / f"pos-{day}.csv"
    with pos.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(
            [
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
        )
        writer.writerows(pos_rows)
    metrc = folder / f"metrc-{day}.json"
    metrc.write_text(json.dumps(receipts))
    return day, pos, metrc, len(never_synced["Transactions"]) + 1


def _measure(url: str, folder: Path) -> list[dict[str, Any]]:
    from backoffice.db.engine import Database
    from backoffice.exporters import reconciliation_workbook
    from backoffice.services import reconciliation, sales_import, users

    db = Database(url)
    try:
        actor = users.actor_for(db, "alex")
        day, pos, metrc, planted = _day_files(db, folder)
        imported, took = _timed(lambda: sales_import.import_pos_file(db, actor, pos))
        rows = [row(f"import a day's POS export ({imported.lines_added:,} lines)", "< 1 s", f"{took:.2f} s", took < 1)]
        stored, took = _timed(lambda: sales_import.import_metrc_file(db, actor, metrc))
        rows.append(row(f"import METRC receipts ({stored.added:,} receipts)", "< 1 s", f"{took:.2f} s", took < 1))
        view, took = _timed(lambda: reconciliation.reconcile_day(db, actor, day))
        summary = view.summary
        figure = f"reconcile {summary.pos_receipts:,} receipts / {summary.pos_lines:,} lines ({view.new} findings)"
        rows.append(row(figure, "< 0.5 s", f"{took:.2f} s", took < 0.5 and view.new == planted))
        again, took = _timed(lambda: reconciliation.reconcile_day(db, actor, day))
        rows.append(
            row(
                "reconcile the same day again (no new findings)",
                "< 0.5 s",
                f"{took:.2f} s",
                took < 0.5 and again.new == 0,
            )
        )
        _, took = _timed(lambda: sales_import.import_pos_file(db, actor, pos))
        rows.append(row("re-import the same POS export (no-op)", "< 1 s", f"{took:.2f} s", took < 1))
        _, took = _timed(lambda: reconciliation_workbook.write_reconciliation_workbook(again, folder / "day.xlsx"))
        rows.append(row("export the reconciliation workbook", "< 1 s", f"{took:.2f} s", took < 1))
        return rows
    finally:
        db.dispose()


if __name__ == "__main__":
    print_table(run())
