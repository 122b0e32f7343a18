"""A read-only table model that fetches its rows a page at a time as the view scrolls
(canFetchMore/fetchMore), for tables too long to load at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Row = TypeVar("Row")
Index = QModelIndex | QPersistentModelIndex


class PagedTableModel(QAbstractTableModel, Generic[Row]):
    PAGE = 400
    HEADERS: Sequence[str] = ()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self._exhausted = True

    def fetch(self, offset: int, limit: int) -> list[Row]:
        """One page of rows for the current filter and order."""
        raise NotImplementedError

    def load_first_page(self) -> None:
        self.show_first_page(self.fetch(0, self.PAGE))

    def show_first_page(self, rows: list[Row]) -> None:
        """The first page, fetched here or by a worker thread."""
        self.beginResetModel()
        self.rows = rows
        self._exhausted = len(rows) < self.PAGE
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802
        if parent.isValid() or self._exhausted:
            return
        more = self.fetch(len(self.rows), self.PAGE)
        self._exhausted = len(more) < self.PAGE
        if more:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(more) - 1)
            self.rows.extend(more)
            self.endInsertRows()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None
