"""Cycle Count tab: start a count, count by scanning (or key in a printed sheet), see counted
vs ledger vs POS vs METRC, resolve each variance by a recount or an adjustment, and submit."""

from __future__ import annotations

import socket
from decimal import Decimal
from html import escape
from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backoffice.db.engine import Database
from backoffice.errors import UserError
from backoffice.services import counts, inventory, locations
from backoffice.services import settings as store_settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.counts import CountInfo, LineStatus, TagCount, VarianceLine
from backoffice.services.transfers import NotRecorded
from ui import store_time
from ui.context import AppContext
from ui.errors import show_error
from ui.models.count_models import Col, LineRole, Show, VarianceFilter, VarianceTableModel
from ui.tabs.base import ScanFeedback, Tab
from ui.tabs.cycle_count_dialogs import AdjustDialog, StartCountDialog, StartRequest, start_count
from ui.widgets.count_scan_panel import CountScanPanel
from ui.widgets.package_detail import PackageDetail
from ui.worker import run_task

ANY_LOCATION = "(where the ledger has it)"
BLIND_COLUMNS = (Col.LEDGER, Col.POS, Col.METRC, Col.SOLD, Col.VARIANCE, Col.VALUE, Col.ADJUSTED)


class _LinesLoader(QObject, QRunnable):
    """Loads a count and its variance lines on a worker thread: a category count on a large
    store has thousands of lines, and a scan's feedback must not wait for them."""

    done = Signal(object, object)
    failed = Signal(object)

    def __init__(self, db: Database, actor: Actor, count_id: int) -> None:
        QObject.__init__(self)
        QRunnable.__init__(self)
        self.db, self.actor, self.count_id = db, actor, count_id
        self.setAutoDelete(False)

    def run(self) -> None:
        try:
            info = counts.get_count(self.db, self.count_id)
            lines = counts.variance_lines(self.db, self.actor, self.count_id)
        except BaseException as exc:  # shown on the GUI thread
            self.failed.emit(exc)
        else:
            self.done.emit(info, lines)


