"""Start-up as a person meets it (ui/app.open_window): the sign-in is asked first and the main
window is built behind the prompt, while the PIN is typed or checked; a window that cannot be
built is reported after the sign-in, and a cancelled sign-in opens nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QWidget

from backoffice.db.engine import Database
from backoffice.errors import UserError
from backoffice.services.actor import Actor
from tests.conftest import PINS
from tests.gui.conftest import no_failure_in_dialogs, when_modal
from ui import app, commands
from ui.login import LoginDialog
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def start(
    store: tuple[Database, dict[str, Actor]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], MainWindow | None]]:
    db, _ = store
    monkeypatch.setattr(app, "_start_daily_backup", lambda db: None)  # its copy is tested on its own
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    opened: list[MainWindow] = []

    def run() -> MainWindow | None:
        window = app.open_window(db.url.render_as_string(hide_password=False), settings)
        if window is not None:
            opened.append(window)
        return window

    yield run
    for window in opened:
        QApplication.instance().removeEventFilter(window.scanner)
        window.close()
    commands.wait_until_idle()


def _main_windows() -> set[int]:
    return {id(w) for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)}


def _type_pin(qtbot, dialog: QWidget, username: str) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(dialog, LoginDialog)
    qtbot.keyClicks(dialog.username, username)
    qtbot.keyClick(dialog.username, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.pin, PINS[username])
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)


def test_the_window_is_built_behind_the_prompt_while_the_pin_is_typed(qtbot, start) -> None:  # type: ignore[no-untyped-def]
    before = _main_windows()
    seen: dict[str, bool] = {}

    def type_slowly(dialog: QWidget) -> None:
        seen["window at the prompt"] = bool(_main_windows() - before)
        qtbot.waitUntil(lambda: bool(_main_windows() - before), timeout=3_000)  # built while she types
        _type_pin(qtbot, dialog, "maria")

    when_modal(LoginDialog, type_slowly)
    window = start()
    no_failure_in_dialogs()
    assert seen == {"window at the prompt": False}  # the prompt came first
    assert window is not None and window.ctx.actor.username == "maria"
    assert _main_windows() - before == {id(window)}  # the one built behind the prompt, not a second


def test_a_quick_pin_is_checked_while_the_window_is_built(qtbot, start) -> None:  # type: ignore[no-untyped-def]
    before = _main_windows()
    when_modal(LoginDialog, lambda dialog: _type_pin(qtbot, dialog, "alex"))
    window = start()
    no_failure_in_dialogs()
    assert window is not None and window.ctx.actor.username == "alex"
    assert _main_windows() - before == {id(window)}


def test_a_window_that_cannot_be_built_is_reported_after_the_sign_in(  # type: ignore[no-untyped-def]
    qtbot, start, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self, ctx) -> None:  # type: ignore[no-untyped-def]
        raise UserError("The store's settings cannot be read.")

    monkeypatch.setattr(MainWindow, "__init__", broken)
    when_modal(LoginDialog, lambda dialog: _type_pin(qtbot, dialog, "alex"))
    with pytest.raises(UserError, match="settings cannot be read"):  # main() shows it in a box and exits 1
        start()
    no_failure_in_dialogs()


def test_a_cancelled_sign_in_opens_nothing(qtbot, start) -> None:  # type: ignore[no-untyped-def]
    when_modal(LoginDialog, lambda dialog: qtbot.keyClick(dialog, Qt.Key.Key_Escape))
    assert start() is None
    no_failure_in_dialogs()
