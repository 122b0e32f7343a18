"""Label rendering: 500 labels to PDF on a sheet template and on a thermal roll.
Run: python tests/benchmarks/bench_labels.py"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.common import print_table, row  # noqa: E402

LABELS = 500
TARGET_S = 3.0


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
            rows.append(row(f"{LABELS} labels to PDF, {template} ({result.pages} pages)", f"< {TARGET_S:.0f} s",
                            f"{elapsed:.2f} s", elapsed < TARGET_S))
            rows.append(row(f"PDF size, {LABELS} labels, {template}", "-",
                            f"{out.stat().st_size / 1e6:.2f} MB", True))
    return rows


if __name__ == "__main__":
    print_table(run())
