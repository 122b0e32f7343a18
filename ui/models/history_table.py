"""A package's history (ledger and audit trail) as a table model."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from backoffice.services.inventory import HistoryEvent
from ui import store_time

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("When", "What", "Qty change", "Details", "Who")


class HistoryTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[HistoryEvent] = []

    def set_events(self, events: list[HistoryEvent]) -> None:
        self.beginResetModel()
        self.events = list(reversed(events))  # newest first: what an associate looks for
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.events)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        ev = self.events[index.row()]
        match index.column():
            case 0:
                return store_time.stamp(ev.at)
            case 1:
                return ev.what
            case 2:
                return (
                    "" if ev.quantity_delta is None or not ev.quantity_delta else f"{ev.quantity_delta.normalize():+f}"
                )
            case 3:
                return ev.detail
            case 4:
                return ev.who
        return None
