"""METRC tab: what the state still has to hear about, sent in order; failures with METRC's
own words; manager retry/resolve; manual-mode CSV export; the API keys (OS key store); and
the drift check against METRC (``metrc_drift_panel``); changes from imported files that wait
for a manager (``held_changes``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from backoffice.db.engine import Database
from backoffice.domain.enums import OutboxStatus
from backoffice.services import metrc_connection, metrc_manual, metrc_setup, metrc_sync, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.metrc_sync import OutboxRow
from ui import messages
from ui.commands import Job, run_command, submit_dialog
from ui.context import AppContext
from ui.models.simple_table import Col, RowTableModel
from ui.tabs.base import Tab
from ui.tabs.held_changes import HeldChangesPanel, page_title
from ui.tabs.metrc_drift_panel import DriftPanel
from ui.widgets.table_view import RowTableView

COLOURS = {
    OutboxStatus.PENDING: "#ef6c00",
    OutboxStatus.SENDING: "#1565c0",
    OutboxStatus.FAILED: "#c62828",
    OutboxStatus.SENT: "#2e7d32",
    OutboxStatus.EXPORTED: "#2e7d32",
    OutboxStatus.RESOLVED: "#888888",
}


def _sender(db: Database, actor: Actor) -> Callable[[Job], metrc_sync.SyncResult]:
    """One send of the outbox in order, as a command op."""

    def send(job: Job) -> metrc_sync.SyncResult:
        return metrc_connection.send_now(db, actor)

    return send


class MetrcTab(Tab):
    AUTO_SYNC_MS = 5 * 60_000  # sales are due in METRC within 24 h; changes go out every 5 min

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.model: RowTableModel[OutboxRow] = RowTableModel(
            [
                Col("#", lambda r: r.id),
                Col("Status", lambda r: r.status.value, colour=lambda r: COLOURS[r.status]),
                Col("Call", lambda r: r.kind.value.replace("_", " ")),
                Col("From", lambda r: r.doc),
                Col("Queued", lambda r: r.created_at),
                Col("Tries", lambda r: r.attempts),
                Col("What", lambda r: r.summary, tooltip=lambda r: r.last_error),
            ]
        )
        self.view = RowTableView(self.model, stretch_column=6)
        self.view.setObjectName("outboxTable")
        self.error = QPlainTextEdit()
        self.error.setReadOnly(True)
        self.error.setPlaceholderText("Select an entry to see METRC's answer.")
        self.summary = QLabel()
        self.show_all = QPushButton("Show sent too")
        self.show_all.setCheckable(True)
        self.sync_button = QPushButton("Send to METRC now")
        self.retry_button = QPushButton("Retry")
        self.resolve_button = QPushButton("Resolve by hand…")
        self.export_button = QPushButton("Export CSV for manual upload…")
        self.keys_button = QPushButton("METRC keys…")
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        for button in (
            self.show_all,
            self.sync_button,
            self.retry_button,
            self.resolve_button,
            self.export_button,
            self.keys_button,
        ):
            top.addWidget(button)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("outboxSplitter")
        splitter.addWidget(self.view)
        splitter.addWidget(self.error)
        splitter.setStretchFactor(0, 4)
        outbox_page = QWidget()
        outbox_layout = QVBoxLayout(outbox_page)
        outbox_layout.setContentsMargins(0, 0, 0, 0)
        outbox_layout.addLayout(top)
        outbox_layout.addWidget(splitter, 1)
        self.drift = DriftPanel(ctx)
        self.pages = QTabWidget()
        self.pages.setObjectName("metrcPages")
        self.pages.addTab(outbox_page, "Outbox")
        self.pages.addTab(self.drift, "Check against METRC")
        self.held = HeldChangesPanel(ctx)
        self.held.setObjectName("heldChanges")
        self.pages.addTab(self.held, page_title(0))
        self.held.count_changed.connect(
            lambda count: self.pages.setTabText(self.pages.indexOf(self.held), page_title(count))
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        self.show_all.toggled.connect(lambda _checked: self.reload())
        self.sync_button.clicked.connect(self.sync)
        self.retry_button.clicked.connect(self.retry)
        self.resolve_button.clicked.connect(self.resolve)
        self.export_button.clicked.connect(self.export_csv)
        self.keys_button.clicked.connect(self.edit_keys)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._show_selected())
        self._loaded = False  # the list is read as the signed-in user: the first load waits for sign-in
        ctx.user_changed.connect(self._apply_role)
        self._apply_role()
        self.reload()
        self._background: Job | None = None
        self._auto = QTimer(self)
        self._auto.setInterval(self.AUTO_SYNC_MS)
        self._auto.timeout.connect(self.sync_in_background)
        self._auto.start()

    def sync_in_background(self) -> None:
        """Send waiting entries quietly when an API address is set and nobody is mid-send."""
        if self._background is not None or not self.ctx.signed_in:
            return
        if not settings.read(self.ctx.db, settings.METRC_BASE_URL):
            return
        if not metrc_sync.list_entries(self.ctx.db, self.ctx.actor, statuses={OutboxStatus.PENDING}, limit=1):
            return
        self._background = run_command(
            self,
            self.ctx,
            _sender(self.ctx.db, self.ctx.actor),
            self._background_done,
            on_error=self._background_failed,
            network=True,
        )

    def _background_done(self, result: metrc_sync.SyncResult) -> None:
        self._background = None
        self.summary.setToolTip("")

    def _background_failed(self, exc: BaseException) -> None:
        """No key, METRC down: shown in the tab's tooltip, tried again next time."""
        self._background = None
        self.summary.setToolTip(f"Last automatic send failed: {exc}")

    def _apply_role(self) -> None:
        if not self.ctx.signed_in:
            return
        if not self._loaded:
            self.reload()
        manager = self.ctx.actor.can(Permission.MANAGE_OUTBOX)
        why = "" if manager else f"Your role ({self.ctx.actor.role.value}) may not retry or resolve METRC entries."
        for button in (self.retry_button, self.resolve_button, self.export_button):
            button.setEnabled(manager)
            button.setToolTip(why)

    def reload(self) -> None:
        if not self.usable():  # reads are the signed-in user's: nothing before sign-in
            return
        self._loaded = True
        statuses = (
            None if self.show_all.isChecked() else {OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED}
        )
        rows = metrc_sync.list_entries(self.ctx.db, self.ctx.actor, statuses=statuses)
        self.model.set_rows(rows)
        failed = sum(1 for r in rows if r.status is OutboxStatus.FAILED)
        pending = sum(1 for r in rows if r.status in (OutboxStatus.PENDING, OutboxStatus.SENDING))
        mode = (
            "connected to " + settings.read(self.ctx.db, settings.METRC_BASE_URL)
            if settings.read(self.ctx.db, settings.METRC_BASE_URL)
            else "manual mode (no API address set)"
        )
        self.summary.setText(f"<b>{pending}</b> waiting, <b style='color:#c62828'>{failed}</b> failed · {mode}")

    def refresh(self, changes: Changes) -> None:
        self.held.refresh(changes)
        if changes & (Changes.OUTBOX | Changes.TRANSFERS | Changes.INVENTORY | Changes.SETTINGS):
            self.reload()

    def _show_selected(self) -> None:
        row = self.view.current_row()
        self.error.setPlainText(row.last_error or "" if isinstance(row, OutboxRow) else "")

    def _selected(self) -> OutboxRow | None:
        row = self.view.current_row()
        return row if isinstance(row, OutboxRow) else None

    def sync(self) -> None:
        send = _sender(self.ctx.db, self.ctx.actor)

        def work(job: Job) -> metrc_sync.SyncResult:
            job.progress("Sending to METRC…", 0.2)
            return send(job)

        def done(result: metrc_sync.SyncResult) -> None:
            say = messages.error if result.failed else messages.ok
            say(f"METRC: sent {result.sent}, failed {result.failed}, waiting {result.waiting}. {result.reason}")

        run_command(self, self.ctx, work, done, progress="Sending to METRC", network=True)

    def retry(self) -> None:
        row = self._selected()
        if row is None:
            return
        db, actor = self.ctx.db, self.ctx.actor
        run_command(
            self,
            self.ctx,
            lambda job: metrc_sync.retry(db, actor, row.id),
            lambda change: messages.ok(f"Entry {change.entry_id} is back in the queue."),
        )

    def resolve(self) -> None:
        row = self._selected()
        if row is None:
            return
        note, ok = QInputDialog.getText(self, "Resolve by hand", f"How was entry {row.id} resolved in METRC?")
        if not ok:
            return
        db, actor = self.ctx.db, self.ctx.actor
        run_command(
            self,
            self.ctx,
            lambda job: metrc_sync.resolve(db, actor, row.id, note),
            lambda change: messages.ok(f"Entry {change.entry_id} resolved by hand."),
        )

    def export_csv(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the METRC upload files")
        if not folder:
            return
        db, actor = self.ctx.db, self.ctx.actor

        def done(export: metrc_manual.ManualExport) -> None:
            messages.ok(
                f"Wrote {len(export.files)} file(s) to {folder}; upload them in METRC."
                if export.files
                else "Nothing pending to export."
            )

        run_command(self, self.ctx, lambda job: metrc_manual.export_pending(db, actor, Path(folder)), done)

    def edit_keys(self) -> None:
        KeysDialog(self.ctx, self).exec()


class KeysDialog(QDialog):
    """API keys go to the OS key store (keyring), never to the database or the logs."""

    def __init__(self, ctx: AppContext, parent: QWidget) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("METRC API keys")
        self.vendor = QLineEdit()
        self.vendor.setEchoMode(QLineEdit.EchoMode.Password)
        self.vendor.setPlaceholderText("unchanged")
        self.user_key = QLineEdit()
        self.user_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.user_key.setPlaceholderText("unchanged")
        form = QFormLayout()
        form.addRow("Vendor key (this installation)", self.vendor)
        form.addRow(f"User key for {ctx.actor.username}", self.user_key)
        if not ctx.actor.can(Permission.MANAGE_SETTINGS):
            self.vendor.setEnabled(False)
            self.vendor.setToolTip("Only an administrator sets the vendor key.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Keys are kept in the operating system's key store. METRC keys expire yearly."))
        layout.addLayout(form)
        layout.addWidget(buttons)

    def save(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        vendor, user_key = self.vendor.text(), self.user_key.text()

        def store(job: Job) -> Changes:
            if vendor:
                metrc_setup.set_vendor_key(db, actor, vendor)
            if user_key:
                metrc_setup.set_user_key(db, actor, actor.username, user_key)
            return Changes.AUDIT

        submit_dialog(self, self.ctx, store, lambda _changes: messages.ok("METRC keys saved in the system key store."))
