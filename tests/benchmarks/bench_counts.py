"""Cycle counts on the large demo store (a copy: the shared store stays as built): start a
category count and a whole-store count, scan feedback and recording latency, the variance
view, submit, and the count sheet PDF.
Run: python tests/benchmarks/bench_counts.py"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.common import LARGE_DB, large_store, print_table, row  # noqa: E402

T = TypeVar("T")
SCANS = 100


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def run() -> list[dict[str, Any]]:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    large_store()
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "large.sqlite"
        shutil.copyfile(LARGE_DB, copy)
        return _measure(f"sqlite:///{copy}", Path(folder))


def _measure(url: str, folder: Path) -> list[dict[str, Any]]:
    from sqlalchemy import func, select

    from backoffice.db.engine import Database
    from backoffice.db.models import Item, Package
    from backoffice.domain.enums import PackageStatus
    from backoffice.exporters import count_sheet
    from backoffice.labels.qtapp import ensure_gui_app
    from backoffice.services import counts, users

    ensure_gui_app()
    db = Database(url)
    try:
        actor = users.actor_for(db, "alex")
        with db.read() as session:
            category = session.execute(
                select(Item.category, func.count()).join(Package, Package.item_id == Item.id)
                .where(Package.status != PackageStatus.FINISHED).group_by(Item.category)
                .order_by(func.count().desc())).first()[0]
        info, started = _timed(lambda: counts.start_count(db, actor, "bench", counts.Scope(categories=(category,))))
        rows = [row(f"start a count of {category!r} ({info.expected_lines:,} packages)", "< 5 s",
                    f"{started:.2f} s", started < 5)]
        lines = counts.variance_lines(db, actor, info.id)
        tags = [ln.tag for ln in lines[:SCANS]]
        feedback, recording = [], []
        for tag in tags:
            _, took = _timed(lambda tag=tag: counts.tag_status(db, actor, info.id, tag))  # type: ignore[misc]
            feedback.append(took)
            _, took = _timed(lambda tag=tag: counts.record_count(db, actor, info.id, tag, 1))  # type: ignore[misc]
            recording.append(took)
        p95 = sorted(feedback)[int(len(feedback) * 0.95) - 1]
        rows.append(row(f"scan feedback (tag_status), p95 of {SCANS}", "< 16 ms", f"{p95 * 1000:.1f} ms", p95 < 0.016))
        median = statistics.median(recording)
        rows.append(row(f"record a count (one transaction), median of {SCANS}", "< 50 ms", f"{median * 1000:.1f} ms",
                        median < 0.05))
        lines, took = _timed(lambda: counts.variance_lines(db, actor, info.id))
        rows.append(row(f"variance view, {len(lines):,} lines", "< 2 s", f"{took:.2f} s", took < 2))
        result, took = _timed(lambda: count_sheet.export_count_sheet(db, actor, info.id, folder / "sheet.pdf"))
        rows.append(row(f"count sheet PDF, {result.lines:,} packages ({result.pages} pages)", "< 10 s",
                        f"{took:.2f} s", took < 10))
        done, took = _timed(lambda: counts.submit(db, actor, info.id, uncounted_as_zero=True))
        rows.append(row(f"submit, {done.lines_counted:,} lines (uncounted recorded as 0)", "< 5 s", f"{took:.2f} s",
                        took < 5))
        whole, took = _timed(lambda: counts.start_count(db, actor, "whole store", counts.Scope()))
        rows.append(row(f"start a whole-store count ({whole.expected_lines:,} packages)", "< 20 s", f"{took:.2f} s",
                        took < 20))
        lines, took = _timed(lambda: counts.variance_lines(db, actor, whole.id))
        rows.append(row(f"variance view, whole store ({len(lines):,} lines)", "< 10 s", f"{took:.2f} s", took < 10))
        return rows
    finally:
        db.dispose()


if __name__ == "__main__":
    print_table(run())
