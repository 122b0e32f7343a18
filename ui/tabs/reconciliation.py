"""Reconciliation tab: bring in a day's POS export and METRC's receipts, match the day, and
resolve every difference with an action and a note. Open findings of earlier days stay in
view; the selected finding's package history shows underneath."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import FindingKind, FindingStatus
from backoffice.domain.numbers import NumberFormat
from backoffice.errors import UserError
from backoffice.importers.pos_sales_file import UnknownLayoutError
from backoffice.services import inventory, metrc_receipts_import, pos_layouts, reconciliation, sales_import
from backoffice.services import settings as store_settings
from backoffice.services.changes import Changes
from backoffice.services.reconciliation import DayView, FindingRow, Resolution
from ui import messages, store_time
from ui.commands import Cancelled, Job, run_command, run_query
from ui.context import AppContext
from ui.models.simple_table import Col, RowTableModel
from ui.tabs.base import Tab
from ui.tabs.reconciliation_dialogs import ColumnMappingDialog, ResolveDialog
from ui.widgets.package_detail import PackageDetail
from ui.widgets.table_view import RowTableView

KIND_COLOURS = {
    FindingKind.MISSING_IN_METRC: "#c62828",
    FindingKind.RETURN_NOT_IN_METRC: "#00838f",
    FindingKind.MISSING_IN_POS: "#ad1457",
    FindingKind.QUANTITY_MISMATCH: "#ef6c00",
    FindingKind.AMOUNT_MISMATCH: "#9e7700",
    FindingKind.NOT_ON_FLOOR: "#6a1b9a",
    FindingKind.UNKNOWN_TAG: "#4e342e",
}
STATUS_COLOURS = {FindingStatus.OPEN: "#ef6c00", FindingStatus.RESOLVED: "#2e7d32"}
SHOW = {"Open": FindingStatus.OPEN, "Resolved": FindingStatus.RESOLVED, "All": None}
FOLDER_KEY = "reconciliation/folder"


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


class ReconciliationTab(Tab):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.day = QDateEdit()
        self.day.setObjectName("reconDay")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        yesterday = store_settings.store_calendar(ctx.db).today() - timedelta(days=1)
        self.day.setDate(_qdate(yesterday))  # each morning: yesterday's sales
        self.pos_button = QPushButton("Import POS sales…")
        self.pos_button.setObjectName("importPosButton")
        self.metrc_button = QPushButton("Import METRC receipts…")
        self.metrc_button.setObjectName("importMetrcButton")
        self.fetch_button = QPushButton("Fetch from METRC")
        self.fetch_button.setToolTip("Ask METRC for the day's sales receipts through the connector")
        self.reconcile_button = QPushButton("Reconcile day")
        self.reconcile_button.setObjectName("reconcileButton")
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("exportButton")
        self.summary = QLabel()
        self.summary.setObjectName("reconSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)

        self.show_box = QComboBox()
        self.show_box.setObjectName("findingStatusFilter")
        self.show_box.addItems(list(SHOW))
        self.filter = QLineEdit()
        self.filter.setObjectName("findingFilter")
        self.filter.setPlaceholderText("Filter by receipt, tag, item or text")
        self.filter.setClearButtonEnabled(True)
        self.resolve_button = QPushButton("Resolve…")
        self.resolve_button.setObjectName("resolveButton")
        self.model: RowTableModel[FindingRow] = RowTableModel(
            [
                Col(
                    "Day",
                    lambda f: f.business_date,
                    tooltip=lambda f: "open since an earlier day" if f.carried else None,
                ),
                Col("Finding", lambda f: f.kind_label, colour=lambda f: KIND_COLOURS[f.kind]),
                Col(
                    "Status",
                    lambda f: f.resolution.label if f.resolution else f.status.value,
                    colour=lambda f: STATUS_COLOURS[f.status],
                    tooltip=lambda f: f.note,
                ),
                Col("Receipt", lambda f: f.receipt_number),
                Col("Tag", lambda f: f.tag),
                Col("Item", lambda f: f.item),
                Col("POS qty", lambda f: f.pos_quantity),
                Col("METRC qty", lambda f: f.metrc_quantity),
                Col("POS $", lambda f: f.pos_amount, money=True),
                Col("METRC $", lambda f: f.metrc_amount, money=True),
                Col("What differs", lambda f: f.detail, tooltip=lambda f: f.detail),
            ]
        )
        self.view = RowTableView(self.model, stretch_column=10)
        self.view.setObjectName("findingsTable")
        for col, width in (
            (0, 90),
            (1, 170),
            (2, 150),
            (3, 100),
            (4, 200),
            (5, 220),
            (6, 65),
            (7, 75),
            (8, 70),
            (9, 75),
        ):
            self.view.setColumnWidth(col, width)
        self.detail = PackageDetail(ctx.db, lambda: ctx.actor)
        self.detail.setObjectName("reconPackageDetail")
        self._layout()

        self.pos_button.clicked.connect(self.import_pos)
        self.metrc_button.clicked.connect(self.import_metrc)
        self.fetch_button.clicked.connect(self.fetch_metrc)
        self.reconcile_button.clicked.connect(self.reconcile)
        self.export_button.clicked.connect(self.export)
        self.resolve_button.clicked.connect(self.resolve_current)
        self.view.doubleClicked.connect(lambda _: self.resolve_current())
        self.day.dateChanged.connect(lambda _: self.reload())
        self.show_box.currentTextChanged.connect(lambda _: self._fill())
        self.filter.textChanged.connect(self.view.proxy.setFilterFixedString)
        self.view.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._show_current())
        self.current_view: DayView | None = None
        self._shown_once = False  # the day is read when the tab is first shown, not at start-up

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Business day"))
        top.addWidget(self.day)
        for button in (self.pos_button, self.metrc_button, self.fetch_button, self.reconcile_button):
            top.addWidget(button)
        top.addStretch(1)
        top.addWidget(self.export_button)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show"))
        filters.addWidget(self.show_box)
        filters.addWidget(self.filter, 1)
        filters.addWidget(self.resolve_button)
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addLayout(filters)
        table_layout.addWidget(self.view, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("reconSplitter")
        splitter.addWidget(table_box)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)

    # --- showing a day --------------------------------------------------------------------------

    @property
    def business_day(self) -> date:
        d = self.day.date()  # QDate.toPython() is typed as object in PySide6's stubs
        return date(d.year(), d.month(), d.day())

    def reload(self) -> None:
        self._show(reconciliation.day_view(self.ctx.db, self.ctx.actor, self.business_day))

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        if not self._shown_once:
            self._shown_once = True
            self.reload()
        super().showEvent(event)

    def refresh(self, changes: Changes) -> None:
        if self._shown_once and changes & (Changes.SALES | Changes.FINDINGS | Changes.SETTINGS):  # not every scan
            self.reload()

    def _show(self, view: DayView) -> None:
        self.current_view = view
        s = view.summary
        when = f" · reconciled {store_time.stamp(s.reconciled_at)}" if s.reconciled_at else ""  # text says
        self.summary.setText(f"{s.text}{when}")
        self._fill()

    def _fill(self) -> None:
        view = self.current_view
        keep = self.current.id if self.current else None
        wanted = SHOW[self.show_box.currentText()]
        rows = [] if view is None else [f for f in view.findings if wanted is None or f.status is wanted]
        self.model.set_rows(rows)
        for row, finding in enumerate(rows):
            if finding.id == keep:
                self.view.setCurrentIndex(self.view.proxy.mapFromSource(self.model.index(row, 0)))
        self._show_current()

    @property
    def current(self) -> FindingRow | None:
        row = self.view.current_row()
        return row if isinstance(row, FindingRow) else None

    def _show_current(self) -> None:
        finding = self.current
        self.resolve_button.setEnabled(finding is not None and finding.status is FindingStatus.OPEN)
        if finding is None or not finding.tag:
            self.detail.show_package(None)
            return
        package = inventory.find_by_tag(self.ctx.db, self.ctx.actor, finding.tag)
        self.detail.show_package(package)
        if package is None:
            self.detail.summary.setText(
                f"<tt>{finding.tag}</tt> is not a package of this store: no history here. "
                "Check the tag on the product, or receive its manifest."
            )

    # --- bringing files in ------------------------------------------------------------------------

    def _ask_file(self, caption: str, pattern: str) -> Path | None:
        folder = str(self.ctx.settings.value(FOLDER_KEY, "") or Path.home())
        name, _ = QFileDialog.getOpenFileName(self, caption, folder, pattern)
        if not name:
            return None
        self.ctx.settings.setValue(FOLDER_KEY, str(Path(name).parent))
        return Path(name)

    def import_pos(self) -> None:
        path = self._ask_file("POS end-of-day sales export", "Sales exports (*.csv *.tsv *.txt *.xlsx);;All files (*)")
        if path is not None:
            self.import_pos_file(path)

    def import_pos_file(self, path: Path, layout: str | None = None) -> None:
        db, actor = self.ctx.db, self.ctx.actor

        def work(job: Job) -> sales_import.PosImportResult:
            return sales_import.import_pos_file(
                db, actor, path, layout=layout, progress=job.progress, cancelled=job.cancelled
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, UnknownLayoutError):
                self._map_columns(path, exc)
            elif isinstance(exc, Cancelled):
                messages.warning(str(exc))
            else:
                messages.exception(exc, parent=self)

        run_command(self, self.ctx, work, self._imported, on_error=failed, progress=f"Importing {path.name}")

    def _map_columns(self, path: Path, unknown: UnknownLayoutError) -> None:
        saved: list[str] = []
        db, actor = self.ctx.db, self.ctx.actor
        try:
            guess = pos_layouts.guess(db, actor, path)
        except UserError as exc:
            messages.exception(exc, parent=self)
            return

        def save(
            name: str, columns: dict[str, str], formats: tuple[str, ...], zone: str | None, numbers: NumberFormat | None
        ) -> Changes:
            layout = pos_layouts.save_layout(
                db, actor, name, unknown.headers, columns, date_formats=formats, timezone=zone, number_format=numbers
            )
            saved.append(layout.name)
            return Changes.SETTINGS

        dialog = ColumnMappingDialog(self.ctx, guess, save, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            messages.ok(f"Layout {saved[0]!r} saved; files with these columns are read this way.")
            self.import_pos_file(path, saved[0])
        else:
            messages.warning(f"{path.name} was not imported: its columns were not mapped.")

    def _imported(self, result: sales_import.PosImportResult | metrc_receipts_import.MetrcImportResult) -> None:
        days = result.business_dates
        if days and self.business_day not in days:
            self.day.setDate(_qdate(days[-1]))  # show the day the file holds (reloads)
        else:
            self.reload()
        messages.ok(result.summary)

    def import_metrc(self) -> None:
        path = self._ask_file("METRC sales receipts", "METRC receipts (*.json *.csv);;All files (*)")
        if path is None:
            return
        db, actor = self.ctx.db, self.ctx.actor
        run_command(
            self,
            self.ctx,
            lambda job: metrc_receipts_import.import_metrc_file(db, actor, path),
            self._imported,
            progress=f"Importing {path.name}",
        )

    def fetch_metrc(self) -> None:
        from backoffice.services import metrc_connection

        db, actor, day = self.ctx.db, self.ctx.actor, self.business_day

        def work(job: Job) -> metrc_receipts_import.MetrcImportResult:
            job.progress(f"Asking METRC for the receipts of {day}", 0.1)
            with metrc_connection.connect(db, actor.username) as client:
                return metrc_receipts_import.fetch_metrc_receipts(db, actor, day, client)

        run_command(self, self.ctx, work, self._imported, progress="Fetching METRC receipts", network=True)

    # --- reconciling and resolving ----------------------------------------------------------------

    def reconcile(self) -> None:
        db, actor, day = self.ctx.db, self.ctx.actor, self.business_day
        run_command(
            self,
            self.ctx,
            lambda job: reconciliation.reconcile_day(db, actor, day),
            self._reconciled,
            progress=f"Reconciling {day}",
        )

    def _reconciled(self, view: DayView) -> None:
        if view.summary.business_date == self.business_day:
            self._show(view)
        found = len([f for f in view.findings if not f.carried])
        say = messages.ok if view.summary.open == 0 else messages.warning
        say(
            f"Reconciled {view.summary.business_date}: {found} finding(s), {view.new} new, "
            f"{view.cleared} no longer found, {view.summary.open} open."
        )

    def resolve_current(self) -> None:
        finding = self.current
        if finding is None or finding.status is not FindingStatus.OPEN:
            return
        db, actor = self.ctx.db, self.ctx.actor
        try:
            actions = reconciliation.actions_for(db, actor, finding.id)
        except UserError as exc:
            messages.exception(exc, parent=self)
            return

        def resolve(action: Resolution, note: str) -> reconciliation.ResolveResult:
            return reconciliation.resolve(db, actor, finding.id, action, note)

        dialog = ResolveDialog(self.ctx, finding, actions, resolve, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        result = dialog.result_value
        assert isinstance(result, reconciliation.ResolveResult)
        self.reload()
        queued = f"; receipt queued for METRC (outbox #{result.outbox_id})" if result.outbox_id else ""
        messages.ok(f"Resolved {len(result.resolved)} finding(s){queued}.")

    # --- export -------------------------------------------------------------------------------------

    def export(self) -> None:
        view = self.current_view
        if view is None:
            return
        folder = Path(str(self.ctx.settings.value(FOLDER_KEY, "") or Path.home()))
        chosen, _ = QFileDialog.getSaveFileName(
            self,
            "Save the reconciliation",
            str(folder / f"reconciliation-{view.summary.business_date}.xlsx"),
            "Excel workbooks (*.xlsx)",
        )
        if not chosen:
            return
        path = Path(chosen if chosen.lower().endswith(".xlsx") else f"{chosen}.xlsx")
        self.ctx.settings.setValue(FOLDER_KEY, str(path.parent))

        def work(job: Job) -> Any:
            from backoffice.exporters.reconciliation_workbook import write_reconciliation_workbook

            result = write_reconciliation_workbook(view, path, progress=job.progress, cancelled=job.cancelled)
            if result.cancelled:
                raise Cancelled
            return result

        def failed(exc: BaseException) -> None:
            if isinstance(exc, Cancelled):
                messages.warning("Export cancelled: no file was written.")
            else:
                messages.exception(exc, parent=self)

        run_query(
            self,
            work,
            lambda result: messages.ok(f"Saved {result.path}"),
            on_error=failed,
            progress=f"Exporting {path.name}",
        )