class CycleCountTab(Tab):
    title = "Cycle Count"
    permission = Permission.COUNT
    RELOAD_DELAY_MS = 150  # a burst of scans reloads the table once

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.current: CountInfo | None = None
        self.pending: TagCount | None = None  # scanned, waiting for its quantity
        self._loader: _LinesLoader | None = None  # the newest load; older ones finish unheard
        self._running: set[_LinesLoader] = set()  # kept alive until their thread is done

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
        self.detail = PackageDetail(ctx.db)
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
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addLayout(self.filter_row)
        table_layout.addWidget(self.view, 1)
        table_layout.addLayout(self.line_buttons)
        right.addWidget(table_box)
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
        ctx.user_changed.connect(self.reload_lines)
        self._load_locations()
        self.reload_counts()

    # --- layout ---------------------------------------------------------------------------------

    def _build_scan_panel(self) -> None:
        self.scan_panel = CountScanPanel()
        panel = self.scan_panel
        self.location_box, self.scanned, self.quantity = panel.location_box, panel.scanned, panel.quantity
        self.unit_label, self.recount, self.record_button, self.last = (
            panel.unit_label, panel.recount, panel.record_button, panel.last)
        self.quantity.returnPressed.connect(self.record_pending)
        self.record_button.clicked.connect(self.record_pending)

    def _build_table(self) -> None:
        self.model = VarianceTableModel()
        self.proxy = VarianceFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setObjectName("varianceTable")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(Col.VALUE, Qt.SortOrder.DescendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.horizontalHeader().setSectionResizeMode(Col.ITEM, QHeaderView.ResizeMode.Stretch)
        for col, width in ((Col.STATUS, 100), (Col.TAG, 200), (Col.LOCATION, 100), (Col.COUNTED, 64),
                           (Col.LEDGER, 60), (Col.POS, 56), (Col.METRC, 60), (Col.SOLD, 72), (Col.VARIANCE, 70),
                           (Col.VALUE, 84), (Col.ADJUSTED, 70), (Col.COUNTED_BY, 100)):
            self.view.setColumnWidth(col, width)
        self.view.selectionModel().currentRowChanged.connect(self._on_line_chosen)
        self.view.doubleClicked.connect(lambda _index: self.adjust_current())

        self.show_box = QComboBox()
        self.show_box.setObjectName("countShow")
        for show in Show:
            self.show_box.addItem(show.value, show)
        self.show_box.currentIndexChanged.connect(lambda _i: self.proxy.set_show(self.show_box.currentData()))
        self.filter = QLineEdit()
        self.filter.setObjectName("countFilter")
        self.filter.setPlaceholderText("Filter by tag, item, location…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.set_text)
        self.summary = QLabel()
        self.summary.setObjectName("countSummary")
        self.filter_row = QHBoxLayout()
        self.filter_row.addWidget(QLabel("Show"))
        self.filter_row.addWidget(self.show_box)
        self.filter_row.addWidget(self.filter, 1)
        self.filter_row.addWidget(self.summary)

        self.recount_button = QPushButton("Recount…")
        self.recount_button.setObjectName("recountButton")
        self.recount_button.setToolTip("Count this package again; the new count replaces the earlier ones")
        self.adjust_button = QPushButton("Adjust…")
        self.adjust_button.setObjectName("adjustButton")
        self.line_buttons = QHBoxLayout()
        self.line_buttons.addWidget(self.recount_button)
        self.line_buttons.addWidget(self.adjust_button)
        self.line_buttons.addStretch(1)
        self.recount_button.clicked.connect(self.recount_current)
        self.adjust_button.clicked.connect(self.adjust_current)

    # --- data -----------------------------------------------------------------------------------

    def _load_locations(self) -> None:
        self.location_box.clear()
        self.location_box.addItem(ANY_LOCATION, None)
        for loc in locations.list_locations(self.ctx.db):
            self.location_box.addItem(loc.name, loc.name)

    def reload_counts(self, select_id: int | None = None) -> None:
        keep = select_id if select_id is not None else (self.current.id if self.current else None)
        listed = counts.list_counts(self.ctx.db)
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
        self.current = counts.get_count(self.ctx.db, count_id) if count_id is not None else None
        self._clear_pending()
        if self.current and self.current.scope.locations and self.location_box.currentData() is None:
            self.location_box.setCurrentIndex(max(self.location_box.findData(self.current.scope.locations[0]), 0))
        self.reload_lines()

    @property
    def loading(self) -> bool:
        return self._loader is not None

    def reload_lines(self) -> None:
        """Reload the current count's lines off the GUI thread."""
        if not self.usable():
            return
        if self.current is None:
            self._loader = None
            self._show_lines(None, [])
            return
        loader = _LinesLoader(self.ctx.db, self.ctx.actor, self.current.id)
        loader.done.connect(self._lines_loaded)
        loader.failed.connect(self._load_failed)
        self._loader = loader
        self._running.add(loader)
        QThreadPool.globalInstance().start(loader)

    def _finished_loader(self) -> bool:
        """Forget the loader that just reported; True when it is the newest one."""
        loader = self.sender()
        self._running.discard(loader)  # type: ignore[arg-type]
        if loader is not self._loader:
            return False
        self._loader = None
        return True

    def _lines_loaded(self, info: CountInfo, lines: list[VarianceLine]) -> None:
        if self._finished_loader() and self.current is not None and info.id == self.current.id:
            self._show_lines(info, lines)

    def _load_failed(self, exc: BaseException) -> None:
        if self._finished_loader():
            show_error(self, exc)

    def _show_lines(self, info: CountInfo | None, lines: list[VarianceLine]) -> None:
        self.current = info
        selected = self.current_line()
        self.model.set_lines(lines)
        if selected is not None:
            self.select_tag(selected.tag)
        blind = any(line.hidden for line in lines)
        for col in BLIND_COLUMNS:  # a blind count shows counters only what they counted
            self.view.setColumnHidden(col, blind)
        sources = ((Col.POS, info.pos_source if info else None), (Col.METRC, info.metrc_source if info else None))
        for col, source in sources:
            self.view.setColumnHidden(col, blind or source is None)
        self._show_header(info, lines)
        self._enable()

    def _show_header(self, info: CountInfo | None, lines: list[VarianceLine]) -> None:
        self.progress.setVisible(info is not None)  # no count open: no "0 of 1 expected packages counted"
        if info is None:
            self.header.setText("No count yet. <b>New count…</b> picks a slice of inventory (a category, a brand, "
                                "a room) and freezes what the ledger, the POS and METRC expect.")
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.summary.clear()
            return
        blind = "<b>blind</b>" if info.blind else "not blind"
        sources = " · ".join(f"{name}: {escape(src)}" for name, src in (("POS", info.pos_source),
                                                                         ("METRC", info.metrc_source)) if src)
        if info.is_open:
            state = "<span style='color:#1565c0'><b>OPEN</b></span>"
            result = ""
        else:
            state = "<span style='color:#2e7d32'><b>SUBMITTED</b></span>"
            result = (f"<br>Submitted {store_time.stamp(info.submitted_at)} by "  # type: ignore[union-attr]
                      f"{escape(info.submitted_by or '')} · accuracy <b>{info.accuracy} %</b> "
                      f"({info.lines_matching} of {info.lines_counted} lines matched; variance "
                      f"{info.unit_variance.normalize():f} units, ${info.dollar_variance}) · "  # type: ignore[union-attr]
                      "frozen: corrections are new adjustments")
        self.header.setText(f"{state} &nbsp;<b>#{info.id} {escape(info.name)}</b> · {escape(info.scope.describe())}"
                            f" · {blind} · snapshot {store_time.stamp(info.snapshot_at)} by "
                            f"{escape(info.started_by)}{' · ' + sources if sources else ''}{result}")
        self.progress.setRange(0, max(info.expected_lines, 1))
        self.progress.setValue(info.counted_lines)
        hidden = any(line.hidden for line in lines)
        if hidden:
            self.summary.setText(f"{info.entries} entries · results after submit (blind)")
            return
        figures = counts.accuracy_of(lines)
        open_lines = sum(1 for line in lines if line.status is LineStatus.VARIANCE)
        self.summary.setText(f"{figures.lines_matching}/{figures.lines_counted} match · {open_lines} open "
                             f"variance(s) · ${figures.dollar_variance:,.2f}")

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
        self.adjust_button.setToolTip("" if line is None or can_adjust else (
            "Blind count: a manager resolves variances before submit, or adjust after submit"
            if line.hidden else "Only packages in this store's inventory can be adjusted"))

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
            self.detail.show_package(inventory.find_by_tag(self.ctx.db, line.tag) if known else None)  # type: ignore[union-attr]
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
            return ScanFeedback(False, f"{status.tag} is not in this store's inventory. Count it anyway; it is listed "
                                       "for a manager.")
        where = "" if status.in_scope else " (outside this count's scope: it will be listed as found)"
        return ScanFeedback(True, f"{status.item}{where}: enter the quantity and press Enter.")

    def _set_pending(self, status: TagCount) -> None:
        self.pending = status
        colour = "#2e7d32" if status.known and status.in_scope else ("#6a1b9a" if status.known else "#c62828")
        scope = "in scope" if status.in_scope else ("outside the scope" if status.known else "not in this store")
        so_far = (f"Counted so far: <b>{status.counted.normalize():f}</b> ({status.entries} entr"
                  f"{'y' if status.entries == 1 else 'ies'} by {escape(status.counted_by)})"
                  if status.counted is not None else "Not counted yet")
        self.scanned.setText(
            f"<span style='font-size:13pt'><b>{escape(status.item)}</b></span><br><tt>{status.tag}</tt><br>"
            f"{escape(status.location or '—')} · <span style='color:{colour}'>{scope}</span><br>{so_far}")
        self.unit_label.setText(status.unit.value if status.unit else "")
        self.quantity.setEnabled(True)
        self.record_button.setEnabled(True)
        self.quantity.clear()
        self.quantity.setFocus()

    def _clear_pending(self) -> None:
        self.pending = None
        self.scanned.setText("Scan a package's tag.")
        self.unit_label.clear()
        self.quantity.clear()
        self.quantity.setEnabled(False)
        self.record_button.setEnabled(False)
        self.recount.setChecked(False)

    def record_pending(self) -> None:
        pending, info = self.pending, self.current
        text = self.quantity.text().replace(",", ".")
        if pending is None or info is None or not text.strip("."):
            return
        try:
            result = counts.record_count(self.ctx.db, self.ctx.actor, info.id, pending.tag, text,
                                         location=self.location_box.currentData(), recount=self.recount.isChecked(),
                                         workstation=self._workstation())
        except NotRecorded as refused:
            QMessageBox.warning(self, "Transfer not recorded", str(refused))
            self.ctx.status.emit(f"Refused: {refused.tag} has no recorded transfer here. Record it first.", "error")
            return
        except UserError as exc:
            self.ctx.status.emit(str(exc), "error")
            return
        verb = "Recounted" if self.recount.isChecked() else "Counted"
        total = (result.counted or Decimal(0)).normalize()
        self.last.setStyleSheet("")
        self.last.setText(f"{verb} <b>{Decimal(text).normalize():f}</b> of {escape(result.item)} · "
                          f"total for the tag <b>{total:f}</b>")
        self._clear_pending()
        self.ctx.status.emit(f"{verb} {result.tag}: total {total:f}. Scan the next tag.", "ok")
        self.ctx.notify(result.changes)
        self.view.setFocus()  # the next scan is not typed into a field

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
            show_error(self, exc)
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
        context = (f"Count #{info.id}: counted {line.counted.normalize():f}, expected {line.expected.normalize():f}"
                   if line.counted is not None and line.expected is not None else f"Count #{info.id}")
        dialog = AdjustDialog(self.ctx.db, self.ctx.actor, line.tag, line.item, suggested=suggested,
                              count_id=info.id, context=context, parent=self)
        if dialog.exec() and dialog.result_ is not None:
            result = dialog.result_
            approved = f", approved by {result.approved_by}" if result.approved_by else ""
            self.ctx.status.emit(f"Adjusted {result.tag} {result.before.normalize():f} → {result.after.normalize():f} "
                                 f"({result.reason}{approved}); queued for METRC.", "ok")
            self.ctx.notify(result.changes)
            self.reload_lines()

    # --- count life cycle -----------------------------------------------------------------------

    def new_count(self) -> None:
        metrc_connected = bool(store_settings.read(self.ctx.db, store_settings.METRC_BASE_URL))
        today = store_settings.store_calendar(self.ctx.db).today()
        dialog = StartCountDialog(counts.scope_choices(self.ctx.db), today=today, metrc_connected=metrc_connected,
                                  parent=self)
        if not dialog.exec() or dialog.request is None:
            return
        request: StartRequest = dialog.request
        db, actor = self.ctx.db, self.ctx.actor
        run_task(self, "Taking the snapshot", lambda progress, cancelled: start_count(db, actor, request),
                 self._started)

    def _started(self, info: CountInfo) -> None:
        self.ctx.notify(info.changes)
        self.reload_counts(select_id=info.id)
        message = f"Count #{info.id} started with {info.expected_lines} packages. Scan to count."
        self.ctx.status.emit(message, "ok")
        if info.notes:
            QMessageBox.information(self, "Snapshot notes", "\n\n".join(info.notes))

    def print_sheet(self) -> None:
        info = self.current
        if info is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save count sheet", f"count-{info.id}.pdf",
                                              "PDF (*.pdf);;CSV to key in (*.csv)")
        if not name:
            return
        from backoffice.exporters import count_sheet

        db, actor = self.ctx.db, self.ctx.actor
        run_task(self, "Writing the count sheet",
                 lambda progress, cancelled: count_sheet.export_count_sheet(db, actor, info.id, Path(name)),
                 lambda result: self.ctx.status.emit(f"Wrote {result.path.name} ({result.lines} packages"
                                                     f"{f', {result.pages} page(s)' if result.pages else ''}).", "ok"))

    def import_sheet(self) -> None:
        info = self.current
        if info is None:
            return
        name, _ = QFileDialog.getOpenFileName(self, "Keyed-in count sheet", "", "Count sheets (*.csv *.tsv *.txt);;All files (*)")
        if not name:
            return
        try:
            result = counts.import_sheet(self.ctx.db, self.ctx.actor, info.id, Path(name),
                                         location=self.location_box.currentData(), workstation=self._workstation())
        except UserError as exc:
            show_error(self, exc)
            return
        self.ctx.notify(result.changes)
        self.ctx.status.emit(f"{result.file}: recorded {result.recorded} count(s); {result.blank} left empty.", "ok")

    def submit(self) -> None:
        info = self.current
        if info is None or not info.is_open:
            return
        uncounted = info.expected_lines - info.counted_lines
        if uncounted:
            box = QMessageBox(QMessageBox.Icon.Warning, "Submit count",
                              f"{uncounted} package(s) in scope were not counted.\n\nCount them first, or submit "
                              "saying they were looked for and not found: they are recorded as 0 and show as "
                              "variances. A submitted count cannot change.", parent=self)
            box.setObjectName("submitCountBox")
            as_zero = box.addButton("Submit: not found (0)", QMessageBox.ButtonRole.AcceptRole)
            safe = box.addButton("Keep counting", QMessageBox.ButtonRole.RejectRole)
        else:
            box = QMessageBox(QMessageBox.Icon.Question, "Submit count",
                              f"Submit count #{info.id}? It is frozen afterwards; corrections are new adjustments.",
                              parent=self)
            box.setObjectName("submitCountBox")
            as_zero = box.addButton("Submit", QMessageBox.ButtonRole.AcceptRole)
            safe = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(safe)  # Enter (or a scanner's Enter) never submits: a click does
        box.setEscapeButton(safe)
        box.exec()
        if box.clickedButton() is not as_zero:
            return
        try:
            done = counts.submit(self.ctx.db, self.ctx.actor, info.id, uncounted_as_zero=bool(uncounted))
        except UserError as exc:
            show_error(self, exc)
            return
        self.ctx.notify(done.changes)
        self.reload_counts(select_id=done.id)
        self.show_box.setCurrentIndex(self.show_box.findData(Show.ATTENTION))
        self.ctx.status.emit(f"Count #{done.id} submitted: accuracy {done.accuracy} %.", "ok")
