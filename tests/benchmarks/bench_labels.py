"""Label rendering: 500 labels to PDF on a sheet template and on a thermal roll; choosing labels
from the large demo store (read only) and rendering 500 of them.
Run: python tests/benchmarks/bench_labels.py"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.common import large_store, print_table, row  # noqa: E402

LABELS = 500
TARGET_S = 3.0
CHOOSE_CATEGORY_S = 2.0
CHOOSE_TAGS_S = 0.5


def run() -> list[dict[str, Any]]:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from backoffice.labels.qtapp import ensure_gui_app
    from backoffice.labels.render import render_labels_pdf
    from backoffice.labels.samples import sample_labels

    ensure_gui_app()  # the GUI already has its application; don't time creating one
    labels = sample_labels(LABELS)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for template in ("avery-5160", "thermal-2x1"):
            out = Path(folder) / f"{template}.pdf"
            start = time.perf_counter()
            result = render_labels_pdf(labels, template, out)
            elapsed = time.perf_counter() - start
            rows.append(
                row(
                    f"{LABELS} labels to PDF, {template} ({result.pages} pages)",
                    f"< {TARGET_S:.0f} s",
                    f"{elapsed:.2f} s",
                    elapsed < TARGET_S,
                )
            )
            rows.append(row(f"PDF size, {LABELS} labels, {template}", "-", f"{out.stat().st_size / 1e6:.2f} MB", True))
        rows += _from_database(Path(folder))
    return rows


def _from_database(folder: Path) -> list[dict[str, Any]]:
    """The service path on the large store: choose a category, choose 500 scanned tags, render them.
    Nothing is logged: the shared benchmark store stays as built."""
    from backoffice.db.engine import Database
    from backoffice.labels.render import render_labels_pdf
    from backoffice.services.actor import SYSTEM
    from backoffice.services.labels import Selection, Source, select_labels

    db = Database(large_store())
    try:
        start = time.perf_counter()
        category = select_labels(db, SYSTEM, Selection(Source.CATEGORY, ("Buds",)))
        elapsed = time.perf_counter() - start
        rows = [
            row(
                f"choose bin labels for a category, large store ({len(category.lines):,} packages)",
                f"< {CHOOSE_CATEGORY_S:.0f} s",
                f"{elapsed:.2f} s",
                elapsed < CHOOSE_CATEGORY_S,
            )
        ]
        tags = tuple(line.label.tag for line in category.lines[:LABELS])
        start = time.perf_counter()
        scanned = select_labels(db, SYSTEM, Selection(Source.TAGS, tags))
        elapsed = time.perf_counter() - start
        rows.append(
            row(
                f"choose {len(tags)} scanned tags, large store",
                f"< {CHOOSE_TAGS_S} s",
                f"{elapsed:.2f} s",
                elapsed < CHOOSE_TAGS_S,
            )
        )
        start = time.perf_counter()
        render_labels_pdf(scanned.labels, "avery-5160", folder / "store.pdf", lab_override=True)  # timing paint only
        elapsed = time.perf_counter() - start
        rows.append(
            row(
                f"{len(tags)} labels from the store to PDF, avery-5160",
                f"< {TARGET_S:.0f} s",
                f"{elapsed:.2f} s",
                elapsed < TARGET_S,
            )
        )
        return rows
    finally:
        db.dispose()


if __name__ == "__main__":
    print_table(run())
