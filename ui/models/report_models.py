"""Preview tables for the Reports tab: the workbook's own column definitions (header, kind,
value) shown in a table model, so the preview and the exported sheet always agree.

Display text follows the column's Excel format (money, percent, change, dates); the sort
role carries the raw value, so numbers sort as numbers and blanks sort first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from backoffice.domain.numbers import money_text
from backoffice.exporters.xlsx_common import Column, Kind

Index = QModelIndex | QPersistentModelIndex
SortRole = Qt.ItemDataRole.UserRole + 10
_NUMERIC = {Kind.ID, Kind.INT, Kind.QTY, Kind.DEC1, Kind.DEC2, Kind.MONEY, Kind.PERCENT, Kind.CHANGE}


def display(kind: Kind, value: Any) -> str:
    """A cell's text the way the workbook formats it."""
    if value is None:
        return ""
    if kind is Kind.MONEY:
        return money_text(value)
    if kind is Kind.PERCENT:
        return f"{value:.1%}"
    if kind is Kind.CHANGE:
        return f"{value:+.1%}"
    if kind is Kind.DEC1:
        return f"{value:,.1f}"
    if kind is Kind.DEC2:
        return f"{value:,.2f}"
    if kind is Kind.QTY:
        return f"{value:,.0f}" if value == int(value) else f"{value.normalize():,f}"
    if kind is Kind.INT:
        return f"{value:,}"
    if kind is Kind.BOOL:
        return "Yes" if value else "No"
    if kind is Kind.DATETIME:
        return f"{value:%Y-%m-%d %H:%M}"
    if kind is Kind.DATE:
        return value.isoformat()
    return str(value)


def _sort_key(kind: Kind, value: Any) -> Any:
    if kind in _NUMERIC:
        return float("-inf") if value is None else float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return "" if value is None else str(value).casefold()


class ReportTableModel(QAbstractTableModel):
    """Rows of one report table (SKUs, brands, counts, adjustments…) under its columns."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[Column[Any]] = []
        self.rows: list[Any] = []

    def set_table(self, columns: Sequence[Column[Any]], rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.columns, self.rows = list(columns), list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        header = self.columns[section].header
        if role == Qt.ItemDataRole.DisplayRole:
            return f"Week of {header:%b %d}" if isinstance(header, date) else header
        if role == Qt.ItemDataRole.TextAlignmentRole and self.columns[section].kind in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows) or not 0 <= index.column() < len(self.columns):
            return None
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return display(column.kind, column.value(self.rows[index.row()]))
        if role == SortRole:
            return _sort_key(column.kind, column.value(self.rows[index.row()]))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align = Qt.AlignmentFlag.AlignRight if column.kind in _NUMERIC else Qt.AlignmentFlag.AlignLeft
            return int(align | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column.kind is Kind.TEXT:
            return display(column.kind, column.value(self.rows[index.row()]))  # long reorder math, notes
        return None
