"""Cycle Count tab: start a count, count by scanning (or key in a printed sheet), see counted
vs ledger vs POS vs METRC, resolve each variance by a recount or an adjustment, and submit."""

from __future__ import annotations

import socket
from collections.abc import Callable
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
)

from backoffice.domain.numbers import money_text
from backoffice.errors import UserError
from backoffice.services import counts, inventory, locations
from backoffice.services import settings as store_settings
from backoffice.services.changes import Changes
from backoffice.services.counts import CountInfo, TagCount, VarianceLine
from backoffice.services.transfers import NotRecorded
from ui import messages, store_time
from ui.commands import Job, QueryRunner, run_command, run_query
from ui.context import AppContext
from ui.models.count_models import Col, LineRole, Show
from ui.tabs.base import ScanFeedback, Tab
from ui.tabs.cycle_count_dialogs import AdjustDialog, StartCountDialog, StartRequest, confirm_submit, start_count
from ui.tabs.cycle_count_metrc import MetrcFixDialog
from ui.widgets.count_scan_panel import CountScanPanel
from ui.widgets.package_detail import PackageDetail
from ui.widgets.variance_panel import VariancePanel

T = TypeVar("T")
ANY_LOCATION = "(where the ledger has it)"
BLIND_COLUMNS = (
    Col.LEDGER,
    Col.POS,
    Col.METRC,
    Col.PENDING,
    Col.SOLD,
    Col.VARIANCE,
    Col.VALUE,
    Col.ADJUSTED,
    Col.CAUSE,
)


