"""A read-only table model over a list of dataclass rows, with columns declared as data.

For the small tables of the workflow tabs (a transfer's lines, suggestions, findings): sort
and filter them through a QSortFilterProxyModel; the sort role carries raw values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from ui import store_time

Row = TypeVar("Row")
Index = QModelIndex | QPersistentModelIndex
SortRole = Qt.ItemDataRole.UserRole + 10
RowRole = Qt.ItemDataRole.UserRole + 11


@dataclass(frozen=True)
class Col(Generic[Row]):
    header: str
    value: Callable[[Row], Any]
    colour: Callable[[Row], str | None] | None = None
    tooltip: Callable[[Row], str | None] | None = None
    money: bool = False  # shown in cents (12.50, not 12.5)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime):
        return store_time.stamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "✓" if value else ""
    return str(getattr(value, "value", value))


class RowTableModel(QAbstractTableModel, Generic[Row]):
    def __init__(self, columns: Sequence[Col[Row]]) -> None:
        super().__init__()
        self.columns = list(columns)
        self.rows: list[Row] = []

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section].header
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row, col = self.rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = col.value(row)
            return f"{value:,.2f}" if col.money and isinstance(value, Decimal) else _text(value)
        if role == SortRole:
            value = col.value(row)
            return float(value) if isinstance(value, Decimal) else (_text(value) if value is not None else "")
        if role == RowRole:
            return row
        if (
            role == Qt.ItemDataRole.TextAlignmentRole
            and isinstance(col.value(row), (Decimal, int))
            and not isinstance(col.value(row), bool)
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col.colour is not None:
            colour = col.colour(row)
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole and col.tooltip is not None:
            return col.tooltip(row)
        return None
