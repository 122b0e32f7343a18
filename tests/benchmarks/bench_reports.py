"""Purchasing workbooks on the large demo store (5,000 SKUs, 1.5 million sale lines).

- Velocity workbook end to end (report from sales_daily + stock, then the xlsx), against the
  plain pandas pipeline over the same sales measured in the same run: read_sql of the sale
  lines, pivot_table for the sales figures of the Summary and Weekly sheets, to_excel. The
  last sale of each SKU needs every line; the same pipeline reading only the window's lines
  (SQL-filtered, so without the last sale) is shown beside it. Best of 3 runs each.
- Accuracy workbook for a year of daily cycle counts (150 packages each, ~5 % off, an
  adjustment per difference). The demo store has no counts, so they are added to a copy of
  it made with SQLite's backup API; the shared store is never written.

Run: python tests/benchmarks/bench_reports.py
"""

from __future__ import annotations

import random
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.common import large_store, print_table, row  # noqa: E402

WEEKS = 13
RUNS = 3  # each figure is the best of this many runs, ours and pandas' interleaved: the machine is shared
VELOCITY_TARGET_S = 5.0
ACCURACY_TARGET_S = 2.0
SPEEDUP_TARGET = 2.0
COUNT_DAYS, LINES_PER_COUNT = 365, 150


def run() -> list[dict[str, Any]]:
    from backoffice.db.engine import Database

    url = large_store()
    db = Database(url)
    try:
        with tempfile.TemporaryDirectory() as folder:
            rows = _velocity(db, url, Path(folder))
            rows += _accuracy(url, Path(folder))
    finally:
        db.dispose()
    return rows


# --- velocity ---------------------------------------------------------------------------------


def _last_sales_day(db: Any) -> date:
    from sqlalchemy import func, select

    from backoffice.db.models import SalesDaily

    with db.read() as session:
        return session.scalar(select(func.max(SalesDaily.day)))


def _ours(db: Any, through: date, out: Path) -> tuple[float, int]:
    from backoffice.exporters.velocity_workbook import write_velocity_workbook
    from backoffice.services.actor import SYSTEM
    from backoffice.services.reports import velocity_report

    started = time.perf_counter()
    report = velocity_report(db, SYSTEM, weeks=WEEKS, through=through)
    write_velocity_workbook(report, out)
    return time.perf_counter() - started, len(report.rows)


