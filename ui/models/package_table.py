"""The inventory browser's model: packages fetched a page at a time from the database.

Filtering and sorting happen in SQL (like qutebrowser's SQL-backed completion model) so
50,000 active packages never sit in memory at once and a keystroke costs one small query;
the view fetches more rows as it scrolls (canFetchMore/fetchMore).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from backoffice.db.engine import Database
from backoffice.domain.enums import PackageStatus
from backoffice.services import inventory
from backoffice.services.actor import Actor
from backoffice.services.inventory import ActiveSearch, PackageRow
from ui.models.paged_table import Index, PagedTableModel


class Column(enum.IntEnum):
    ITEM = 0
    BRAND = 1
    CATEGORY = 2
    TAG = 3
    QUANTITY = 4
    UNIT = 5
    LOCATION = 6
    EXPIRES = 7
    LAB = 8


HEADERS = ("Item", "Brand", "Category", "Tag", "Qty", "Unit", "Location", "Expires", "Lab")  # in Column order
SORT_KEYS = dict(zip(Column, inventory.COLUMNS, strict=True))
TagRole = Qt.ItemDataRole.UserRole + 1


class PackageTableModel(PagedTableModel[PackageRow]):
    PAGE = 400
    HEADERS = HEADERS

    def __init__(self, db: Database, actor: Callable[[], Actor | None]) -> None:
        super().__init__()
        self.db = db
        self.actor = actor  # who is signed in now (None before sign-in): reading packages needs a permission
        self.text = ""
        self.include_finished = False
        self.sort_column = Column.ITEM
        self.descending = False
        # when loaded, unfinished packages are filtered in memory (see ActiveSearch)
        self.active_search: ActiveSearch | None = None
        self._row_of: dict[str, int] | None = None
        self.resets = 0  # how many times the rows were replaced

    # --- what to show ---------------------------------------------------------------------

    def set_filter(self, text: str, include_finished: bool | None = None) -> None:
        self.text = text.strip()
        if include_finished is not None:
            self.include_finished = include_finished
        self.reload()

    def reload(self) -> None:
        if self.active_search is None or self.include_finished:
            self.load_first_page()
            return
        self.beginResetModel()
        self.rows = self.active_search.search(self.text, sort=SORT_KEYS[self.sort_column], descending=self.descending)
        self._exhausted = True
        self.endResetModel()

    def beginResetModel(self) -> None:  # noqa: N802 — every reset invalidates the tag → row map
        self._row_of = None
        self.resets += 1
        super().beginResetModel()

    def fetch(self, offset: int, limit: int) -> list[PackageRow]:
        actor = self.actor()
        if actor is None:
            return []
        return inventory.search_packages(
            self.db,
            actor,
            self.text,
            include_finished=self.include_finished,
            sort=SORT_KEYS[self.sort_column],
            descending=self.descending,
            offset=offset,
            limit=limit,
        )

    def row_of_tag(self, tag: str) -> int | None:
        if self._row_of is None or len(self._row_of) != len(self.rows):  # rows were reset or fetched
            self._row_of = {r.tag: i for i, r in enumerate(self.rows)}
        return self._row_of.get(tag)

    # --- Qt model API ---------------------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(Column):
            return
        self.sort_column = Column(column)
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # called for every visible cell and role on each repaint (a scan repaints the table):
        # plain ints and a list index, no enum construction, on the hot path
        if role not in _ROLES_SHOWN:
            return None
        number = index.row()
        if not 0 <= number < len(self.rows) or not index.isValid():
            return None
        row, col = self.rows[number], _COLUMNS[index.column()]
        if role == _DISPLAY:
            return _display(row, col)
        if role == _TAG:
            return row.tag
        if role == _ALIGNMENT:
            return _RIGHT if col == Column.QUANTITY else None
        if role == _FOREGROUND:
            if row.status is PackageStatus.FINISHED:
                return _GREY
            if col == Column.LAB and not row.lab_state.sellable:
                return _RED
            return None
        if col == Column.LAB and not row.lab_state.sellable:  # the tooltip
            return "Lab results do not allow this package on the sales floor"
        return None


_COLUMNS = list(Column)
_DISPLAY, _ALIGNMENT, _FOREGROUND, _TOOLTIP, _TAG = (
    int(r)
    for r in (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.ToolTipRole,
        TagRole,
    )
)
_ROLES_SHOWN = frozenset((_DISPLAY, _ALIGNMENT, _FOREGROUND, _TOOLTIP, _TAG))
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_GREY, _RED = QBrush(QColor("#888888")), QBrush(QColor("#c62828"))


def _display(row: PackageRow, col: Column) -> str:
    match col:
        case Column.ITEM:
            return row.item
        case Column.BRAND:
            return row.brand
        case Column.CATEGORY:
            return row.category
        case Column.TAG:
            return row.tag
        case Column.QUANTITY:
            return f"{row.quantity.normalize():f}"
        case Column.UNIT:
            return row.unit.value
        case Column.LOCATION:
            return row.location + (f" · {row.bin}" if row.bin else "")
        case Column.EXPIRES:
            return row.expiration_date.isoformat() if row.expiration_date else ""
        case Column.LAB:
            return row.lab_state.value
