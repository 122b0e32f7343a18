"""Start the GUI: logging, database (migrated to head, backed up first), sign-in, window."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

# The data layer is imported before Qt. Once PySide6 is imported it reads the source of every
# module imported after it (its ``__feature__`` switch looks for the word "PySide6" in it):
# some 280 files, SQLAlchemy's among them, read at start-up for nothing.
from backoffice import __version__
from backoffice.db.engine import Database
from backoffice.db.migrate import upgrade
from backoffice.paths import APP_NAME, default_database_url
from backoffice.services import users  # noqa: F401 — the sign-in's service and the ORM models, before Qt

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings

    from ui.context import AppContext
    from ui.main_window import MainWindow


def main(argv: Sequence[str] | None = None) -> int:
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication, QMessageBox

    args = list(sys.argv if argv is None else argv)
    os.environ.setdefault("LANG", "C.UTF-8")
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication(args)

    from ui.logging_setup import setup_logging
    from ui.messages import install_crash_hooks
    from ui.theme import follow_desktop

    setup_logging()
    install_crash_hooks()
    follow_desktop(app)
    settings = QSettings()
    url = _database_url(args, settings)
    if "--self-test" in args:
        return self_test(url, settings)
    try:
        window = open_window(url, settings)
    except Exception as exc:  # noqa: BLE001 — start-up failures are shown, then we exit
        from backoffice.errors import UserError

        if not isinstance(exc, UserError):
            raise
        QMessageBox.critical(None, "Vault Workstation cannot start", str(exc))
        return 1
    if window is None:
        return 0
    window.show()
    code = app.exec()
    window.ctx.db.dispose()  # waits for a WAL checkpoint under way and closes the store cleanly
    return code


def self_test(url: str, settings: QSettings) -> int:
    """Open the store, build the whole window (every tab) and show it once, then exit 0.
    Used by packaging/build.sh to prove a bundle starts on a bare machine."""
    from PySide6.QtWidgets import QApplication

    from backoffice.services.actor import SYSTEM
    from ui.context import AppContext
    from ui.main_window import MainWindow

    db = Database(url)
    upgrade(db)
    ctx = AppContext(db, settings)
    window = MainWindow(ctx)
    ctx.sign_in(SYSTEM)
    window.show()
    tabs = window.tab_widgets  # builds every tab (each is otherwise built on first view): the bundle carries them all
    QApplication.processEvents()
    print(f"self-test ok: {len(tabs)} tabs on {db.display_url}")
    window.close()
    return 0


def _database_url(args: list[str], settings: QSettings) -> str:
    if "--db" in args and args.index("--db") + 1 < len(args):
        return args[args.index("--db") + 1]
    return os.environ.get("BACKOFFICE_DB") or str(settings.value("database/url", "")) or default_database_url()


def open_window(url: str, settings: QSettings) -> MainWindow | None:
    """Open the database (upgrading it if needed), ask for a sign-in, build the window.
    Returns None when the user cancels the sign-in.

    The sign-in is asked first and the window is built behind it: as soon as a PIN check
    starts (the check hashes off this thread, see ui/login.py) or once the prompt has been
    up for ``BUILD_BEHIND_PROMPT_MS``, whichever comes first, so a quick Enter does not wait
    for the build and the build does not wait for the PIN."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialog

    from backoffice.services import settings as store_settings
    from ui.context import AppContext
    from ui.login import LoginDialog

    db = Database(url)
    upgrade(db)
    ctx = AppContext(db, settings)
    dialog = LoginDialog(ctx, store_settings.read(db, store_settings.STORE_NAME))
    builder = _WindowBuilder(ctx)
    dialog.checking.connect(builder.build)
    QTimer.singleShot(BUILD_BEHIND_PROMPT_MS, dialog, builder.build)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.user is None:
        return None
    window = builder.window()
    window.signed_in(dialog.user)
    from ui.main_window import ActivityWatcher  # loaded by the build, behind the prompt

    _start_daily_backup(db)
    window.scanner.install(QApplication.instance())  # type: ignore[arg-type]
    QApplication.instance().installEventFilter(ActivityWatcher(window))  # type: ignore[union-attr]
    return window


BUILD_BEHIND_PROMPT_MS = 300  # a person takes longer to type a PIN: the window is ready when they press Enter


class _WindowBuilder:
    """Builds the main window once, from a signal or a timer while the sign-in is up. A failure
    there (the database gone meanwhile) is kept and raised by ``window()``, after the prompt,
    where start-up failures are shown, instead of escaping from a slot."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._window: MainWindow | None = None
        self._failure: Exception | None = None

    def build(self) -> None:
        if self._window is not None or self._failure is not None:
            return
        from ui.main_window import MainWindow

        try:
            self._window = MainWindow(self._ctx)
        except Exception as exc:  # noqa: BLE001 — raised again by window(), outside the event loop
            self._failure = exc

    def window(self) -> MainWindow:
        self.build()
        if self._failure is not None:
            raise self._failure
        assert self._window is not None
        return self._window


def _start_daily_backup(db) -> None:  # type: ignore[no-untyped-def]
    """Today's copy of a SQLite store, made in the background so start-up does not wait."""
    import logging

    from PySide6.QtCore import QThreadPool

    from backoffice.services.actor import SYSTEM
    from backoffice.services.backup import daily_backup

    def run() -> None:
        try:
            made = daily_backup(db, SYSTEM)  # the application's own scheduled copy
        except Exception:  # noqa: BLE001 — a failed backup must be logged, never crash the app
            logging.getLogger("db").exception("daily backup failed")
            return
        if made:
            logging.getLogger("db").info("daily backup written to %s", made)

    QThreadPool.globalInstance().start(run)


if __name__ == "__main__":
    sys.exit(main())
