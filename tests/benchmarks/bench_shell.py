"""Application shell on the large demo store: cold start, scan-to-feedback latency,
filter keystroke latency, resident memory.  Run: python tests/benchmarks/bench_shell.py"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.common import ROOT, large_store, print_table, row  # noqa: E402

# Runs in a fresh interpreter so the start-up time includes every import.
_PROBE = r"""
import os, resource, statistics, sys, time
t0 = time.perf_counter()
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from PySide6.QtTest import QTest
app = QApplication([])
from backoffice.db.engine import Database
from backoffice.db.migrate import upgrade
from backoffice.services import users
from ui.context import AppContext
from ui.main_window import MainWindow
db = Database(sys.argv[1])
upgrade(db)
ctx = AppContext(db, QSettings(sys.argv[2], QSettings.Format.IniFormat))
window = MainWindow(ctx)
ctx.sign_in(users.authenticate(db, "alex", "1111").as_actor())
window.show()
app.processEvents()
startup = time.perf_counter() - t0
while not window.tab_widgets[0].model.rows:
    app.processEvents()
first_page = time.perf_counter() - t0
window.scanner.install(app)
inventory = window.tab_widgets[0]
while inventory.model.active_search is None:  # steady state: the in-memory search is loaded
    app.processEvents()
    time.sleep(0.01)
inventory.apply_filter()
tags = [r.tag for r in inventory.model.rows[:50]]
from sqlalchemy import text
with db.read() as s:
    tags += [t for (t,) in s.execute(text("SELECT tag FROM packages WHERE status='active' ORDER BY id LIMIT 950 OFFSET 7000"))]
inventory.view.setFocus()
lat = []
for tag in tags[:1000]:
    window.scanner._silence.stop()
    start = time.perf_counter()
    window.handle_scan(tag)
    window.status_label.repaint()  # the feedback the associate sees
    lat.append((time.perf_counter() - start) * 1000)
    app.processEvents()  # then the history panel fills in
    inventory.filter.blockSignals(True); inventory.filter.clear(); inventory.filter.blockSignals(False)
inventory.apply_filter()
lat.sort()
keys = []
for word in ("g", "gu", "gum", "gumm", "gummi", "gummies", "gummies b", "gummies bl", "gummies blu"):
    start = time.perf_counter()
    inventory.filter.setText(word)
    inventory.apply_filter()
    app.processEvents()
    keys.append((time.perf_counter() - start) * 1000)
rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
print(f"{startup:.3f} {first_page:.3f} {lat[len(lat)//2]:.2f} {lat[int(len(lat)*0.99)-1]:.2f} {max(keys):.1f} {statistics.median(keys):.1f} {rss:.0f}")
"""


def run() -> list[dict[str, Any]]:
    url = large_store()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LANG="C.UTF-8")
    out = subprocess.run([sys.executable, "-c", _PROBE, url, "/tmp/vault-bench/settings.ini"], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    startup, first_page, p50, p99, key_max, key_med, rss = (float(x) for x in out[-7:])
    return [
        row("cold start to usable main window", "< 1.5 s", f"{startup:.2f} s", startup < 1.5),
        row("cold start to first page of packages", "-", f"{first_page:.2f} s", True),
        row("scan-to-feedback p50 (1,000 scans)", "-", f"{p50:.1f} ms", True),
        row("scan-to-feedback p99 (1,000 scans)", "< 16 ms", f"{p99:.1f} ms", p99 < 16),
        row("filter keystroke latency, worst of 9", "< 100 ms", f"{key_max:.0f} ms (median {key_med:.0f})", key_max < 100),
        row("resident memory after the run", "< 400 MB", f"{rss:.0f} MB", rss < 400),
    ]


if __name__ == "__main__":
    print_table(run())
