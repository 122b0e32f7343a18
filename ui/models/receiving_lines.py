"""The lines of a manifest being received: one row per package, coloured by its state, and
updated one row at a time as scans come in (a reset per scan would cost a frame)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from backoffice.domain.enums import ManifestLineState
from backoffice.services.receiving import RETAIL_ID_MISSING, LineView
from ui.models.simple_table import Col, Index, RowTableModel

STATE_BACKGROUND = {
    ManifestLineState.SCANNED: "#fff8e1",
    ManifestLineState.ACCEPTED: "#e8f5e9",
    ManifestLineState.REJECTED: "#ffebee",
}
STATE_TEXT = {
    ManifestLineState.PENDING: "#616161",
    ManifestLineState.SCANNED: "#e65100",
    ManifestLineState.ACCEPTED: "#2e7d32",
    ManifestLineState.REJECTED: "#c62828",
}
PROBLEM_COLOUR = "#c62828"


def _state(line: LineView) -> str:
    return "⚠ " + line.state.value if line.problem is not None else line.state.value


def _quantity_colour(line: LineView) -> str | None:
    return "#c62828" if line.difference is not None else None


def _what_to_do(line: LineView) -> str:
    return line.problem_text or " — ".join(t for t in (line.reject_reason, line.note) if t)


COLUMNS: list[Col[LineView]] = [
    Col(
        "State",
        _state,
        colour=lambda ln: PROBLEM_COLOUR if ln.problem else STATE_TEXT[ln.state],
        tooltip=lambda ln: ln.problem_text,
    ),
    Col("Tag", lambda ln: ln.tag),
    Col("Item", lambda ln: ln.item_name, colour=lambda ln: PROBLEM_COLOUR if ln.item_id is None else None),
    Col("Problem / reason / note", _what_to_do, tooltip=_what_to_do),
    Col("Shipped", lambda ln: ln.shipped_quantity),
    Col("Received", lambda ln: ln.received_quantity, colour=_quantity_colour),
    Col("Unit", lambda ln: ln.unit),
    Col("Lab", lambda ln: ln.lab_state, colour=lambda ln: None if ln.lab_state.sellable else PROBLEM_COLOUR),
    Col("Category", lambda ln: ln.category),
    Col("Strain", lambda ln: ln.strain),
    Col("Wholesale", lambda ln: ln.wholesale_price, money=True),
    Col("Expires", lambda ln: ln.expiration_date),
    Col("Bin", lambda ln: ln.bin),
    Col("Scanned by", lambda ln: ln.scanned_by),
]
# what blocks a line and what to do is read beside the item, never scrolled off to the right
PROBLEM_COLUMN = 3


class ReceivingLineModel(RowTableModel[LineView]):
    def __init__(self) -> None:
        super().__init__(COLUMNS)
        self._row_of: dict[int, int] = {}
        self.retail_id_flagged: frozenset[str] = frozenset()  # tags without the unit codes the state requires

    def set_retail_id_flagged(self, tags: frozenset[str]) -> None:
        if tags == self.retail_id_flagged:
            return  # asked after every scan: repaint only when the flags change
        self.retail_id_flagged = tags
        if self.rows:
            self.dataChanged.emit(self.index(0, PROBLEM_COLUMN), self.index(len(self.rows) - 1, PROBLEM_COLUMN))

    def flag_text(self, line: LineView) -> str | None:
        """The Retail ID warning of a flagged line still to be decided (a rejected one is settled)."""
        if line.tag not in self.retail_id_flagged or line.state is ManifestLineState.REJECTED:
            return None
        return "⚠ " + RETAIL_ID_MISSING

    def set_rows(self, rows: Sequence[LineView]) -> None:
        super().set_rows(rows)
        self._row_of = {line.id: n for n, line in enumerate(self.rows)}

    def update_lines(self, lines: Sequence[LineView]) -> list[int]:
        """Put changed lines in place; returns their row numbers (lines not shown are ignored)."""
        changed = []
        for line in lines:
            row = self._row_of.get(line.id)
            if row is None:
                continue
            self.rows[row] = line
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))
            changed.append(row)
        return changed

    def row_of_tag(self, tag: str) -> int | None:
        return next((n for n, line in enumerate(self.rows) if line.tag == tag), None)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.column() == PROBLEM_COLUMN and 0 <= index.row() < len(self.rows):
            flag = self.flag_text(self.rows[index.row()])
            if flag is not None and role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                rest = _what_to_do(self.rows[index.row()])
                return f"{flag}. {rest}" if rest else flag
            if flag is not None and role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(PROBLEM_COLOUR))
        if role == Qt.ItemDataRole.BackgroundRole and index.isValid() and 0 <= index.row() < len(self.rows):
            colour = STATE_BACKGROUND.get(self.rows[index.row()].state)
            return QBrush(QColor(colour)) if colour else None
        return super().data(index, role)
