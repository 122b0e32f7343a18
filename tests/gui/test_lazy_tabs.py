"""The main window lists every tab from the start but builds each when it is first shown, so
start-up imports only what the Inventory tab (where a sign-in starts) needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backoffice.services.changes import Changes
from tests.conftest import PINS
from tests.gui.conftest import open_tab
from ui.main_window import MainWindow
from ui.tabs import TABS
from ui.tabs.cycle_count import CycleCountTab
from ui.tabs.inventory import InventoryTab
from ui.tabs.metrc_outbox import MetrcTab
from ui.tabs.reports import ReportsTab
from ui.tabs.transfers import TransfersTab

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]


def test_every_tab_is_listed_with_its_permission_but_only_inventory_is_built(main_window: MainWindow) -> None:
    bar = main_window.tabs.tabBar()
    assert [bar.tabText(i) for i in range(bar.count())] == [spec.title for spec in TABS]
    assert {type(tab) for tab in main_window.built_tabs()} <= {InventoryTab, MetrcTab}  # METRC: see below
    actor = main_window.ctx.actor  # alex, an associate: no reports, no audit trail
    for index, spec in enumerate(TABS):
        allowed = spec.permission is None or actor.can(spec.permission)
        assert main_window.tabs.isTabEnabled(index) is allowed, spec.title
        assert (main_window.tabs.tabToolTip(index) == "") is allowed, spec.title
    assert not main_window.tabs.isTabEnabled([s.title for s in TABS].index("Reports"))


def test_clicking_a_tab_builds_it_in_place_and_it_reads_fresh_data(qtbot, main_window: MainWindow, store) -> None:  # type: ignore[no-untyped-def]
    db, actors = store
    main_window.ctx.notify(Changes.TRANSFERS | Changes.INVENTORY)  # news before the tab exists builds nothing
    assert not any(isinstance(t, TransfersTab) for t in main_window.built_tabs())
    tab = open_tab(qtbot, main_window, TransfersTab)
    assert tab.isVisible() and tab.isEnabled() and main_window.tabs.count() == len(TABS)
    assert main_window.tabs.indexOf(tab) == [s.title for s in TABS].index("Transfers")
    assert tab.from_box.count() > 0  # its locations were read as it was built
    open_tab(qtbot, main_window, CycleCountTab)
    assert {type(t) for t in main_window.built_tabs()} - {MetrcTab} == {InventoryTab, TransfersTab, CycleCountTab}


def test_the_metrc_tab_is_built_unseen_soon_after_start_up_to_send_the_outbox(qtbot, main_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: any(isinstance(t, MetrcTab) for t in main_window.built_tabs()), timeout=10_000)
    tab = main_window.tab(MetrcTab)
    assert tab._auto.isActive() and not tab.isVisible()
    assert isinstance(main_window.tabs.currentWidget(), InventoryTab)


def test_a_tab_built_for_a_role_that_may_not_use_it_stays_disabled(qtbot, main_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    index = [s.title for s in TABS].index("Reports")
    tip = main_window.tabs.tabToolTip(index)
    tab = main_window.tab(ReportsTab)  # built without being shown
    assert main_window.tabs.widget(index) is tab and isinstance(main_window.tabs.currentWidget(), InventoryTab)
    assert not main_window.tabs.isTabEnabled(index) and not tab.isEnabled()
    assert main_window.tabs.tabToolTip(index) == tip and "may not pull reports" in tip


def test_start_up_imports_no_other_tab_and_none_of_their_libraries(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """What the benchmark's cold start does (tests/benchmarks/bench_shell.py), in a fresh
    interpreter: the modules of other tabs, printing, charts, workbooks, migrations and METRC's
    network client are left for when they are used."""
    db, _ = store
    probe = f"""
import sys
from backoffice.db.engine import Database
from backoffice.db.migrate import upgrade
from backoffice.services import users
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
from ui.context import AppContext
from ui.main_window import MainWindow
db = Database(sys.argv[1])
upgrade(db)
ctx = AppContext(db, QSettings(sys.argv[2], QSettings.Format.IniFormat))
window = MainWindow(ctx)
ctx.sign_in(users.authenticate(db, "alex", "{PINS["alex"]}").as_actor())
window.show()
app.processEvents()
print(" ".join(sorted(sys.modules)))
"""
    env = {"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-c", probe, db.url.render_as_string(), str(tmp_path / "settings.ini")]
    loaded = set(subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.split())
    assert "ui.tabs.inventory" in loaded
    other_tabs = {spec.module for spec in TABS if spec.class_name != "InventoryTab"}
    assert other_tabs.isdisjoint(loaded), other_tabs & loaded
    later = {
        "alembic",
        "openpyxl",
        "xlsxwriter",
        "pandas",
        "numpy",
        "barcode",
        "httpx",
        "keyring",
        "PySide6.QtPrintSupport",
        "PySide6.QtCharts",
        "PySide6.QtSvg",
        "PySide6.QtPdf",
        "backoffice.metrc.client",
        "backoffice.services.metrc_connection",
    }
    assert later.isdisjoint(loaded), later & loaded
