"""Receiving tab: import a manifest (file or METRC), scan each package to tick its line,
correct received quantities, reject what is refused, accept the rest and finish into the
vault (or another room), then print the receive sheet and bin labels. A receiving in
progress is reopened where the scans left off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import ManifestLineState, ManifestStatus
from backoffice.errors import UserError
from backoffice.services import catalogue, receiving, receiving_metrc, settings
from backoffice.services.actor import Permission
from backoffice.services.changes import Changes
from backoffice.services.event_words import plural
from backoffice.services.receiving import (
    AcceptResult,
    BadScan,
    ImportResult,
    LineAction,
    LineChange,
    LineView,
    ManifestSummary,
    ManifestView,
    ScanResult,
)
from ui import messages, store_time
from ui.commands import Job, QueryRunner, run_command, run_query
from ui.context import AppContext
from ui.errors import show_error
from ui.models.receiving_lines import PROBLEM_COLUMN, ReceivingLineModel
from ui.models.simple_table import Col, RowTableModel
from ui.tabs.base import ScanFeedback, Tab
from ui.tabs.receiving_dialogs import ExpirationDialog, QuantityDialog, RejectDialog
from ui.tabs.receiving_finish import FinishFlow
from ui.tabs.receiving_items import CreateItemsDialog
from ui.tabs.receiving_retail_id import RetailIdFlow
from ui.widgets.instruction_panel import InstructionPanel
from ui.widgets.table_view import RowTableView

STATUS_COLOURS = {ManifestStatus.OPEN: "#ef6c00", ManifestStatus.RECEIVED: "#2e7d32"}
_SETTING = "receiving/manifest"
NO_MANIFEST = (
    "Import the delivery's manifest (file from the shipper or METRC), or choose one in the list, then scan "
    "each package."
)


class ReceivingTab(Tab):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.list_model: RowTableModel[ManifestSummary] = RowTableModel(
            [
                Col("Manifest", lambda m: m.manifest_number),
                Col("Shipper", lambda m: m.shipper_name),
                Col("Expected", lambda m: m.estimated_arrival),
                Col("Status", lambda m: m.status.value, colour=lambda m: STATUS_COLOURS[m.status]),
                Col("Scanned", lambda m: f"{m.scanned}/{m.packages}"),
                Col("Decided", lambda m: m.decided),
            ]
        )
        self.list_view = RowTableView(self.list_model, stretch_column=1)
        self.list_view.setObjectName("manifestList")
        self.line_model = ReceivingLineModel()
        self.line_view = RowTableView(self.line_model, stretch_column=len(self.line_model.columns) - 1)
        self.line_view.setObjectName("manifestLines")
        self.line_view.setSelectionMode(RowTableView.SelectionMode.ExtendedSelection)
        for col, width in (
            (0, 90),  # state
            (1, 200),  # tag
            (2, 260),  # item
            (PROBLEM_COLUMN, 320),
            (4, 70),  # shipped
            (5, 70),  # received
            (6, 55),  # unit
            (7, 95),  # lab
            (8, 150),  # category
            (9, 110),  # strain
            (10, 75),  # wholesale
            (11, 85),  # expires
            (12, 75),  # bin
        ):
            self.line_view.setColumnWidth(col, width)

        self.import_button = QPushButton("Import manifest file…")
        self.fetch_button = QPushButton("Fetch from METRC…")
        self.show_received = QCheckBox("Show received manifests")
        self.header = QLabel()
        self.header.setObjectName("receivingHeader")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.steps = InstructionPanel(NO_MANIFEST)  # the step, and each scan's answer, in full
        self.panel = self.steps
        self.quantity_button = QPushButton("Received quantity…")
        self.expiry_button = QPushButton("Expiration date…")
        self.item_button = QPushButton("Create items…")
        self.reject_button = QPushButton("Reject…")
        self.accept_button = QPushButton("Accept selected")
        self.accept_scanned_button = QPushButton("Accept all scanned")
        self.undo_button = QPushButton("Undo decision")
        self.finish_button = QPushButton("Finish receiving…")
        self.finish_button.setObjectName("finishReceiving")
        self.report_button = QPushButton("Receiving report (PDF)…")
        self.check_button = QPushButton("Check METRC agrees…")
        self.retail_ids = RetailIdFlow(self)

        top = QHBoxLayout()
        for widget in (self.import_button, self.fetch_button, self.show_received):
            top.addWidget(widget)
        top.addStretch(1)
        line_buttons = QHBoxLayout()
        for button in (
            self.quantity_button,
            self.expiry_button,
            self.item_button,
            self.reject_button,
            self.accept_button,
            self.accept_scanned_button,
            self.undo_button,
        ):
            line_buttons.addWidget(button)
        line_buttons.addStretch(1)
        manifest_buttons = QHBoxLayout()
        for button in (self.retail_ids.button, self.finish_button, self.report_button, self.check_button):
            manifest_buttons.addWidget(button)
        manifest_buttons.addStretch(1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.header)
        right_layout.addWidget(self.steps)
        right_layout.addLayout(line_buttons)
        right_layout.addWidget(self.line_view, 1)
        right_layout.addLayout(manifest_buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("receivingSplitter")
        splitter.addWidget(self.list_view)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([420, 1100])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        self.import_button.clicked.connect(self.choose_file)
        self.fetch_button.clicked.connect(self.fetch_from_metrc)
        self.show_received.toggled.connect(lambda _: self.reload_list())
        self.quantity_button.clicked.connect(lambda: self._line_dialog(QuantityDialog))
        self.expiry_button.clicked.connect(lambda: self._line_dialog(ExpirationDialog))
        self.reject_button.clicked.connect(lambda: self._line_dialog(RejectDialog))
        self.item_button.clicked.connect(self.create_items)
        self.accept_button.clicked.connect(self.accept_selected)
        self.accept_scanned_button.clicked.connect(self.accept_scanned)
        self.undo_button.clicked.connect(self.undo)
        self.finish_button.clicked.connect(lambda: self.finishing.finish())
        self.report_button.clicked.connect(
            lambda: self.finishing.save_report(self.current.id, self.current.manifest_number) if self.current else None
        )
        self.check_button.clicked.connect(lambda: self.finishing.check_metrc())
        self.list_view.selectionModel().currentRowChanged.connect(lambda *_: self._open_current())
        self.line_view.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self._list_timer = QTimer(self)  # the list's progress figures catch up once a burst of scans ends
        self._list_timer.setSingleShot(True)
        self._list_timer.setInterval(800)
        self._list_timer.timeout.connect(self.reload_list)
        self.current: ManifestView | None = None
        self._stale = False
        self._own_writes = 0  # commands of this tab whose change flags are yet to be announced
        self._list_loader, self._manifest_loader = QueryRunner(self), QueryRunner(self)
        self.finishing: FinishFlow = FinishFlow(self)
        if ctx.signed_in:
            self.reload_list()
        ctx.user_changed.connect(self._signed_in)

    # --- loading ------------------------------------------------------------------------------

    def _signed_in(self) -> None:
        if self.ctx.signed_in and self.ctx.actor.can(Permission.RECEIVE):
            self.reload_list()

    def reload_list(self) -> None:
        """The manifest list, read off the GUI thread; keeps the open manifest, or reopens the one
        last worked on (or the first open one)."""
        if not self.ctx.signed_in or not self.ctx.actor.can(Permission.RECEIVE):
            return
        db, actor, open_only = self.ctx.db, self.ctx.actor, not self.show_received.isChecked()

        def load(job: Job) -> tuple[list[ManifestSummary], bool, bool]:
            metrc = bool(settings.read(db, settings.METRC_BASE_URL))
            v2 = metrc and settings.read(db, settings.METRC_API_VERSION) == "v2"
            return receiving.list_manifests(db, actor, open_only=open_only), metrc, v2

        self._list_loader.run(load, self._list_loaded)

    def _list_loaded(self, loaded: tuple[list[ManifestSummary], bool, bool]) -> None:
        rows, metrc, self.retail_ids.available = loaded
        self.fetch_button.setEnabled(metrc)
        keep = self.current.id if self.current else self.ctx.settings.value(_SETTING, None)
        self.list_view.selectionModel().blockSignals(True)
        self.list_model.set_rows(rows)
        self.list_view.selectionModel().blockSignals(False)
        wanted = next((m.id for m in rows if str(m.id) == str(keep)), None)
        if wanted is None:
            wanted = next((m.id for m in rows if m.status is ManifestStatus.OPEN), None)
        if wanted is not None:
            self.select_manifest(wanted)
        else:
            self._show(None)

    def select_manifest(self, manifest_id: int) -> None:
        for row, summary in enumerate(self.list_model.rows):
            if summary.id == manifest_id:
                index = self.list_view.proxy.mapFromSource(self.list_model.index(row, 0))
                self.list_view.setCurrentIndex(index)
                self._open_current()
                return

    def _open_current(self) -> None:
        summary = self.list_view.current_row()
        if not isinstance(summary, ManifestSummary) or (self.current is not None and self.current.id == summary.id):
            return
        self._load_manifest(summary.id)

    def _reload_current(self) -> None:
        if self.current is not None:
            self._load_manifest(self.current.id)

    def _load_manifest(self, manifest_id: int) -> None:
        """A manifest with its lines, read off the GUI thread (the newest ask wins)."""
        db, actor = self.ctx.db, self.ctx.actor

        def opened(view: ManifestView) -> None:
            self.ctx.settings.setValue(_SETTING, view.id)
            keep = self._current_line()
            self._show(view)
            if keep is not None and (row := self.line_model.row_of_tag(keep.tag)) is not None:
                self._point_at(row)  # the line the person was on stays in front

        self._manifest_loader.run(lambda job: receiving.get_manifest(db, actor, manifest_id), opened)

    def _show(self, view: ManifestView | None) -> None:
        self.current = view
        self.line_model.set_rows(view.lines if view else [])
        self._header()
        self._enable()

    def refresh(self, changes: Changes) -> None:
        if not changes & (Changes.MANIFESTS | Changes.INVENTORY | Changes.SETTINGS):
            return
        if self._own_writes and not changes & ~(Changes.MANIFESTS | Changes.AUDIT):
            return  # a scan or line step of this tab: its result updates the lines it touched
        if not self.isVisible():  # other tabs' scans change inventory often: catch up when shown
            self._stale = True
            return
        self.reload_list()
        self._reload_current()

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload_list()
            self._reload_current()

    def _header(self) -> None:
        view = self.current
        if view is None:
            self.header.setText("")
            self.steps.show_instruction(NO_MANIFEST)
            return
        view = replace(view, lines=self.line_model.rows)  # the lines as the scans since loading left them
        attention = view.needs_attention
        arrival = store_time.stamp(view.estimated_arrival) if view.estimated_arrival else "—"
        status = view.status.value if view.open else f"received into {view.receiving_location} by {view.finished_by}"
        warn = (
            (
                f" · <span style='color:#c62828'>⚠ {attention} cannot be accepted yet: see Problem "
                "(e.g. create the item)</span>"
            )
            if attention
            else ""
        )
        step = (
            "Scan each package on the dock. Reject what is refused, accept the rest, then finish."
            if view.open
            else "Key the receive sheet into METRC, then check METRC agrees."
        )
        self.header.setText(
            f"<b>Manifest {view.manifest_number}</b> · {view.shipper_name} (license {view.shipper_license}) · "
            f"<span style='color:{STATUS_COLOURS[view.status]}'>{status}</span><br>"
            f"Driver {view.driver_name or '—'} · Vehicle {view.vehicle or '—'} · Transporter "
            f"{view.transporter_license or '—'} · Expected {arrival}<br>"
            f"<b>{view.seen}/{len(view.lines)} scanned</b> · {view.count(ManifestLineState.ACCEPTED)} accepted · "
            f"{view.count(ManifestLineState.REJECTED)} rejected · {view.count(ManifestLineState.PENDING)} not scanned"
            f"{warn}"
        )
        flagged = self.retail_ids.flagged() if view.open else frozenset()
        if flagged:
            step += f" ⚠ {', '.join(sorted(flagged))}: {receiving.RETAIL_ID_MISSING}."
        self.steps.show_instruction(step)

    def _enable(self) -> None:
        view = self.current
        open_ = view is not None and view.open
        line = self._current_line()
        allowed = receiving.line_actions(line, view.status) if line is not None and view is not None else frozenset()
        self.quantity_button.setEnabled(LineAction.SET_QUANTITY in allowed)
        self.expiry_button.setEnabled(LineAction.SET_EXPIRATION in allowed)
        self.item_button.setEnabled(LineAction.CREATE_ITEM in allowed)
        self.reject_button.setEnabled(LineAction.REJECT in allowed)
        # a selection of several lines is accepted all or none: the service says which one stands in the way
        self.accept_button.setEnabled(open_ and line is not None)
        self.accept_scanned_button.setEnabled(open_)
        self.undo_button.setEnabled(LineAction.UNDO in allowed)
        self.finish_button.setEnabled(open_)
        self.report_button.setEnabled(view is not None)
        self.check_button.setEnabled(view is not None and view.status is ManifestStatus.RECEIVED)
        self.retail_ids.enable()

    def _current_line(self) -> LineView | None:
        row = self.line_view.current_row()
        return row if isinstance(row, LineView) else None

    def _lines_changed(self, change: LineChange) -> None:
        rows = self.line_model.update_lines(change.lines)
        if rows:
            self._point_at(rows[0])
        self._header()
        self._enable()
        self._list_timer.start()
        messages.ok(change.message)

    def _point_at(self, row: int) -> None:
        index = self.line_view.proxy.mapFromSource(self.line_model.index(row, 0))
        self.line_view.setCurrentIndex(index)
        self.line_view.scrollTo(index)

    # --- scanning -----------------------------------------------------------------------------

    def handle_scan(self, code: str) -> ScanFeedback | None:
        view = self.current
        if view is None or not view.open:
            return ScanFeedback(
                False, "Choose the open manifest of this delivery (or import it) before scanning its packages."
            )
        db, actor, manifest_id = self.ctx.db, self.ctx.actor, view.id
        self._write(
            lambda job: receiving.scan(db, actor, manifest_id, code), self._scanned, on_error=self._scan_refused
        )
        return ScanFeedback.working_on(code)

    def _scanned(self, result: ScanResult) -> None:
        rows = self.line_model.update_lines([result.line])
        if rows:
            self._point_at(rows[0])
        self._header()
        self._enable()
        self._list_timer.start()
        (messages.ok if result.ok else messages.error)(result.message)

    def _scan_refused(self, exc: BaseException) -> None:
        if isinstance(exc, BadScan) and (row := self.line_model.row_of_tag(exc.tag)) is not None:
            self._point_at(row)
        messages.error(str(exc))

    # --- line actions -------------------------------------------------------------------------

    def _write(
        self,
        op: Callable[[Job], Any],
        on_done: Callable[[Any], None],
        *,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """A write of this tab as a command. Its manifest change is shown by ``on_done`` line by line,
        so ``refresh`` skips reloading the whole manifest for it (see ``_own_writes``)."""
        self._own_writes += 1
        run_command(
            self, self.ctx, op, on_done, on_error=on_error, on_settled=lambda: QTimer.singleShot(0, self._write_settled)
        )

    def _write_settled(self) -> None:
        self._own_writes -= 1

    def _line_dialog(self, kind: Any) -> None:
        line, view = self._current_line(), self.current
        if line is None or view is None:
            return
        dialog = kind(self.ctx, view.id, line, self)
        self._own_writes += 1  # the dialog's command is this tab's write
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
        finally:
            self._own_writes -= 1
        if accepted and dialog.result_change is not None:
            self._lines_changed(dialog.result_change)

    def create_items(self) -> None:
        """The new items of the selected lines (or of every line whose item the store lacks)."""
        view = self.current
        if view is None:
            return
        tags = [row.tag for row in self.line_view.selected_rows() if isinstance(row, LineView) and row.item_id is None]
        try:
            proposals = catalogue.propose_items(self.ctx.db, self.ctx.actor, view.id, tags or None)
        except UserError as exc:
            show_error(self, exc)
            return
        if not proposals:
            messages.ok("Every line of this manifest has its item in the catalogue.")
            return
        dialog = CreateItemsDialog(self.ctx, view.id, proposals, self)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.result_change is None:
            return
        created: catalogue.ItemsCreated = dialog.result_change
        messages.ok(created.message)

    def accept_selected(self) -> None:
        view = self.current
        tags = [row.tag for row in self.line_view.selected_rows() if isinstance(row, LineView)]
        if view is None or not tags or (knowingly := self.retail_ids.confirm("Accept selected", tags)) is None:
            return
        db, actor, manifest_id = self.ctx.db, self.ctx.actor, view.id
        self._write(
            lambda job: receiving.accept(db, actor, manifest_id, tags, without_unit_codes=knowingly),
            lambda result: self._after_accept(f"{len(result.accepted)} package(s) accepted."),
        )

    def accept_scanned(self) -> None:
        view = self.current
        scanned = [line.tag for line in self.line_model.rows if line.state is ManifestLineState.SCANNED]
        if view is None or (knowingly := self.retail_ids.confirm("Accept all scanned", scanned)) is None:
            return
        db, actor, manifest_id = self.ctx.db, self.ctx.actor, view.id

        def accepted(result: AcceptResult) -> None:
            left = (
                (
                    f" {plural(len(result.left), 'scanned package')} cannot be accepted yet (⚠): see Problem, "
                    "e.g. create the item."
                )
                if result.left
                else ""
            )
            self._after_accept(f"{len(result.accepted)} package(s) accepted.{left}", warn=bool(result.left))

        self._write(
            lambda job: receiving.accept_scanned(db, actor, manifest_id, without_unit_codes=knowingly), accepted
        )

    def _after_accept(self, message: str, *, warn: bool = False) -> None:
        self._reload_current()
        self._list_timer.start()
        (messages.warning if warn else messages.ok)(message)

    def undo(self) -> None:
        line, view = self._current_line(), self.current
        if line is None or view is None:
            return
        db, actor, manifest_id, tag = self.ctx.db, self.ctx.actor, view.id, line.tag
        self._write(lambda job: receiving.undo_decision(db, actor, manifest_id, tag), self._lines_changed)

    # --- import -------------------------------------------------------------------------------

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import manifest", str(Path.home()), "METRC manifest (*.json *.csv);;All files (*)"
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        run_command(
            self,
            self.ctx,
            lambda job: receiving.import_file(db, actor, path),
            self._imported,
            progress=f"Importing {path.name}",
        )

    def fetch_from_metrc(self) -> None:
        from backoffice.services import metrc_connection

        db, actor = self.ctx.db, self.ctx.actor

        def listing(job: Job) -> list[receiving_metrc.IncomingManifest]:
            with metrc_connection.connect(db, actor.username) as client:
                return receiving_metrc.incoming(db, actor, client)

        run_query(self, listing, self._choose_incoming, progress="Asking METRC for incoming manifests")

    def _choose_incoming(self, incoming: list[receiving_metrc.IncomingManifest]) -> None:
        waiting = [m for m in incoming if not m.imported]
        if not waiting:
            QMessageBox.information(
                self, "Fetch from METRC", "METRC lists no incoming manifest that is not imported here already."
            )
            return
        names = [f"{m.manifest_number} · {m.shipper_name} · {m.packages or '?'} packages" for m in waiting]
        chosen, ok = QInputDialog.getItem(self, "Fetch from METRC", "Incoming manifest", names, 0, False)
        if not ok:
            return
        number = waiting[names.index(chosen)].manifest_number
        db, actor = self.ctx.db, self.ctx.actor

        def fetch(job: Job) -> ImportResult:
            from backoffice.services import metrc_connection

            with metrc_connection.connect(db, actor.username) as client:
                return receiving_metrc.import_from_metrc(db, actor, client, number)

        run_command(self, self.ctx, fetch, self._imported, progress=f"Fetching manifest {number}", network=True)

    def _imported(self, result: ImportResult) -> None:
        self.show_received.setChecked(self.show_received.isChecked() or result.status is ManifestStatus.RECEIVED)
        self.current = None
        self.ctx.settings.setValue(_SETTING, result.manifest_id)
        self.reload_list()  # opens the manifest just saved as the one last worked on
        again = " (already imported: opened where it stands)" if result.already_imported else ""
        unknown = f" {result.unknown_items} item(s) are not in the catalogue (⚠)." if result.unknown_items else ""
        (messages.warning if result.unknown_items else messages.ok)(
            f"Manifest {result.manifest_number}: {result.packages} packages{again}. Scan each package.{unknown}"
        )