def _pandas(url: str, through: date, out: Path, *, window_only: bool = False) -> tuple[float, int]:
    """The plain pipeline: read_sql of the sale lines, pandas for the sales figures the Summary
    and Weekly sheets hold (units and revenue in the last 7/28/91 days, the previous period,
    the last sale, units per SKU × week), DataFrame.to_excel. The last sale needs every line;
    ``window_only`` reads just the lines of the window and the period before it (SQL-filtered),
    for comparison."""
    import pandas as pd
    from sqlalchemy import create_engine, text

    started = time.perf_counter()
    engine = create_engine(url)
    first = through - timedelta(days=7 * 2 * WEEKS)
    where = (
        f"WHERE business_date > '{first.isoformat()}' AND business_date <= '{through.isoformat()}'"
        if window_only
        else ""
    )
    lines = pd.read_sql(text(f"SELECT item_id, business_date, quantity, amount FROM pos_sale_lines {where}"), engine)
    items = pd.read_sql(text("SELECT id AS item_id, sku, name, brand, category FROM items"), engine)
    engine.dispose()
    lines["units"] = lines["quantity"] / 10_000  # stored as scaled integers
    lines["revenue"] = lines["amount"] / 100
    lines["age"] = (pd.Timestamp(through) - pd.to_datetime(lines["business_date"])).dt.days
    lines = lines[lines["age"] >= 0].merge(items, on="item_id")
    key = ["sku", "name", "brand", "category"]
    summary = lines.groupby(key)["business_date"].max().rename("last sale").to_frame()
    for days in (7, 28, 91):
        recent = lines[lines["age"] < days]
        summary[f"units {days} days"] = recent.pivot_table(index=key, values="units", aggfunc="sum")["units"]
        summary[f"revenue {days} days"] = recent.pivot_table(index=key, values="revenue", aggfunc="sum")["revenue"]
    before = lines[(lines["age"] >= 7 * WEEKS) & (lines["age"] < 14 * WEEKS)]
    summary["units previous period"] = before.pivot_table(index=key, values="units", aggfunc="sum")["units"]
    window = lines[lines["age"] < 7 * WEEKS].assign(week=lambda f: WEEKS - 1 - f["age"] // 7)
    weekly = window.pivot_table(index=key, columns="week", values="units", aggfunc="sum", fill_value=0)
    with pd.ExcelWriter(out) as writer:
        summary.fillna(0).to_excel(writer, sheet_name="Summary")
        weekly.to_excel(writer, sheet_name="Weekly")
    return time.perf_counter() - started, len(lines)


def _velocity(db: Any, url: str, folder: Path) -> list[dict[str, Any]]:
    through = _last_sales_day(db)
    _ours(db, through, folder / "warm-up.xlsx")  # imports and the page cache, for both pipelines
    ours_runs, theirs_runs, window_runs = [], [], []
    for _ in range(RUNS):
        ours_runs.append(_ours(db, through, folder / "velocity.xlsx"))
        theirs_runs.append(_pandas(url, through, folder / "pandas.xlsx"))
        window_runs.append(_pandas(url, through, folder / "pandas-window.xlsx", window_only=True))
    (ours, skus), (theirs, lines), (window, window_lines) = min(ours_runs), min(theirs_runs), min(window_runs)
    return [
        row(
            f"velocity workbook, {WEEKS} weeks, {skus:,} SKUs, end to end",
            f"< {VELOCITY_TARGET_S:.0f} s",
            f"{ours:.2f} s",
            ours < VELOCITY_TARGET_S,
        ),
        row(f"pandas read_sql + pivot_table + to_excel, all {lines:,} sale lines", "-", f"{theirs:.2f} s", True),
        row(
            "velocity workbook vs that pandas pipeline",
            f">= {SPEEDUP_TARGET:.0f}x faster",
            f"{theirs / ours:.1f}x",
            theirs / ours >= SPEEDUP_TARGET,
        ),
        row(
            f"  same pipeline reading only the {window_lines:,} lines of the window (no last sale)",
            "-",
            f"{window:.2f} s ({window / ours:.1f}x)",
            True,
        ),
    ]


# --- accuracy ---------------------------------------------------------------------------------


def _copy(url: str, target: Path) -> str:
    source = sqlite3.connect(url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(target)
    with copy:
        source.backup(copy)  # consistent, WAL included
    source.close()
    copy.close()
    return f"sqlite:///{target}"


def _add_a_year_of_counts(db: Any, through: date) -> int:
    """Daily counts of 150 packages of one category each (rotating), counted before opening;
    about one line in twenty is off and gets an adjustment."""
    from sqlalchemy import func, insert, select

    from backoffice.db.models import Adjustment, CountEntry, CountExpected, CountSession, Item, Package, User
    from backoffice.db.models import LedgerEntry as Ledger
    from backoffice.domain.enums import CountStatus

    rng = random.Random(11)
    zone = ZoneInfo("America/Los_Angeles")
    reasons = ["Theft", "Damage", "Scale Variance", "Entry Error", "Waste", "Inventory Audit"]
    with db.transaction() as s:
        users = dict(s.execute(select(User.username, User.id)).all())
        by_category: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row_ in s.execute(
            select(
                Package.id,
                Package.tag,
                Package.item_id,
                Package.unit,
                Package.received_at,
                Package.finished_at,
                Item.category,
                Item.price,
            ).join(Item, Item.id == Package.item_id)
        ):
            by_category[row_.category].append(tuple(row_))
        categories = sorted(by_category)
        sessions = 0
        for n in range(COUNT_DAYS):
            day = through - timedelta(days=COUNT_DAYS - 1 - n)
            snapshot = datetime(day.year, day.month, day.day, 7, tzinfo=zone).astimezone(UTC)
            category = categories[n % len(categories)]
            alive = [
                p
                for p in by_category[category]
                if p[4] is not None and p[4] < snapshot and (p[5] is None or p[5] > snapshot)
            ]
            chosen = rng.sample(alive, min(LINES_PER_COUNT + 1, len(alive)))
            if not chosen:
                continue
            balances = dict(
                s.execute(
                    select(Ledger.package_id, func.sum(Ledger.quantity_delta))
                    .where(Ledger.package_id.in_([p[0] for p in chosen]), Ledger.at <= snapshot)
                    .group_by(Ledger.package_id)
                ).all()
            )
            submitted = snapshot + timedelta(hours=2)
            count_id = s.execute(
                insert(CountSession)
                .values(
                    name=f"{category} {day}",
                    scope=f'{{"categories": ["{category}"], "locations": []}}',
                    blind=True,
                    status=CountStatus.SUBMITTED,
                    started_by_id=users["alex"],
                    snapshot_at=snapshot,
                    submitted_at=submitted,
                    submitted_by_id=users["alex"],
                )
                .returning(CountSession.id)
            ).scalar_one()
            exp_rows, entry_rows, adj_rows = [], [], []
            lines = matching = 0
            unit_var, dollar_var = Decimal(0), Decimal(0)
            for k, (pid, tag, item_id, unit, _, _, _, price) in enumerate(chosen):
                balance = balances.get(pid, Decimal(0))
                roll = rng.random()
                off = Decimal(0) if roll > 0.05 else Decimal(-1) if roll > 0.01 else Decimal(1)
                counted = max(Decimal(0), balance + off)
                off = counted - balance
                if k < len(chosen) - 1:  # the last one is a find: counted, not expected
                    exp_rows.append(
                        {
                            "session_id": count_id,
                            "tag": tag,
                            "package_id": pid,
                            "item_id": item_id,
                            "unit": unit,
                            "ledger_qty": balance,
                            "unit_price": price,
                        }
                    )
                entry_rows.append(
                    {
                        "session_id": count_id,
                        "tag": tag,
                        "package_id": pid,
                        "quantity": counted,
                        "in_scope": k < len(chosen) - 1,
                        "counted_by_id": users["alex"],
                        "counted_at": snapshot + timedelta(minutes=10 + k // 3),
                    }
                )
                lines += 1
                matching += off == 0
                unit_var += abs(off)
                dollar_var += abs(off * price)
                if off:
                    adj_rows.append(
                        {
                            "package_id": pid,
                            "quantity_delta": off,
                            "unit": unit,
                            "before_quantity": balance,
                            "after_quantity": counted,
                            "reason": rng.choice(reasons),
                            "note": f"count {count_id}: {'short' if off < 0 else 'over'} by {abs(off)}",
                            "adjusted_at": submitted + timedelta(minutes=5),
                            "user_id": users["alex"],
                            "approved_by_id": users["maria"] if rng.random() < 0.3 else None,
                            "count_session_id": count_id,
                            "unit_value": price,
                        }
                    )
            s.execute(insert(CountExpected), exp_rows)
            s.execute(insert(CountEntry), entry_rows)
            if adj_rows:
                s.execute(insert(Adjustment), adj_rows)
            s.execute(
                CountSession.__table__.update()
                .where(CountSession.id == count_id)
                .values(
                    lines_counted=lines,
                    lines_matching=matching,
                    unit_variance=unit_var,
                    dollar_variance=dollar_var.quantize(Decimal("0.01")),
                )
            )
            sessions += 1
    return sessions


def _accuracy(url: str, folder: Path) -> list[dict[str, Any]]:
    from backoffice.db.engine import Database
    from backoffice.exporters.accuracy_workbook import write_accuracy_workbook
    from backoffice.services.actor import SYSTEM
    from backoffice.services.reports import accuracy_report

    db = Database(_copy(url, folder / "with-counts.sqlite"))
    try:
        through = _last_sales_day(db)
        sessions = _add_a_year_of_counts(db, through)
        since = through - timedelta(days=COUNT_DAYS - 1)
        accuracy_report(db, SYSTEM, since=since, until=through)  # warm the copy's pages
        runs = []
        for _ in range(RUNS):
            started = time.perf_counter()
            report = accuracy_report(db, SYSTEM, since=since, until=through)
            write_accuracy_workbook(report, folder / "accuracy.xlsx")
            runs.append(time.perf_counter() - started)
        elapsed = min(runs)
    finally:
        db.dispose()
    return [
        row(
            f"accuracy workbook, {sessions} counts, {report.lines_counted:,} lines, "
            f"{len(report.adjustments):,} adjustments",
            f"< {ACCURACY_TARGET_S:.0f} s",
            f"{elapsed:.2f} s",
            elapsed < ACCURACY_TARGET_S,
        )
    ]


if __name__ == "__main__":
    print_table(run())