class CycleCountTab(Tab):
    RELOAD_DELAY_MS = 150  # a burst of scans reloads the table once

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.current: CountInfo | None = None
        self.pending: TagCount | None = None  # scanned, waiting for its quantity
        self.lines_query = QueryRunner(self)  # the newest load wins; an older one's result is dropped
        self._writing = 0  # commands of this tab in flight

        # top: which count, and what to do with it
        self.count_box = QComboBox()
        self.count_box.setObjectName("countSelector")
        self.count_box.setMinimumWidth(340)
        self.new_button = QPushButton("New count…")
        self.new_button.setObjectName("newCountButton")
        self.sheet_button = QPushButton("Print count sheet…")
        self.import_button = QPushButton("Import keyed-in sheet…")
        self.submit_button = QPushButton("Submit count")
        self.submit_button.setObjectName("submitCountButton")
        self.header = QLabel()
        self.header.setObjectName("countHeader")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.progress = QProgressBar()
        self.progress.setObjectName("countProgress")
        self.progress.setFormat("%v of %m expected packages counted")
        self.progress.setMaximumHeight(18)

        self._build_scan_panel()
        self._build_table()
        self.detail = PackageDetail(ctx.db, lambda: ctx.actor)
        self.detail.setObjectName("countPackageDetail")

        top = QHBoxLayout()
        top.addWidget(QLabel("Count"))
        top.addWidget(self.count_box)
        top.addWidget(self.new_button)
        top.addStretch(1)
        for button in (self.sheet_button, self.import_button, self.submit_button):
            top.addWidget(button)
        right = QSplitter(Qt.Orientation.Vertical)
        right.setObjectName("countTableSplitter")
        right.addWidget(self.table_panel)
        right.addWidget(self.detail)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        right.setSizes([560, 200])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.header)
        layout.addWidget(self.progress)
        layout.addWidget(self.scan_panel)
        layout.addWidget(right, 1)

        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(self.RELOAD_DELAY_MS)
        self._reload_timer.timeout.connect(self.reload_lines)
        self.count_box.currentIndexChanged.connect(self._on_count_chosen)
        self.new_button.clicked.connect(self.new_count)
        self.sheet_button.clicked.connect(self.print_sheet)
        self.import_button.clicked.connect(self.import_sheet)
        self.submit_button.clicked.connect(self.submit)
        self._loaded = False  # lists are read as the signed-in user: the first load waits for sign-in
        self._stale = False  # signed in while out of view: load when shown
        ctx.user_changed.connect(self._signed_in)
        self._load_locations()
        self.reload_counts()

    # --- layout ---------------------------------------------------------------------------------

    def _build_scan_panel(self) -> None:
        self.scan_panel = CountScanPanel()
        panel = self.scan_panel
        self.location_box, self.quantity, self.recount = panel.location_box, panel.quantity, panel.recount
        self.record_button, self.last = panel.record_button, panel.last
        self.quantity.returnPressed.connect(self.record_pending)
        self.record_button.clicked.connect(self.record_pending)

    def _build_table(self) -> None:
        self.table_panel = VariancePanel()
        panel = self.table_panel
        self.model, self.proxy, self.view = panel.model, panel.proxy, panel.view
        self.show_box, self.filter, self.summary = panel.show_box, panel.filter, panel.summary
        self.recount_button, self.adjust_button, self.fix_metrc_button = (
            panel.recount_button,
            panel.adjust_button,
            panel.fix_metrc_button,
        )
        self.view.selectionModel().currentRowChanged.connect(self._on_line_chosen)
        self.view.doubleClicked.connect(lambda _index: self.adjust_current())
        self.recount_button.clicked.connect(self.recount_current)
        self.adjust_button.clicked.connect(self.adjust_current)
        self.fix_metrc_button.clicked.connect(self.fix_metrc_current)

    # --- data -----------------------------------------------------------------------------------

    def _signed_in(self) -> None:
        if not self.isVisible():  # read on first view: sign-in (and start-up) need not wait for the counts
            self._stale = True
            return
        self._stale = False
        if self._loaded:
            self.reload_lines()
            return
        self._load_locations()
        self.reload_counts()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if self._stale:
            self._signed_in()

    def _load_locations(self) -> None:
        if not self.usable():  # reads are the signed-in user's: nothing before sign-in
            return
        self.location_box.clear()
        self.location_box.addItem(ANY_LOCATION, None)
        for loc in locations.list_locations(self.ctx.db, self.ctx.actor):
            self.location_box.addItem(loc.name, loc.name)

    def reload_counts(self, select_id: int | None = None) -> None:
        if not self.usable():  # reads are the signed-in user's: nothing before sign-in
            return
        self._loaded = True
        keep = select_id if select_id is not None else (self.current.id if self.current else None)
        listed = counts.list_counts(self.ctx.db, self.ctx.actor)
        self.count_box.blockSignals(True)
        self.count_box.clear()
        for info in listed:
            self.count_box.addItem(self._count_label(info), info.id)
        if keep is None:  # the newest open count is the one being worked on
            keep = next((info.id for info in listed if info.is_open), listed[0].id if listed else None)
        index = self.count_box.findData(keep)
        self.count_box.setCurrentIndex(max(index, 0) if listed else -1)
        self.count_box.blockSignals(False)
        self._on_count_chosen()

    @staticmethod
    def _count_label(info: CountInfo) -> str:
        state = "open" if info.is_open else f"submitted, {info.accuracy if info.accuracy is not None else '—'} %"
        return f"#{info.id} {info.name} ({state})"

    def _on_count_chosen(self, *_: object) -> None:
        count_id = self.count_box.currentData()
        self.current = counts.get_count(self.ctx.db, self.ctx.actor, count_id) if count_id is not None else None
        self._clear_pending()
        if self.current is not None:  # where one counts follows the count, never the one viewed before it
            scoped = self.current.scope.locations
            if scoped and self.location_box.currentData() not in scoped:
                self.location_box.setCurrentIndex(max(self.location_box.findData(scoped[0]), 0))
            elif not scoped:
                self.location_box.setCurrentIndex(0)
        self.reload_lines()

    @property
    def loading(self) -> bool:
        """Lines loading, or a write of this tab not done yet."""
        return self.lines_query.busy or self._writing > 0

    def _command(
        self,
        op: Callable[[Job], T],
        on_done: Callable[[T], None] | None = None,
        *,
        on_error: Callable[[BaseException], None] | None = None,
        progress: str | None = None,
        network: bool = False,
    ) -> None:
        """A write off the GUI thread (``ui.commands``); its change flags are announced by the runner."""
        self._writing += 1

        def settled() -> None:
            self._writing -= 1

        run_command(
            self, self.ctx, op, on_done, on_error=on_error, progress=progress, network=network, on_settled=settled
        )

    def reload_lines(self) -> None:
        """Reload the current count and its lines off the GUI thread: a category count on a large
        store has thousands of lines, and a scan's feedback must not wait for them."""
        if not self.usable():
            return
        if self.current is None:
            self.lines_query.run(lambda job: None, lambda _: self._show_lines(None, []))
            return
        db, actor, count_id = self.ctx.db, self.ctx.actor, self.current.id
        self.lines_query.run(
            lambda job: (counts.get_count(db, actor, count_id), counts.variance_lines(db, actor, count_id)),
            self._lines_loaded,
        )

    def _lines_loaded(self, loaded: tuple[CountInfo, list[VarianceLine]]) -> None:
        info, lines = loaded
        if self.current is not None and info.id == self.current.id:
            self._show_lines(info, lines)

    def _show_lines(self, info: CountInfo | None, lines: list[VarianceLine]) -> None:
        self.current = info
        selected = self.current_line()
        self.model.set_lines(lines)
        if selected is not None:
            self.select_tag(selected.tag)
        blind = any(line.hidden for line in lines)
        for col in BLIND_COLUMNS:  # a blind count shows counters only what they counted
            self.view.setColumnHidden(col, blind)
        metrc = info.metrc_source if info else None
        sources = ((Col.POS, info.pos_source if info else None), (Col.METRC, metrc), (Col.PENDING, metrc))
        for col, source in sources:
            self.view.setColumnHidden(col, blind or source is None)
        self._show_header(info, lines)
        self._enable()

    def _show_header(self, info: CountInfo | None, lines: list[VarianceLine]) -> None:
        self.progress.setVisible(info is not None)  # no count open: no "0 of 1 expected packages counted"
        if info is None:
            self.header.setText(
                "No count yet. <b>New count…</b> picks a slice of inventory (a category, a brand, "
                "a room) and freezes what the ledger, the POS and METRC expect."
            )
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.summary.clear()
            return
        blind = "<b>blind</b>" if info.blind else "not blind"
        sources = " · ".join(
            f"{name}: {escape(src)}" for name, src in (("POS", info.pos_source), ("METRC", info.metrc_source)) if src
        )
        if info.is_open:
            state = "<span style='color:#1565c0'><b>OPEN</b></span>"
            result = ""
        else:
            state = "<span style='color:#2e7d32'><b>SUBMITTED</b></span>"
            assert info.submitted_at is not None and info.unit_variance is not None  # submit sets both
            result = (
                f"<br>Submitted {store_time.stamp(info.submitted_at)} by "
                f"{escape(info.submitted_by or '')} · accuracy <b>{info.accuracy} %</b> "
                f"({info.lines_matching} of {info.lines_counted} lines matched; variance "
                f"{info.unit_variance.normalize():f} units, ${info.dollar_variance})"
                + (
                    f" · METRC agreed on <b>{info.metrc_agreement} %</b> ({info.metrc_lines_agreeing} of "
                    f"{info.metrc_lines_compared})"
                    if info.metrc_agreement is not None
                    else ""
                )
                + " · frozen: corrections are new adjustments"
            )
        self.header.setText(
            f"{state} &nbsp;<b>#{info.id} {escape(info.name)}</b> · {escape(info.scope.describe())}"
            f" · {blind} · snapshot {store_time.stamp(info.snapshot_at)} by "
            f"{escape(info.started_by)}{' · ' + sources if sources else ''}{result}"
        )
        self.progress.setRange(0, max(info.expected_lines, 1))
        self.progress.setValue(info.counted_lines)
        hidden = any(line.hidden for line in lines)
        if hidden:
            self.summary.setText(f"{info.entries} entries · results after submit (blind)")
            return
        figures = counts.accuracy_of(lines)
        differing = sum(1 for line in lines if line.status in counts.DIFFERS)
        investigate = sum(1 for line in lines if line.investigate)
        metrc = counts.metrc_agreement_of(lines)
        self.summary.setText(
            f"{figures.lines_matching}/{figures.lines_counted} match the ledger · {differing} differ"
            f" ({investigate} unexplained) · {money_text(figures.dollar_variance)}"
            + (f" · METRC agrees on {metrc.agreeing}/{metrc.compared}" if metrc.compared else "")
        )

    def _enable(self) -> None:
        info, line = self.current, self.current_line()
        is_open = info is not None and info.is_open
        self.sheet_button.setEnabled(info is not None)
        self.import_button.setEnabled(is_open)
        self.submit_button.setEnabled(is_open)
        self.scan_panel.setEnabled(is_open)
        self.recount_button.setEnabled(is_open and line is not None)
        can_adjust = line is not None and line.known and not line.hidden
        self.adjust_button.setEnabled(can_adjust)
        self.fix_metrc_button.setEnabled(line is not None and not line.hidden and bool(line.metrc_open))
        self.adjust_button.setToolTip(
            ""
            if line is None or can_adjust
            else (
                "Blind count: a manager resolves variances before submit, or adjust after submit"
                if line.hidden
                else "Only packages in this store's inventory can be adjusted"
            )
        )

    def refresh(self, changes: Changes) -> None:
        if changes & Changes.SETTINGS:
            self._load_locations()
        if changes & (Changes.COUNTS | Changes.INVENTORY | Changes.SETTINGS):
            self._reload_timer.start()

    def current_line(self) -> VarianceLine | None:
        index = self.view.currentIndex()
        line = self.proxy.data(index, LineRole) if index.isValid() else None
        return line if isinstance(line, VarianceLine) else None

    def select_tag(self, tag: str) -> None:
        row = self.model.row_of(tag)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid():
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)

    def _on_line_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        line = self.proxy.data(current, LineRole) if current.isValid() else None
        if isinstance(line, VarianceLine) and line.hidden:  # its history would give the expected quantity away
            self.detail.show_package(None)
            self.detail.summary.setText("Blind count: the package's history is shown after submit.")
        else:
            known = isinstance(line, VarianceLine) and line.known
            self.detail.show_package(inventory.find_by_tag(self.ctx.db, self.ctx.actor, line.tag) if known else None)  # type: ignore[union-attr]
        self._enable()

    # --- counting -------------------------------------------------------------------------------

    def handle_scan(self, code: str) -> ScanFeedback | None:
        info = self.current
        if info is None or not info.is_open:
            return ScanFeedback(False, "No open count: start one with New count… (or choose an open one) to count.")
        try:
            status = counts.tag_status(self.ctx.db, self.ctx.actor, info.id, code)
        except UserError as exc:
            return ScanFeedback(False, str(exc))
        self._set_pending(status)
        self.select_tag(status.tag)
        if not status.known:
            return ScanFeedback(
                False, f"{status.tag} is not in this store's inventory. Count it anyway; it is listed for a manager."
            )
        where = "" if status.in_scope else " (outside this count's scope: it will be listed as found)"
        return ScanFeedback(True, f"{status.item}{where}: enter the quantity and press Enter.")

    def handle_unit_scan(self, tag: str) -> ScanFeedback | None:
        """A Retail ID unit code (resolved to its package by the window) counts one unit at once."""
        info = self.current
        if info is None or not info.is_open:
            return ScanFeedback(False, "No open count: start one with New count… (or choose an open one) to count.")
        db, actor, count_id = self.ctx.db, self.ctx.actor, info.id
        where, workstation = self.location_box.currentData(), self._workstation()
        self._clear_pending()
        self.select_tag(tag)
        self._command(
            lambda job: counts.record_unit(db, actor, count_id, tag, location=where, workstation=workstation),
            lambda result: self._counted(result, Decimal(1), "Counted"),
            on_error=self._refused,
        )
        return ScanFeedback(True, f"Unit code of {tag}: one unit counted.")

    def _set_pending(self, status: TagCount) -> None:
        self.pending = status
        self.scan_panel.show_tag(status)

    def _clear_pending(self) -> None:
        self.pending = None
        self.scan_panel.clear_tag()

    def record_pending(self) -> None:
        pending, info = self.pending, self.current
        text = self.quantity.text().replace(",", ".")
        if pending is None or info is None or not text.strip("."):
            return
        db, actor, count_id, tag = self.ctx.db, self.ctx.actor, info.id, pending.tag
        where, recount, workstation = self.location_box.currentData(), self.recount.isChecked(), self._workstation()
        verb = "Recounted" if recount else "Counted"

        self._clear_pending()
        self.view.setFocus()  # the next scan is not typed into a field
        self._command(
            lambda job: counts.record_count(
                db, actor, count_id, tag, text, location=where, recount=recount, workstation=workstation
            ),
            lambda result: self._counted(result, Decimal(text), verb),
            on_error=self._refused,
        )

    def _counted(self, result: TagCount, quantity: Decimal, verb: str) -> None:
        total = (result.counted or Decimal(0)).normalize()
        self.last.setStyleSheet("")
        self.last.setText(
            f"{verb} <b>{quantity.normalize():f}</b> of {escape(result.item)} · total for the tag <b>{total:f}</b>"
        )
        messages.ok(f"{verb} {result.tag}: total {total:f}. Scan the next tag.")

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, NotRecorded):
            messages.problem(str(exc), parent=self, title="Transfer not recorded")
            messages.error(f"Refused: {exc.tag} has no recorded transfer here. Record it first.")
        else:
            messages.error(str(exc))

    @staticmethod
    def _workstation() -> str:
        return socket.gethostname()[:80]

    def recount_current(self) -> None:
        line = self.current_line()
        info = self.current
        if line is None or info is None:
            return
        try:
            status = counts.tag_status(self.ctx.db, self.ctx.actor, info.id, line.tag)
        except UserError as exc:
            messages.problem(str(exc), parent=self)
            return
        self._set_pending(status)
        self.recount.setChecked(True)

    # --- resolving ------------------------------------------------------------------------------

    def adjust_current(self) -> None:
        line, info = self.current_line(), self.current
        if line is None or info is None or not line.known or line.hidden:
            return
        # what is left of counted − expected is the change that brings the ledger to the count
        suggested = line.remaining if line.remaining else None
        context = (
            f"Count #{info.id}: counted {line.counted.normalize():f}, expected {line.expected.normalize():f}"
            if line.counted is not None and line.expected is not None
            else f"Count #{info.id}"
        )
        dialog = AdjustDialog(
            self.ctx, line.tag, line.item, suggested=suggested, count_id=info.id, context=context, parent=self
        )
        if dialog.exec() and dialog.result_ is not None:
            result = dialog.result_
            approved = f", approved by {result.approved_by}" if result.approved_by else ""
            messages.ok(
                f"Adjusted {result.tag} {result.before.normalize():f} → {result.after.normalize():f} "
                f"({result.reason}{approved}); queued for METRC."
            )

    def fix_metrc_current(self) -> None:
        line, info = self.current_line(), self.current
        if line is None or info is None or line.hidden or not line.metrc_open:
            return
        try:
            dialog = MetrcFixDialog(self.ctx, info.id, line, parent=self)
        except UserError as exc:
            messages.problem(str(exc), parent=self)
            return
        if dialog.exec() and dialog.result_ is not None:
            messages.ok(f"{dialog.result_.describe()}; the store's ledger is unchanged.")

    # --- count life cycle -----------------------------------------------------------------------

    def new_count(self) -> None:
        metrc_connected = bool(store_settings.read(self.ctx.db, store_settings.METRC_BASE_URL))
        today = store_settings.store_calendar(self.ctx.db).today()
        dialog = StartCountDialog(
            counts.scope_choices(self.ctx.db, self.ctx.actor), today=today, metrc_connected=metrc_connected, parent=self
        )
        if not dialog.exec() or dialog.request is None:
            return
        request: StartRequest = dialog.request
        db, actor = self.ctx.db, self.ctx.actor
        self._command(
            lambda job: start_count(db, actor, request),
            self._started,
            progress="Taking the snapshot",
            network=request.fetch_metrc,
        )

    def _started(self, info: CountInfo) -> None:
        self.reload_counts(select_id=info.id)
        messages.ok(f"Count #{info.id} started with {info.expected_lines} packages. Scan to count.")
        if info.notes:
            QMessageBox.information(self, "Snapshot notes", "\n\n".join(info.notes))

    def print_sheet(self) -> None:
        info = self.current
        if info is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Save count sheet", f"count-{info.id}.pdf", "PDF (*.pdf);;CSV to key in (*.csv)"
        )
        if not name:
            return
        from backoffice.exporters import count_sheet

        db, actor = self.ctx.db, self.ctx.actor
        run_query(
            self,
            lambda job: count_sheet.export_count_sheet(db, actor, info.id, Path(name)),
            lambda result: messages.ok(
                f"Wrote {result.path.name} ({result.lines} packages"
                f"{f', {result.pages} page(s)' if result.pages else ''})."
            ),
            progress="Writing the count sheet",
        )

    def import_sheet(self) -> None:
        info = self.current
        if info is None:
            return
        name, _ = QFileDialog.getOpenFileName(
            self, "Keyed-in count sheet", "", "Count sheets (*.csv *.tsv *.txt);;All files (*)"
        )
        if not name:
            return
        db, actor = self.ctx.db, self.ctx.actor
        where, workstation = self.location_box.currentData(), self._workstation()
        self._command(
            lambda job: counts.import_sheet(db, actor, info.id, Path(name), location=where, workstation=workstation),
            lambda result: messages.ok(
                f"{result.file}: recorded {result.recorded} count(s); {result.blank} left empty."
            ),
            progress="Recording the count sheet",
        )

    def submit(self) -> None:
        info = self.current
        if info is None or not info.is_open:
            return
        uncounted = info.expected_lines - info.counted_lines
        if not confirm_submit(info, uncounted, self):
            return
        db, actor = self.ctx.db, self.ctx.actor

        def submitted(done: CountInfo) -> None:
            self.reload_counts(select_id=done.id)
            self.show_box.setCurrentIndex(self.show_box.findData(Show.ATTENTION))
            messages.ok(f"Count #{done.id} submitted: accuracy {done.accuracy} %.")

        self._command(
            lambda job: counts.submit(db, actor, info.id, uncounted_as_zero=bool(uncounted)),
            submitted,
            progress="Submitting the count",
        )
