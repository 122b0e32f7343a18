"""Audit tab: the global audit trail with old → new values, and a chain check."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLineEdit, QMessageBox, QPushButton, QTableView, QVBoxLayout

from backoffice.services import audit, ledger
from backoffice.services.changes import Changes
from ui.commands import Job, run_query
from ui.context import AppContext
from ui.models.audit_table import AuditTableModel
from ui.tabs.base import Tab


class AuditTab(Tab):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by user, action or record…")
        self.filter.setClearButtonEnabled(True)
        self.verify_button = QPushButton("Verify chain and balances")
        self.model = AuditTableModel(ctx.db, lambda: ctx.actor)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.verticalHeader().hide()
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        for col, width in ((0, 60), (1, 150), (2, 110), (3, 150)):
            self.view.setColumnWidth(col, width)
        self.view.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.verify_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self.filter.returnPressed.connect(lambda: self.model.set_filter(self.filter.text()))
        self.filter.textChanged.connect(self._text_changed)
        self.verify_button.clicked.connect(self.verify)
        self._loaded = False

    def showEvent(self, event: Any) -> None:  # noqa: N802 — load on first view, not at start-up
        if not self._loaded:
            self._loaded = True
            self.model.set_filter("")
        super().showEvent(event)

    def refresh(self, changes: Changes) -> None:
        if self._loaded:
            self.model.set_filter(self.filter.text())

    def _text_changed(self, text: str) -> None:
        if not text:  # a cleared filter shows everything again at once
            self.model.set_filter("")

    def verify(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor

        def work(job: Job) -> tuple[audit.ChainReport, list[ledger.BalanceMismatch]]:
            job.progress("Checking the audit chain…", 0.1)
            report = audit.verify(db, actor)
            job.progress("Checking package balances against the ledger…", 0.6)
            return report, ledger.check_balances(db, actor)

        def done(result: tuple[audit.ChainReport, list[ledger.BalanceMismatch]]) -> None:
            report, mismatches = result
            if report.ok and not mismatches:
                QMessageBox.information(
                    self,
                    "Audit verified",
                    f"The audit chain is intact ({report.events_checked:,} events) and every "
                    "package balance matches its ledger.",
                )
                return
            lines = report.problems[:20] + [
                f"package {m.tag}: {m.package_quantity} vs ledger {m.ledger_quantity}" for m in mismatches[:20]
            ]
            QMessageBox.critical(self, "Audit verification FAILED", "\n".join(lines))

        run_query(self, work, done, progress="Verifying the audit trail")
