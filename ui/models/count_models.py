"""The Cycle Count tab's variance table: one row per package of the count, a column enum,
and a proxy that filters by status (one choice per status word) and text and sorts variances
by size."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from backoffice.domain.numbers import money_text
from backoffice.services.counts import DIFFERS, LineStatus, VarianceLine

Index = QModelIndex | QPersistentModelIndex
SortRole = Qt.ItemDataRole.UserRole + 20
LineRole = Qt.ItemDataRole.UserRole + 21

STATUS_COLOURS = {
    LineStatus.MATCH: "#2e7d32",
    LineStatus.SHORT: "#c62828",
    LineStatus.OVER: "#c62828",
    LineStatus.METRC_DIFFERS: "#ad1457",
    LineStatus.POS_DIFFERS: "#ef6c00",
    LineStatus.SEVERAL: "#c62828",
    LineStatus.RESOLVED: "#1565c0",
    LineStatus.NOT_COUNTED: "#888888",
    LineStatus.COUNTED: "#2e7d32",
    LineStatus.FOUND: "#6a1b9a",
    LineStatus.UNKNOWN: "#c62828",
    LineStatus.SYSTEM_ONLY: "#ef6c00",
}


class Col(enum.IntEnum):
    STATUS = 0
    TAG = enum.auto()
    ITEM = enum.auto()
    LOCATION = enum.auto()
    COUNTED = enum.auto()
    LEDGER = enum.auto()
    POS = enum.auto()
    METRC = enum.auto()
    PENDING = enum.auto()
    SOLD = enum.auto()
    VARIANCE = enum.auto()
    VALUE = enum.auto()
    ADJUSTED = enum.auto()
    COUNTED_BY = enum.auto()
    CAUSE = enum.auto()


HEADERS = {
    Col.STATUS: "Status",
    Col.TAG: "Tag",
    Col.ITEM: "Item",
    Col.LOCATION: "Location",
    Col.COUNTED: "Counted",
    Col.LEDGER: "Ledger",
    Col.POS: "POS",
    Col.METRC: "METRC",
    Col.SOLD: "Sold since",
    Col.VARIANCE: "Variance",
    Col.VALUE: "$ Variance",
    Col.ADJUSTED: "Adjusted",
    Col.COUNTED_BY: "Counted by",
    Col.PENDING: "Pending to METRC",
    Col.CAUSE: "Why",
}
HEADER_TIPS = {
    Col.LEDGER: "This store's quantity when the count started (frozen)",
    Col.POS: "The POS inventory export's quantity when the count started",
    Col.METRC: "METRC's quantity when the count started",
    Col.SOLD: "Sold between the snapshot and the count: accounted for, not variance",
    Col.VARIANCE: "Counted − expected (ledger at the snapshot, less sales and other changes since); sorts by size",
    Col.VALUE: "Variance × item price; sorts by size",
    Col.ADJUSTED: "Adjustments made for this count",
    Col.PENDING: "Units the store recorded that METRC had not applied at the snapshot: outbox entries waiting or "
    "failed, POS sales with no METRC receipt line. METRC + pending should equal the ledger",
    Col.CAUSE: "What explains the difference, when the records can tell; 'investigate' when nothing does",
}
_SIZE_SORTED = {Col.VARIANCE, Col.VALUE, Col.ADJUSTED}  # sorted by how big, not by sign
_NUMBERS = {Col.COUNTED, Col.LEDGER, Col.POS, Col.METRC, Col.PENDING, Col.SOLD, Col.VARIANCE, Col.VALUE, Col.ADJUSTED}


def _qty(value: Decimal | None, *, signed: bool = False) -> str:
    if value is None:
        return ""
    return f"{value.normalize():+f}" if signed and value else f"{value.normalize():f}"


def _value(line: VarianceLine, col: Col) -> Any:
    match col:
        case Col.STATUS:
            return line.status.value
        case Col.TAG:
            return line.tag
        case Col.ITEM:
            return line.item
        case Col.LOCATION:
            return f"{line.location} · {line.bin}" if line.bin else line.location
        case Col.COUNTED:
            return line.counted
        case Col.LEDGER:
            return line.ledger
        case Col.POS:
            return line.pos
        case Col.METRC:
            return line.metrc
        case Col.SOLD:
            return line.sold_since
        case Col.VARIANCE:
            return line.variance
        case Col.VALUE:
            return line.value
        case Col.ADJUSTED:
            return line.adjusted if line.adjusted else None
        case Col.COUNTED_BY:
            return line.counted_by
        case Col.PENDING:
            return line.pending_metrc if line.pending_metrc else None
        case Col.CAUSE:
            return "; ".join(str(cause) for cause in line.causes)
    return None


def _display(line: VarianceLine, col: Col) -> str:
    value = _value(line, col)
    if col is Col.VALUE:
        return "" if not value else money_text(value)
    if col is Col.SOLD:
        return "" if not value else _qty(value)
    if isinstance(value, Decimal) or value is None:
        return _qty(value, signed=col in (Col.VARIANCE, Col.ADJUSTED))
    return str(value)


def _tooltip(line: VarianceLine, col: Col) -> str | None:
    if line.hidden and col in (Col.STATUS, Col.VARIANCE, Col.LEDGER):
        return "Blind count: expected quantities are shown to managers, and to everyone after submit"
    if col is Col.VARIANCE and line.variance is not None and line.expected is not None:
        parts = [f"ledger {_qty(line.ledger)} at the snapshot"]
        if line.sold_since:
            parts.append(f"− {_qty(line.sold_since)} sold since ({line.sales_since} sale(s))")
        if line.moved_since:
            parts.append(f"{_qty(line.moved_since, signed=True)} other changes since")
        tip = f"counted {_qty(line.counted)} − expected {_qty(line.expected)} ({' '.join(parts)})"
        if line.adjusted:
            tip += f"; adjusted {_qty(line.adjusted, signed=True)}, {_qty(line.remaining, signed=True)} left"
        return tip
    if col is Col.STATUS:
        return _STATUS_TIPS.get(line.status)
    if col in (Col.CAUSE, Col.PENDING) and (line.causes or line.pending):
        return "\n".join(
            [
                *(f"{'✓' if c.explained else '?'} {c}" for c in line.causes),
                *(f"pending: {p.text}" for p in line.pending if p.text not in {c.text for c in line.causes}),
            ]
        )
    if col is Col.SOLD and line.sold_since:
        return f"{line.sales_since} sale(s) between the snapshot and the count; not counted as variance"
    if col is Col.LOCATION and line.counted_at_locations and line.counted_at_locations != line.location:
        return f"Counted at {line.counted_at_locations}; the ledger has it in {line.location}"
    return None


_STATUS_TIPS = {
    LineStatus.MATCH: "The count, the ledger, the POS and METRC all agree (sales since the snapshot allowed for)",
    LineStatus.SHORT: "Fewer on the shelf than the ledger expects; the POS and METRC agree with the ledger",
    LineStatus.OVER: "More on the shelf than the ledger expects; the POS and METRC agree with the ledger",
    LineStatus.METRC_DIFFERS: "Shelf and ledger agree; METRC does not. Fix METRC from the line, never the ledger",
    LineStatus.POS_DIFFERS: "Shelf and ledger agree; the POS does not",
    LineStatus.SEVERAL: "More than one source disagrees with the count: see why",
    LineStatus.FOUND: "Counted, but outside this count's scope: listed so it is not lost",
    LineStatus.UNKNOWN: "Counted, but not in this store's inventory: set it aside and tell a manager",
    LineStatus.SYSTEM_ONLY: "The POS or METRC lists this package; this store's ledger does not",
    LineStatus.RESOLVED: "Every difference is covered by adjustments and METRC fixes made for this count",
}


class VarianceTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[VarianceLine] = []
        self._rows_by_tag: dict[str, int] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    def set_lines(self, lines: list[VarianceLine]) -> None:
        self.beginResetModel()
        self.lines = list(lines)
        self._rows_by_tag = {line.tag: row for row, line in enumerate(self.lines)}
        self.endResetModel()

    def row_of(self, tag: str) -> int | None:
        return self._rows_by_tag.get(tag)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(Col)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Col):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Col(section)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(Col(section))
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.lines) or not 0 <= index.column() < len(Col):
            return None
        line, col = self.lines[index.row()], Col(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(line, col)
        if role == SortRole:
            value = _value(line, col)
            if isinstance(value, Decimal):
                return float(abs(value) if col in _SIZE_SORTED else value)
            return -1.0 if col in _NUMBERS else (value or "")
        if role == LineRole:
            return line
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(line, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in _NUMBERS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col is Col.STATUS:
                return QBrush(QColor(STATUS_COLOURS[line.status]))
            if col in (Col.VARIANCE, Col.VALUE) and line.variance:
                return QBrush(QColor("#1565c0" if line.status is LineStatus.RESOLVED else "#c62828"))
            if col is Col.CAUSE and line.investigate:
                return QBrush(QColor("#c62828"))
            if col is Col.SOLD and line.sold_since:
                return QBrush(QColor("#ef6c00"))
        if role == Qt.ItemDataRole.FontRole and col is Col.TAG:
            return QFont("monospace")
        if role == Qt.ItemDataRole.FontRole and col is Col.STATUS and line.needs_attention:
            return self._bold
        return None


class Show(enum.StrEnum):
    ALL = "All lines"
    ATTENTION = "Needs attention"
    INVESTIGATE = "Nothing explains it"
    SHORT_OVER = "Short / over"
    METRC_DIFFERS = "METRC differs"
    POS_DIFFERS = "POS differs"
    SEVERAL = "Several differ"
    RESOLVED = "Resolved"
    MATCH = "All agree"
    NOT_COUNTED = "Not counted"
    FOUND = "Found / unknown"
    CONFLICTS = "Sold during the count"


_SHOWN: dict[Show, set[LineStatus] | None] = {
    Show.ALL: None,
    Show.ATTENTION: {*DIFFERS, LineStatus.NOT_COUNTED, LineStatus.FOUND, LineStatus.UNKNOWN, LineStatus.SYSTEM_ONLY},
    Show.INVESTIGATE: None,
    Show.SHORT_OVER: {LineStatus.SHORT, LineStatus.OVER},
    Show.METRC_DIFFERS: {LineStatus.METRC_DIFFERS},
    Show.POS_DIFFERS: {LineStatus.POS_DIFFERS},
    Show.SEVERAL: {LineStatus.SEVERAL},
    Show.RESOLVED: {LineStatus.RESOLVED},
    Show.MATCH: {LineStatus.MATCH},
    Show.NOT_COUNTED: {LineStatus.NOT_COUNTED},
    Show.FOUND: {LineStatus.FOUND, LineStatus.UNKNOWN, LineStatus.SYSTEM_ONLY},
    Show.CONFLICTS: None,
}


class VarianceFilter(QSortFilterProxyModel):
    """Status group and text (tag, item, location) filter over the variance model."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.show = Show.ALL
        self.words: list[str] = []
        self.setSortRole(SortRole)

    def set_show(self, show: Show) -> None:
        self.beginFilterChange()
        self.show = show
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self.words = text.lower().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # noqa: N802
        model = self.sourceModel()
        if not isinstance(model, VarianceTableModel) or not 0 <= source_row < len(model.lines):
            return False
        line = model.lines[source_row]
        statuses = _SHOWN[self.show]
        if statuses is not None and line.status not in statuses:
            return False
        if self.show is Show.CONFLICTS and not line.sold_since:
            return False
        if self.show is Show.INVESTIGATE and not line.investigate:
            return False
        if self.words:
            text = f"{line.tag} {line.item} {line.location} {line.sku}".lower()
            return all(word in text for word in self.words)
        return True
