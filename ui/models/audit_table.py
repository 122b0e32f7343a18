"""The audit trail, newest first, fetched a page at a time."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from backoffice.db.engine import Database
from backoffice.services import audit
from backoffice.services.audit import AuditRow

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("#", "When", "Who", "Action", "Record", "Before", "After", "Reason")


class AuditTableModel(QAbstractTableModel):
    PAGE = 500

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self.text = ""
        self.rows: list[AuditRow] = []
        self._exhausted = True

    def set_filter(self, text: str) -> None:
        self.text = text.strip()
        self.beginResetModel()
        self.rows = audit.list_events(self.db, self.text, limit=self.PAGE)
        self._exhausted = len(self.rows) < self.PAGE
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(HEADERS)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802
        if parent.isValid() or self._exhausted:
            return
        more = audit.list_events(self.db, self.text, offset=len(self.rows), limit=self.PAGE)
        self._exhausted = len(more) < self.PAGE
        if more:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(more) - 1)
            self.rows.extend(more)
            self.endInsertRows()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        r = self.rows[index.row()]
        values = (r.id, r.at.astimezone().strftime("%Y-%m-%d %H:%M:%S"), r.username, r.action, r.entity,
                  r.before or "", r.after or "", r.reason or "")
        return values[index.column()]
