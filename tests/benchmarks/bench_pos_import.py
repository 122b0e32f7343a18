"""POS import on the large demo store (a copy): a busy day's export of 10,000 lines (layout A:
BOM, US dates, $ amounts), and a 200,000-row export (a month of a chain's tills in one file,
tab-separated, split date and time, decimal commas) imported in a child process whose peak
memory is measured. Run: python tests/benchmarks/bench_pos_import.py"""

from __future__ import annotations

import csv
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.bench_reconciliation import _day_files
from tests.benchmarks.common import LARGE_DB, ROOT, large_store, print_table, row

BIG = 200_000
TILL_HEADERS = ["Ticket No", "Sold On", "At", "METRC ID", "Description", "Units", "UoM", "Ext. Price"]


def run() -> list[dict[str, Any]]:
    large_store()
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "large.sqlite"
        shutil.copyfile(LARGE_DB, copy)
        return _measure(f"sqlite:///{copy}", Path(folder))


def _big_file(db: Any, folder: Path) -> Path:
    """BIG lines over the day after the store's last sales: each floor package that holds stock
    sells a unit at most as often as it can; the rest are accessories without a tag."""
    from sqlalchemy import func, select

    from backoffice.db.models import Item, Location, Package, PosSaleLine
    from backoffice.domain.enums import LocationKind, PackageStatus
    from backoffice.services import settings

    rng = random.Random(5)
    with db.read() as session:
        day = session.scalar(select(func.max(PosSaleLine.business_date))) + timedelta(days=2)
        tz = ZoneInfo(settings.get(session, settings.TIMEZONE))
        stock = session.execute(
            select(Package.tag, Package.quantity, Package.unit, Item.name)
            .join(Item, Item.id == Package.item_id)
            .join(Location, Location.id == Package.location_id)
            .where(
                Location.kind == LocationKind.FLOOR,
                Package.status == PackageStatus.ACTIVE,
                Package.quantity >= 1,
                Package.unit == "Each",
            )
            .order_by(Package.id)
        ).all()
    left = {s.tag: int(s.quantity) - 1 for s in stock}  # the 10,000-line day may take one more
    opening = datetime.combine(day, datetime.min.time(), tz) + timedelta(hours=9)
    path = folder / "month.tsv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter="\t", lineterminator="\r\n")
        writer.writerow(TILL_HEADERS)
        for n in range(BIG):
            at = opening + timedelta(seconds=n * 12 * 3600 // BIG)
            s = stock[rng.randrange(len(stock))]
            if left[s.tag] > 0:
                left[s.tag] -= 1
                writer.writerow(
                    [f"T{n // 3:06d}", f"{at:%m/%d/%Y}", f"{at:%I:%M %p}", s.tag, s.name, "1", "Each", "12,50"]
                )
            else:
                writer.writerow(
                    [f"T{n // 3:06d}", f"{at:%m/%d/%Y}", f"{at:%I:%M %p}", "", "Lighter", "1", "Each", "2,00"]
                )
    return path


_CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from backoffice.db.engine import Database
from backoffice.services import pos_layouts, sales_import, users
db = Database({url!r})
actor = users.actor_for(db, "alex")
guess = pos_layouts.guess(db, actor, {path!r})
pos_layouts.save_layout(db, actor, "Chain tills", guess.headers, guess.columns, number_format=guess.number_format)
started = time.perf_counter()
result = sales_import.import_pos_file(db, actor, {path!r})
peak_kb = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
print(result.lines_added, time.perf_counter() - started, peak_kb)
"""


def _measure(url: str, folder: Path) -> list[dict[str, Any]]:
    from backoffice.db.engine import Database
    from backoffice.services import sales_import, users

    db = Database(url)
    try:
        actor = users.actor_for(db, "alex")
        _day, pos, _metrc, _planted = _day_files(db, folder)
        started = time.perf_counter()
        imported = sales_import.import_pos_file(db, actor, pos)
        took = time.perf_counter() - started
        rows = [
            row(f"import a day's POS export ({imported.lines_added:,} lines)", "< 0.5 s", f"{took:.2f} s", took < 0.5)
        ]
        big = _big_file(db, folder)
    finally:
        db.dispose()
    child = subprocess.run(
        [sys.executable, "-c", _CHILD.format(root=str(ROOT), url=url, path=str(big))],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    # the child's own peak (VmHWM starts afresh at exec): getrusage's maxrss would carry the
    # RSS of this process at fork, ~500 MB under tests/benchmarks/run after the other benchmarks
    added, took_text, peak_kb = child.stdout.split()[-3:]
    peak_mb = int(peak_kb) / 1024
    took = float(took_text)
    rows.append(
        row(
            f"import a {BIG:,}-row export (TSV, split time, 1.234,56; {int(added):,} lines)",
            "< 10 s",
            f"{took:.2f} s",
            took < 10,
        )
    )
    rows.append(row("  peak memory of that import's process", "< 400 MB", f"{peak_mb:,.0f} MB", peak_mb < 400))
    return rows


if __name__ == "__main__":
    print_table(run())
