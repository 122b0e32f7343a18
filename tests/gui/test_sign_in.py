"""Signing in on the main window, as a person does it: each sign-in starts on the Inventory
tab with nothing left of the previous user's messages, and no role meets a box about a tab
it may not use."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from backoffice.services import counts
from backoffice.services.counts import Scope
from tests.conftest import PINS
from ui import commands, messages
from ui.login import LoginDialog
from ui.main_window import READY, MainWindow
from ui.tabs import TABS
from ui.tabs.cycle_count import CycleCountTab
from ui.tabs.inventory import InventoryTab
from ui.tabs.transfers import TransfersTab

pytestmark = pytest.mark.gui


def _sign_in_when_asked(qtbot, username: str, pin: str) -> Callable[[], None]:  # type: ignore[no-untyped-def]
    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, LoginDialog):
            QTimer.singleShot(20, attempt)
            return
        dialog.username.clear()
        qtbot.keyClicks(dialog.username, username)
        qtbot.keyClick(dialog.username, Qt.Key.Key_Return)  # on to the PIN
        qtbot.keyClicks(dialog.pin, pin)
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)

    return attempt


@pytest.fixture
def boxes_seen() -> Iterator[list[str]]:
    """The text of every message box that opens during the test (each is closed at once)."""
    seen: list[str] = []

    def look() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.text() not in seen:
            seen.append(box.text())
            box.reject()

    watch = QTimer()
    watch.timeout.connect(look)
    watch.start(10)
    yield seen
    watch.stop()


@pytest.mark.parametrize("username", ["pat", "maria", "admin"])
def test_each_sign_in_starts_clean_on_the_inventory_tab(
    qtbot,
    main_window: MainWindow,
    store,  # type: ignore[no-untyped-def]
    boxes_seen: list[str],
    username: str,
) -> None:
    db, actors = store
    open_count = counts.start_count(db, actors["alex"], "Vault shelf A", Scope(locations=("Vault",)))
    count_tab = main_window.tab(CycleCountTab)
    count_tab.reload_counts(select_id=open_count.id)  # alex was counting when the next person came
    qtbot.waitUntil(lambda: count_tab.current is not None)
    transfers_tab = main_window.tab(TransfersTab)
    main_window.tabs.setCurrentWidget(transfers_tab)
    assert len(main_window.tab_widgets) == len(TABS)  # every tab built: each one meets the next person
    messages.error("alex's problem: 1A4060300000000000000001 has no recorded transfer.")
    assert "alex's problem" in main_window.status_label.text() and "alex's problem" in transfers_tab.panel.text()
    QTimer.singleShot(20, _sign_in_when_asked(qtbot, username, PINS[username]))
    main_window.sign_out()
    assert main_window.ctx.actor.username == username
    qtbot.wait(300)  # anything a tab loads for the new user has come back
    commands.wait_until_idle()
    qtbot.wait(50)
    assert boxes_seen == []  # purchasing used to get "pat (purchasing) may not count inventory"
    assert isinstance(main_window.tabs.currentWidget(), InventoryTab)
    assert main_window.status_label.text() == READY and main_window.status_kind == "info"
    assert "alex's problem" not in transfers_tab.panel.text()
