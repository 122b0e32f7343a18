"""Words a person reads: nothing claims a result that has not been worked out yet."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from backoffice.db.engine import Database
from backoffice.services.actor import Actor
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.tabs.cycle_count import CycleCountTab
from ui.tabs.reconciliation import ReconciliationTab

pytestmark = pytest.mark.gui


def test_cycle_count_with_no_count_shows_no_progress(qtbot, main_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    tab = main_window.tab(CycleCountTab)
    main_window.tabs.setCurrentWidget(tab)  # it reads its counts when first shown
    qtbot.waitUntil(lambda: not tab.loading)
    assert "No count yet" in tab.header.text()
    assert tab.progress.isHidden()  # not "0 of 1 expected packages counted"


def test_reconciliation_before_reconciling_claims_no_findings(
    qtbot,
    ctx: AppContext,  # type: ignore[no-untyped-def]
    store: tuple[Database, dict[str, Actor]],
) -> None:
    ctx.sign_in(store[1]["alex"])
    tab = ReconciliationTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitExposed(tab)
    assert "not reconciled yet" in tab.summary.text()
    assert "Findings" not in tab.summary.text() and "no differences" not in tab.summary.text()
    qtbot.mouseClick(tab.reconcile_button, Qt.MouseButton.LeftButton)  # a day with no sales at all: clean
    qtbot.waitUntil(lambda: "Findings: no differences" in tab.summary.text(), timeout=10_000)
    assert "not reconciled yet" not in tab.summary.text()


def test_the_received_box_counts_in_words(qtbot) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from PySide6.QtWidgets import QLabel, QWidget

    from backoffice.domain.units import Unit
    from backoffice.services.receiving import FinishResult, ReceivedPackage
    from ui.tabs.receiving_dialogs import ReceivedDialog

    parent = QWidget()
    qtbot.addWidget(parent)
    one = ReceivedPackage("1A4060300000000000000001", "Gummies", Decimal(10), Unit.EACH, "V-EDI-01")
    dialog = ReceivedDialog(FinishResult(1, "0004412345", "Vault", [one], 1, 1), parent)
    text = dialog.findChild(QLabel).text()
    assert text.startswith("1 package now in Vault; 1 rejected.") and "were" not in text
