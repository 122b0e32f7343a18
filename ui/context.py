"""What every tab needs: the database, who is signed in, settings, and the change bus."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Signal

from backoffice.db.engine import Database
from backoffice.services import settings as store_settings
from backoffice.services.actor import Actor
from backoffice.services.changes import Changes
from ui import store_time


class AppContext(QObject):
    """Shared by the main window and its tabs.

    ``changed`` carries the Changes flags a command returned (ui/commands.py announces them),
    so each tab refreshes only what it shows. What the person is told goes through the
    message bridge (ui/messages.py), not through here.
    """

    changed = Signal(object)
    user_changed = Signal()

    def __init__(self, db: Database, settings: QSettings) -> None:
        super().__init__()
        self.db = db
        self.settings = settings
        store_time.use(store_settings.store_calendar(db))
        self._actor: Actor | None = None

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            raise RuntimeError("no user is signed in")
        return self._actor

    @property
    def signed_in(self) -> bool:
        return self._actor is not None

    def sign_in(self, actor: Actor) -> None:
        self._actor = actor
        self.user_changed.emit()

    def sign_out(self) -> None:
        self._actor = None
        self.user_changed.emit()

    def notify(self, changes: Changes) -> None:
        if changes & Changes.SETTINGS:  # the time zone may have changed
            store_time.use(store_settings.store_calendar(self.db))
        if changes:
            self.changed.emit(changes)
