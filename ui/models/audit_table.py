"""The audit trail, newest first, fetched a page at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt

from backoffice.db.engine import Database
from backoffice.services import audit
from backoffice.services.actor import Actor
from backoffice.services.audit import AuditRow
from ui import store_time
from ui.models.paged_table import Index, PagedTableModel


class AuditTableModel(PagedTableModel[AuditRow]):
    PAGE = 500
    HEADERS = ("#", "When", "Who", "Action", "What happened")

    def __init__(self, db: Database, actor: Callable[[], Actor]) -> None:
        super().__init__()
        self.db = db
        self.actor = actor  # who is signed in now: reading the trail needs a permission
        self.text = ""

    def set_filter(self, text: str) -> None:
        self.text = text.strip()
        self.load_first_page()

    def fetch(self, offset: int, limit: int) -> list[AuditRow]:
        return audit.list_events(self.db, self.actor(), self.text, offset=offset, limit=limit)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        r = self.rows[index.row()]
        values = (r.id, store_time.stamp(r.at, "%Y-%m-%d %H:%M:%S"), r.username, r.action, r.sentence)
        return values[index.column()]
