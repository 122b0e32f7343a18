"""GUI fixtures: a store with the sample METRC packages and one user per role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from backoffice.db.engine import Database
from backoffice.services import metrc_packages_import
from backoffice.services.actor import Actor
from tests.conftest import make_users
from ui.context import AppContext
from ui.tabs.base import Tab

T = TypeVar("T", bound=Tab)


@pytest.fixture
def store(sqlite_db: Database, samples: Path) -> tuple[Database, dict[str, Actor]]:
    actors = make_users(sqlite_db)
    metrc_packages_import.import_file(sqlite_db, actors["admin"], samples / "metrc_packages_active.json")
    return sqlite_db, actors


@pytest.fixture
def ctx(store: tuple[Database, dict[str, Actor]], tmp_path: Path) -> Iterator[AppContext]:
    db, _ = store
    context = AppContext(db, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    yield context


def open_tab(qtbot, win, kind: type[T]) -> T:  # type: ignore[no-untyped-def]
    """Click the window's tab of ``kind`` by its place in the tab bar, as a person does; a tab
    is built when first shown, so the click builds it."""
    from PySide6.QtCore import Qt

    from ui.tabs import TABS, spec_of

    bar = win.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(TABS.index(spec_of(kind))).center())
    tab = win.tabs.currentWidget()
    assert isinstance(tab, kind) and win.tab(kind) is tab
    return tab


def scan(qtbot, widget, code: str) -> None:  # type: ignore[no-untyped-def]
    """A USB scanner: the code typed as a fast burst of keystrokes, then Enter."""
    from PySide6.QtCore import Qt

    qtbot.keyClicks(widget, code)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


@pytest.fixture
def main_window(qtbot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The whole window, signed in as alex (associate), scanner listening, inventory loaded."""
    from PySide6.QtWidgets import QApplication

    from backoffice.services import users
    from tests.conftest import PINS
    from ui.main_window import MainWindow
    from ui.tabs.inventory import InventoryTab

    monkeypatch.setattr(InventoryTab, "SEARCH_LOAD_DELAY_MS", 0)  # load it now, not after the test
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    ctx.sign_in(users.authenticate(ctx.db, "alex", PINS["alex"]).as_actor())
    win.scanner.install(QApplication.instance())
    win.show()
    qtbot.waitExposed(win)
    inventory = win.tab(InventoryTab)
    qtbot.waitUntil(lambda: bool(inventory.model.rows) and inventory.model.active_search is not None)
    yield win
    QApplication.instance().removeEventFilter(win.scanner)
    from ui import commands

    commands.wait_until_idle()  # no command or loader outlives its database


@pytest.fixture
def statuses() -> Iterator[list[tuple[str, str]]]:
    """(kind, text) of every status-line message said through the bridge during the test."""
    from ui import commands, messages

    heard: list[tuple[str, str]] = []

    def hear(message: messages.Message) -> None:
        if message.in_status_line:
            heard.append((message.kind.value, message.text))

    messages.bridge().said.connect(hear)
    yield heard
    commands.wait_until_idle()
    messages.bridge().said.disconnect(hear)


def type_keys(text: str, gap_ms: float, *, enter: bool = True, start_ms: float = 1_000_000.0, widget=None) -> float:  # type: ignore[no-untyped-def]
    """Keystrokes as the keyboard sent them: each press carries its own timestamp, ``gap_ms``
    apart (a scanner: 5–20 ms; a person: 60 ms and more), all delivered at once as a busy
    window would get them. Sent to ``widget``, else where the keyboard's keys go (the focus
    widget, else the open dialog or active window); returns the next free time."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    target = widget or QApplication.focusWidget() or QApplication.activeModalWidget() or QApplication.activeWindow()
    assert target is not None, "no widget to type into"
    at = start_ms
    for char in [*text, "\r"] if enter else text:
        key = Qt.Key.Key_Return if char == "\r" else Qt.Key(ord(char.upper()))
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, char)
            event.setTimestamp(int(at) + (2 if kind is QEvent.Type.KeyRelease else 0))
            QApplication.sendEvent(target, event)
        at += gap_ms
    return at


FAILED_IN_DIALOGS: list[BaseException] = []


def when_modal(kind: type[QWidget], act: Callable[[QWidget], None]) -> None:
    """Answer the next modal dialog of ``kind`` once it is up (it runs its own event loop). A failure
    closes the dialog, so the test fails instead of waiting for a person forever."""

    def attempt() -> None:
        widget = QApplication.activeModalWidget()
        if not isinstance(widget, kind):
            QTimer.singleShot(20, attempt)
            return
        try:
            act(widget)
        except BaseException as exc:  # noqa: BLE001 — re-raised by the test once the dialog is gone
            FAILED_IN_DIALOGS.append(exc)
            widget.close()

    QTimer.singleShot(20, attempt)


def no_failure_in_dialogs() -> None:
    if FAILED_IN_DIALOGS:
        raise FAILED_IN_DIALOGS.pop()


@pytest.fixture(autouse=True)
def _dialog_failures_fail_the_test() -> Iterator[None]:
    """A check that failed inside a dialog (``when_modal``) fails its own test, even one that
    does not ask, and never the next test."""
    FAILED_IN_DIALOGS.clear()
    yield
    no_failure_in_dialogs()
