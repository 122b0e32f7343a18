"""Package detail panel: what the package is, where it is, and everything that happened to it."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from backoffice.db.engine import Database
from backoffice.services import inventory
from backoffice.services.actor import Actor
from backoffice.services.inventory import PackageRow
from ui.models.history_table import HistoryTableModel


class PackageDetail(QWidget):
    HISTORY_DELAY_MS = 30  # about two frames after the package is shown

    def __init__(self, db: Database, actor: Callable[[], Actor]) -> None:
        super().__init__()
        self.db = db
        self.actor = actor  # who is signed in now: a package's history needs a permission
        self.summary = QLabel("Select or scan a package to see its history.")
        self.summary.setWordWrap(True)
        self.model = HistoryTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        # history loads a moment later: the answer to a scan is painted first whatever order the
        # event loop takes, and rows skipped over quickly with the arrow keys cost one load, not many
        self._pending_tag: str | None = None
        self._history_timer = QTimer(self)
        self._history_timer.setSingleShot(True)
        self._history_timer.setInterval(self.HISTORY_DELAY_MS)
        self._history_timer.timeout.connect(self._load_history)

    @property
    def history_pending(self) -> bool:
        """A package is shown and its history is still to be loaded."""
        return self._history_timer.isActive()

    def show_package(self, row: PackageRow | None) -> None:
        if row is None:
            self._pending_tag = None
            self.summary.setText("Select or scan a package to see its history.")
            self.model.set_events([])
            return
        expires = row.expiration_date.isoformat() if row.expiration_date else "—"
        lab_colour = "" if row.lab_state.sellable else " style='color:#c62828'"
        self.summary.setText(
            f"<b>{escape(row.item)}</b> &nbsp; <span style='color:gray'>{escape(row.brand)} · {escape(row.category)}"
            f" · {escape(row.sku)}</span><br><tt>{row.tag}</tt><br>"
            f"<b>{row.quantity.normalize():f} {row.unit.value}</b> in <b>{escape(row.location)}</b>"
            f"{' · bin ' + escape(row.bin) if row.bin else ''} · {row.status.value.replace('_', ' ')}"
            f" · expires {expires} · lab <span{lab_colour}>{row.lab_state.value}</span> · ${row.price}"
        )
        self._pending_tag = row.tag
        self._history_timer.start()

    def _load_history(self) -> None:
        if self._pending_tag is None:
            return
        self.model.set_events(inventory.package_history(self.db, self.actor(), self._pending_tag))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
