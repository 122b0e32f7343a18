"""Transfers tab: build a vault → floor transfer, record it (METRC first), then confirm the
physical move by scanning each package at its destination."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtPrintSupport import QPrintPreviewDialog
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import LocationKind, TransferStatus
from backoffice.services import locations, replenishment, transfers
from backoffice.services import settings as store_settings
from backoffice.services.changes import Changes
from backoffice.services.replenishment import Suggestion
from backoffice.services.transfers import LineInfo, TransferInfo
from ui import messages
from ui.commands import Job, run_command, run_query
from ui.context import AppContext
from ui.models.simple_table import Col, RowTableModel
from ui.scan_router import when_no_dialog
from ui.tabs.base import ScanFeedback, Tab
from ui.widgets.instruction_panel import InstructionPanel
from ui.widgets.table_view import RowTableView
from ui.widgets.tag_supply import TagSupplyBar

NO_TRANSFER = "Select a transfer, or start a new draft and scan packages into it."
STATUS_COLOURS = {
    TransferStatus.DRAFT: "#ef6c00",
    TransferStatus.RECORDED: "#1565c0",
    TransferStatus.MOVED: "#2e7d32",
    TransferStatus.CANCELLED: "#888888",
}


class TransfersTab(Tab):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.transfer_model: RowTableModel[TransferInfo] = RowTableModel(
            [
                Col("#", lambda t: t.id),
                Col("Status", lambda t: t.status.value, colour=lambda t: STATUS_COLOURS[t.status]),
                Col("From", lambda t: t.from_location),
                Col("To", lambda t: t.to_location),
                Col("Packages", lambda t: len(t.lines)),
                Col("Moved", lambda t: t.moved_count),
                Col("Created", lambda t: t.created_at),
            ]
        )
        self.line_model: RowTableModel[LineInfo] = RowTableModel(
            [
                Col("Tag", lambda ln: ln.tag),
                Col("Item", lambda ln: ln.item),
                Col("Qty", lambda ln: ln.quantity),
                Col("Unit", lambda ln: ln.unit),
                Col("Arrived", lambda ln: ln.moved, colour=lambda ln: "#2e7d32"),
                Col("Split from", lambda ln: ln.split_from),
            ]
        )
        self.transfer_view = RowTableView(self.transfer_model)
        self.transfer_view.setObjectName("transferList")
        self.line_view = RowTableView(self.line_model, stretch_column=1)
        self.line_view.setObjectName("transferLines")

        self.from_box, self.to_box = QComboBox(), QComboBox()
        self.new_button = QPushButton("New draft")
        self.record_button = QPushButton("Record location change (METRC)")
        self.record_button.setObjectName("recordButton")
        self.cancel_button = QPushButton("Cancel draft")
        self.suggest_button = QPushButton("Suggest replenishment…")
        self.lists_button = QPushButton("Sell soon / new on floor…")
        self.header = QLabel()
        self.header.setObjectName("transferHeader")
        self.header.setWordWrap(True)
        self.tags = TagSupplyBar(ctx, self)
        self.steps = InstructionPanel(NO_TRANSFER)
        self.panel = self.steps

        top = QHBoxLayout()
        for widget in (QLabel("From"), self.from_box, QLabel("to"), self.to_box, self.new_button):
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(self.suggest_button)
        top.addWidget(self.lists_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.header)
        right_layout.addWidget(self.steps)
        right_layout.addWidget(self.line_view, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        right_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("transfersSplitter")
        splitter.addWidget(self.transfer_view)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([560, 900])
        for col, width in ((0, 50), (1, 80), (2, 110), (3, 110), (4, 70), (5, 60)):
            self.transfer_view.setColumnWidth(col, width)
        self.line_view.setColumnWidth(0, 210)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.tags)

        self.new_button.clicked.connect(self.new_draft)
        self.record_button.clicked.connect(self.record_current)
        self.cancel_button.clicked.connect(self.cancel_current)
        self.suggest_button.clicked.connect(self.suggest)
        self.lists_button.clicked.connect(self.budtender_lists)
        self.transfer_view.selectionModel().currentRowChanged.connect(lambda *_: self._show_current())
        self.current: TransferInfo | None = None
        self._loaded = False  # lists are read as the signed-in user: the first load waits for sign-in
        self._load_locations()
        self.reload()
        ctx.user_changed.connect(self._signed_in)

    # --- data -------------------------------------------------------------------------------

    def _signed_in(self) -> None:
        if self._loaded:
            return
        self._load_locations()
        self.reload()

    def _load_locations(self) -> None:
        if not self.usable():  # reads are the signed-in user's: nothing before sign-in
            return
        locs = locations.list_locations(self.ctx.db, self.ctx.actor)
        for box, preferred in ((self.from_box, LocationKind.VAULT), (self.to_box, LocationKind.FLOOR)):
            box.clear()
            for loc in locs:
                box.addItem(loc.name)
            match = next((loc.name for loc in locs if loc.kind is preferred), None)
            if match:
                box.setCurrentText(match)

    def reload(self) -> None:
        if not self.usable():  # reads are the signed-in user's: nothing before sign-in
            return
        self._loaded = True
        keep = self.current.id if self.current else None
        self.transfer_model.set_rows(transfers.list_transfers(self.ctx.db, self.ctx.actor))
        self.tags.reload()
        if keep is not None:
            self.select_transfer(keep)
        self._show_current()

    def refresh(self, changes: Changes) -> None:
        if changes & (Changes.TRANSFERS | Changes.INVENTORY | Changes.SETTINGS):
            self.reload()

    def select_transfer(self, transfer_id: int) -> None:
        for row, info in enumerate(self.transfer_model.rows):
            if info.id == transfer_id:
                index = self.transfer_view.proxy.mapFromSource(self.transfer_model.index(row, 0))
                self.transfer_view.setCurrentIndex(index)
                self.current = info
                return

    def _show_current(self) -> None:
        row = self.transfer_view.current_row()
        self.current = row if isinstance(row, TransferInfo) else None
        info = self.current
        self.line_model.set_rows(info.lines if info else [])
        self.record_button.setEnabled(bool(info and info.status is TransferStatus.DRAFT and info.lines))
        self.cancel_button.setEnabled(bool(info and info.status is TransferStatus.DRAFT))
        if info is None:
            self.header.setText("")
            self.steps.show_instruction(NO_TRANSFER)
            return
        step = {
            TransferStatus.DRAFT: f"Transfer #{info.id}: scan packages to add them, then record the location change. "
            "Do not move product yet.",
            TransferStatus.RECORDED: f"Transfer #{info.id} is recorded. Move the product now and scan each package "
            f"at {info.to_location}.",
            TransferStatus.MOVED: f"Transfer #{info.id}: every package arrived.",
            TransferStatus.CANCELLED: f"Transfer #{info.id} was cancelled.",
        }[info.status]
        self.header.setText(
            f"<b>Transfer #{info.id}</b> {info.from_location} → {info.to_location} · "
            f"<span style='color:{STATUS_COLOURS[info.status]}'>{info.status.value}</span> · "
            f"{info.moved_count}/{len(info.lines)} arrived"
        )
        self.steps.show_instruction(step)

    def _after(self, info: TransferInfo) -> None:
        """A command changed this transfer: the runner announced it (the list reloaded); show it."""
        self.select_transfer(info.id)
        self._show_current()

    # --- actions ------------------------------------------------------------------------------

    def new_draft(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        source, destination = self.from_box.currentText(), self.to_box.currentText()

        def done(info: TransferInfo) -> None:
            self._after(info)
            messages.info(f"Draft transfer #{info.id} started: scan packages to add them.")

        run_command(self, self.ctx, lambda job: transfers.create_transfer(db, actor, source, destination, []), done)

    def record_current(self) -> None:
        if self.current is None:
            return
        db, actor, transfer_id = self.ctx.db, self.ctx.actor, self.current.id

        def done(info: TransferInfo) -> None:
            self._after(info)
            messages.ok(f"Transfer #{info.id} recorded and queued for METRC. Move the product now.")

        run_command(self, self.ctx, lambda job: transfers.record(db, actor, transfer_id), done)

    def cancel_current(self) -> None:
        if self.current is None:
            return
        reason, ok = QInputDialog.getText(self, "Cancel draft", "Why is this transfer cancelled?")
        if not ok:
            return
        db, actor, transfer_id = self.ctx.db, self.ctx.actor, self.current.id
        run_command(self, self.ctx, lambda job: transfers.cancel(db, actor, transfer_id, reason=reason), self._after)

    def handle_scan(self, code: str) -> ScanFeedback | None:
        info, db, actor = self.current, self.ctx.db, self.ctx.actor
        if info is not None and info.status is TransferStatus.DRAFT:
            draft_id = info.id

            def added(new: TransferInfo) -> None:
                self._after(new)
                messages.ok(f"Added {code} to draft #{new.id} ({len(new.lines)} packages).")

            run_command(
                self,
                self.ctx,
                lambda job: transfers.add_package(db, actor, draft_id, code),
                added,
                on_error=self._scan_refused,
            )
            return ScanFeedback.working_on(code)
        destination = (
            info.to_location
            if info is not None and info.status is TransferStatus.RECORDED
            else self.to_box.currentText()
        )

        def arrived(new: TransferInfo) -> None:
            self._after(new)
            done = " Transfer complete." if new.status is TransferStatus.MOVED else ""
            messages.ok(f"{code} arrived at {new.to_location} ({new.moved_count}/{len(new.lines)}).{done}")

        run_command(
            self,
            self.ctx,
            lambda job: transfers.confirm_arrival(db, actor, code, destination),
            arrived,
            on_error=self._scan_refused,
        )
        return ScanFeedback.working_on(code)

    def _scan_refused(self, exc: BaseException) -> None:
        if isinstance(exc, transfers.NotRecorded):
            when_no_dialog(lambda: self._refused(exc))
        else:
            messages.error(str(exc))

    def _refused(self, refused: transfers.NotRecorded) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Transfer not recorded", str(refused), parent=self)
        box.setObjectName("notRecordedBox")
        if refused.draft_transfer_id is not None:
            box.addButton(f"Record transfer #{refused.draft_transfer_id} now", QMessageBox.ButtonRole.AcceptRole)
        else:
            box.addButton(
                f"Create and record {refused.from_location} → {refused.to_location} now",
                QMessageBox.ButtonRole.AcceptRole,
            )
        put_back = box.addButton("Put it back", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(put_back)  # Enter is the safe choice; recording takes a click
        box.setEscapeButton(put_back)
        QApplication.beep()
        box.exec()
        if box.buttonRole(box.clickedButton()) != QMessageBox.ButtonRole.AcceptRole:
            messages.error(f"Refused: {refused.tag} has no recorded transfer. Product stays where it was.")
            return
        db, actor = self.ctx.db, self.ctx.actor

        def record(job: Job) -> TransferInfo:
            if refused.draft_transfer_id is not None:
                return transfers.record(db, actor, refused.draft_transfer_id)
            return transfers.record_now(db, actor, refused.tag, refused.from_location, refused.to_location)

        def done(info: TransferInfo) -> None:
            self._after(info)
            messages.ok(f"Transfer #{info.id} recorded. Now move {refused.tag} and scan it again.")

        run_command(self, self.ctx, record, done)

    # --- replenishment and budtender lists ------------------------------------------------------

    def suggest(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        today = store_settings.store_calendar(db).today()
        run_query(
            self,
            lambda job: replenishment.suggest(db, actor, today=today),
            self._show_suggestions,
            progress="Working out what the floor needs",
        )

    def _show_suggestions(self, suggestions: list[Suggestion]) -> None:
        dialog = SuggestionsDialog(suggestions, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        chosen = [s for s in dialog.view.selected_rows() if isinstance(s, Suggestion) and s.tags]
        if not chosen:
            return
        db, actor = self.ctx.db, self.ctx.actor
        source, destination = self.from_box.currentText(), self.to_box.currentText()
        run_command(
            self,
            self.ctx,
            lambda job: replenishment.create_from(db, actor, chosen, from_location=source, to_location=destination),
            self._after,
        )

    def budtender_lists(self) -> None:
        today = store_settings.store_calendar(self.ctx.db).today()
        soon = replenishment.sell_soon(self.ctx.db, self.ctx.actor, today=today)
        new = replenishment.new_on_floor(self.ctx.db, self.ctx.actor, today=today)
        html = [
            f"<h2>Sell soon (expires within 30 days) — {today:%A %d %B %Y}</h2><table border=1 cellpadding=3>",
            "<tr><th>Expires</th><th>Item</th><th>Brand</th><th>Qty</th><th>Where</th></tr>",
        ]
        html += [
            f"<tr><td>{n.on}</td><td>{n.item}</td><td>{n.brand}</td><td>{n.quantity.normalize():f} {n.unit}</td>"
            f"<td>{n.location}</td></tr>"
            for n in soon
        ]
        html += [
            "</table><h2>New on the floor (last 7 days)</h2><table border=1 cellpadding=3>",
            "<tr><th>Since</th><th>Item</th><th>Brand</th><th>Qty</th></tr>",
        ]
        html += [
            f"<tr><td>{n.on}</td><td>{n.item}</td><td>{n.brand}</td><td>{n.quantity.normalize():f} {n.unit}</td></tr>"
            for n in new
        ]
        html.append("</table>")
        document = QTextDocument()
        document.setHtml("".join(html))
        preview = QPrintPreviewDialog(self)
        preview.setWindowTitle("Budtender lists")
        preview.paintRequested.connect(document.print_)
        preview.exec()


class SuggestionsDialog(QDialog):
    def __init__(self, suggestions: list[Suggestion], parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Replenishment suggestions")
        self.resize(1100, 560)
        model: RowTableModel[Suggestion] = RowTableModel(
            [
                Col("SKU", lambda s: s.sku),
                Col("Item", lambda s: s.item),
                Col("Floor", lambda s: s.floor_on_hand),
                Col("Par", lambda s: s.floor_par),
                Col("Per day", lambda s: s.daily_velocity),
                Col("Need", lambda s: s.need),
                Col(
                    "Packages (earliest expiry first)",
                    lambda s: ", ".join(s.tags) or "none in the vault",
                    tooltip=lambda s: s.why,
                ),
            ]
        )
        model.set_rows(suggestions)
        self.model = model
        self.view = RowTableView(model, stretch_column=1)
        self.view.setSelectionMode(RowTableView.SelectionMode.ExtendedSelection)
        self.view.selectAll()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create transfer from selected")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{len(suggestions)} items are below par on the floor. Hover a row to see its math."))
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
