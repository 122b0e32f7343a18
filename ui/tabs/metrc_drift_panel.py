"""METRC tab → "Check against METRC": every active package compared with METRC (the first
run fetches everything, later runs what METRC changed), one row per difference with both
values and the likely cause."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from backoffice.services import metrc_drift
from backoffice.services.metrc_drift import Difference, DriftResult
from ui import messages
from ui.commands import Job, run_command
from ui.context import AppContext
from ui.models.simple_table import Col, RowTableModel
from ui.widgets.table_view import RowTableView

FIELD_COLOURS = {
    "quantity": "#c62828",
    "missing in METRC": "#c62828",
    "not in this store": "#c62828",
    "finished": "#c62828",
    "hold": "#ef6c00",
    "lab state": "#ef6c00",
    "room": "#1565c0",
    "unit": "#6a1b9a",
}


class DriftPanel(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.model: RowTableModel[Difference] = RowTableModel(
            [
                Col("Tag", lambda d: d.tag),
                Col("Item", lambda d: d.item),
                Col("What differs", lambda d: d.field, colour=lambda d: FIELD_COLOURS.get(d.field, "")),
                Col("This store", lambda d: d.store),
                Col("METRC", lambda d: d.metrc),
                Col("Likely cause", lambda d: d.cause, tooltip=lambda d: d.cause),
            ]
        )
        self.view = RowTableView(self.model, stretch_column=5)
        self.view.setObjectName("driftTable")
        self.check_button = QPushButton("Check against METRC")
        self.check_button.setObjectName("driftCheck")
        self.full = QCheckBox("Fetch everything again")
        self.full.setToolTip("Without this, only what METRC changed since the last check is fetched.")
        self.summary = QLabel(
            "Compare every active package with METRC: quantity (allowing for what is still "
            "queued for METRC), room, hold, lab state, finished."
        )
        self.summary.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.full)
        top.addWidget(self.check_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self.check_button.clicked.connect(self.check)

    def check(self) -> None:
        db, actor, full = self.ctx.db, self.ctx.actor, self.full.isChecked()
        self.check_button.setEnabled(False)

        def work(job: Job) -> DriftResult:
            return metrc_drift.check(db, actor, full=full, progress=job.progress)

        run_command(
            self,
            self.ctx,
            work,
            self.show_result,
            progress="Checking against METRC",
            network=True,
            on_settled=lambda: self.check_button.setEnabled(True),
        )

    def show_result(self, result: DriftResult) -> None:
        self.model.set_rows(result.differences)
        self.summary.setText(f"{result.summary} · {result.started_at:%Y-%m-%d %H:%M} UTC")
        say = messages.warning if result.differences else messages.ok
        say(f"METRC {result.summary}.")
