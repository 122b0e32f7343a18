"""Reports tab: pick the velocity or accuracy report, its window and scope; preview its
tables and a chart; export the Excel workbook off the GUI thread (progress, cancel), then
open the file or its folder."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QDate, QDateTime, QSortFilterProxyModel, Qt, QTime, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backoffice.exporters import accuracy_workbook, velocity_workbook
from backoffice.exporters.velocity_workbook import CHART_COLOURS
from backoffice.exporters.xlsx_common import Column, ExportResult, Kind
from backoffice.services import settings as store_settings
from backoffice.services.changes import Changes
from backoffice.services.reports import (
    AccuracyReport,
    Scope,
    VelocityReport,
    accuracy_report,
    scope_choices,
    velocity_report,
)
from backoffice.services.reports.velocity import DEFAULT_WEEKS, MAX_WEEKS
from ui import messages
from ui.commands import Cancelled, Job, QueryRunner, run_query
from ui.context import AppContext
from ui.models.report_models import ReportTableModel, SortRole, display
from ui.tabs.base import Tab

FOLDER_KEY = "reports/folder"
ALL = "All"
Report = VelocityReport | AccuracyReport
Table = tuple[str, Callable[[Any], Sequence[Column[Any]]], Callable[[Any], Sequence[Any]]]


class ReportKind(enum.Enum):
    VELOCITY = "Sales velocity and reorder suggestions"
    ACCURACY = "Inventory accuracy"


# the workbook's sheets a preview can show: (name, columns for the report, rows of the report)
TABLES: dict[ReportKind, list[Table]] = {
    ReportKind.VELOCITY: [
        ("SKUs", velocity_workbook.summary_columns, lambda r: r.rows),
        ("Brands", velocity_workbook.brand_columns, lambda r: r.brands),
    ],
    ReportKind.ACCURACY: [
        ("Counts", accuracy_workbook.count_columns, lambda r: r.counts),
        ("Categories", lambda r: accuracy_workbook.category_columns(), lambda r: r.categories),
        ("Reasons", lambda r: accuracy_workbook.reason_columns(), lambda r: r.reasons),
        ("Adjustments", accuracy_workbook.adjustment_columns, lambda r: r.adjustments),
    ],
}


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(edit: QDateEdit) -> date:
    d = edit.date()
    return date(d.year(), d.month(), d.day())


def _column_width(column: Column[Any]) -> int:
    if column.header in ("Product", "Reorder math", "Note", "Scope"):
        return 260
    if column.kind is Kind.TEXT:
        return 190 if column.header in ("Category", "Name", "Tag") else 120
    return {Kind.DATETIME: 130, Kind.ID: 60, Kind.BOOL: 60}.get(column.kind, 96)


def _msecs(moment: date | datetime) -> float:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0))
    return float(QDateTime(_qdate(moment.date()), QTime(moment.hour, moment.minute)).toMSecsSinceEpoch())


class ReportsTab(Tab):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.report: Report | None = None
        self._previews = QueryRunner(self)
        self._shown_once = False
        self._stale = False

        self.kind_box = QComboBox()
        self.kind_box.setObjectName("reportKind")
        for kind in ReportKind:
            self.kind_box.addItem(kind.value, kind)
        self.weeks = QSpinBox()
        self.weeks.setObjectName("reportWeeks")
        self.weeks.setRange(1, MAX_WEEKS)
        self.weeks.setValue(DEFAULT_WEEKS)
        self.weeks.setSuffix(" weeks")
        self.through, self.since, self.until = QDateEdit(), QDateEdit(), QDateEdit()
        for edit, name in ((self.through, "reportThrough"), (self.since, "reportSince"), (self.until, "reportUntil")):
            edit.setObjectName(name)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.through.setToolTip("The last business day in the window; weeks end on this day.")
        self.category, self.brand, self.vendor = QComboBox(), QComboBox(), QComboBox()
        for box, name in (
            (self.category, "reportCategory"),
            (self.brand, "reportBrand"),
            (self.vendor, "reportVendor"),
        ):
            box.setObjectName(name)
            box.setMinimumContentsLength(14)
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.addItem(ALL)
        self.options = QStackedWidget()
        velocity_page, accuracy_page = QWidget(), QWidget()
        row = QHBoxLayout(velocity_page)
        row.setContentsMargins(0, 0, 0, 0)
        for label, widget in (
            ("Window", self.weeks),
            ("through", self.through),
            ("Category", self.category),
            ("Brand", self.brand),
            ("Vendor", self.vendor),
        ):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)
        row = QHBoxLayout(accuracy_page)
        row.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("From", self.since), ("through", self.until)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addWidget(QLabel("(store days, both included)"))
        row.addStretch(1)
        self.options.addWidget(velocity_page)
        self.options.addWidget(accuracy_page)
        self.preview_button = QPushButton("Preview")
        self.preview_button.setObjectName("reportPreview")
        self.export_button = QPushButton("Export to Excel…")
        self.export_button.setObjectName("reportExport")
        self.export_button.setDefault(True)

        self.summary = QLabel("Choose a report and press Preview, or export it straight to Excel.")
        self.summary.setObjectName("reportSummary")
        self.summary.setWordWrap(True)
        self.table_box = QComboBox()
        self.table_box.setObjectName("reportTable")
        self.filter = QLineEdit()
        self.filter.setObjectName("reportFilter")
        self.filter.setPlaceholderText("Filter the rows…")
        self.filter.setClearButtonEnabled(True)
        self.model = ReportTableModel()
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.view = QTableView()
        self.view.setObjectName("reportView")
        self.view.setModel(self.proxy)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the report's own order
        self.view.setSortingEnabled(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.horizontalHeader().setDefaultSectionSize(96)
        self.chart = QChart()
        self.chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self.chart_view = QChartView(self.chart)
        self.chart_view.setObjectName("reportChart")
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(220)

        choose = QFormLayout()
        top = QHBoxLayout()
        top.addWidget(self.kind_box)
        top.addWidget(self.preview_button)
        top.addWidget(self.export_button)
        top.addStretch(1)
        choose.addRow("Report", top)
        choose.addRow("For", self.options)
        show = QHBoxLayout()
        show.addWidget(QLabel("Show"))
        show.addWidget(self.table_box)
        show.addWidget(self.filter, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.chart_view)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(choose)
        layout.addWidget(self.summary)
        layout.addLayout(show)
        layout.addWidget(split, 1)

        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        self.since.dateChanged.connect(lambda d: self.until.setMinimumDate(d))
        self.preview_button.clicked.connect(self.preview)
        self.export_button.clicked.connect(self.export)
        self.table_box.currentIndexChanged.connect(lambda _: self._show_table())
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)

    @property
    def kind(self) -> ReportKind:
        return ReportKind(self.kind_box.currentData())

    def showEvent(self, event: Any) -> None:  # noqa: N802 — ask the database on first view, not at start-up
        if not self._shown_once:
            self._shown_once = True
            self._set_default_dates()
            self._load_choices()
        super().showEvent(event)

    def _set_default_dates(self) -> None:
        now = store_settings.store_calendar(self.ctx.db).today()
        for edit in (self.through, self.since, self.until):
            edit.setMaximumDate(_qdate(now))
        self.through.setDate(_qdate(now - timedelta(days=1)))
        self.since.setDate(_qdate(now - timedelta(days=27)))  # the last four weeks
        self.until.setDate(_qdate(now))

    def _load_choices(self) -> None:
        choices = scope_choices(self.ctx.db, self.ctx.actor)
        for box, values in (
            (self.category, choices.categories),
            (self.brand, choices.brands),
            (self.vendor, choices.vendors),
        ):
            keep = box.currentText()
            box.blockSignals(True)
            box.clear()
            box.addItems([ALL, *values])
            box.setCurrentText(keep if keep in values else ALL)
            box.blockSignals(False)

    def _kind_changed(self) -> None:
        self.options.setCurrentIndex(self.kind_box.currentIndex())

    def refresh(self, changes: Changes) -> None:
        if not self._shown_once:
            return
        if changes & Changes.INVENTORY:
            self._load_choices()
        if self.report is not None and changes & (
            Changes.SALES | Changes.INVENTORY | Changes.COUNTS | Changes.SETTINGS
        ):
            self._stale = True
            self._show_summary()

    # --- running a report --------------------------------------------------------------------

    def _scope(self) -> Scope:
        def chosen(box: QComboBox) -> str | None:
            return None if box.currentText() == ALL else box.currentText()

        return Scope(category=chosen(self.category), brand=chosen(self.brand), vendor=chosen(self.vendor))

    def _builder(self) -> Callable[[], Report]:
        """The report the options ask for, as a call to run on the worker thread."""
        db, actor = self.ctx.db, self.ctx.actor
        if self.kind is ReportKind.VELOCITY:
            weeks, through, scope = self.weeks.value(), _pydate(self.through), self._scope()
            return lambda: velocity_report(db, actor, weeks=weeks, scope=scope, through=through)
        since, until = _pydate(self.since), _pydate(self.until)
        return lambda: accuracy_report(db, actor, since=since, until=until)

    def preview(self) -> None:
        build = self._builder()
        self._previews.run(lambda job: build(), self.show_report, progress="Preparing the preview")

    def show_report(self, report: Report) -> None:
        if not isinstance(report, type(self.report)):
            self.filter.clear()  # a velocity filter would empty the accuracy tables (and the other way round)
        self.report, self._stale = report, False
        kind = ReportKind.VELOCITY if isinstance(report, VelocityReport) else ReportKind.ACCURACY
        self.table_box.blockSignals(True)
        self.table_box.clear()
        for name, _, _ in TABLES[kind]:
            self.table_box.addItem(name)
        self.table_box.blockSignals(False)
        self._show_table()
        self._show_summary()
        self._draw_chart(report)

    def _show_table(self) -> None:
        if self.report is None:
            return
        kind = ReportKind.VELOCITY if isinstance(self.report, VelocityReport) else ReportKind.ACCURACY
        _, columns, rows = TABLES[kind][max(0, self.table_box.currentIndex())]
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.model.set_table(columns(self.report), rows(self.report))
        for index, column in enumerate(self.model.columns):
            self.view.setColumnWidth(index, _column_width(column))

    def _show_summary(self) -> None:
        report = self.report
        if report is None:
            return
        if isinstance(report, VelocityReport):
            scope = ", ".join(f"{k.lower()} {v}" for k, v in report.scope.describe() if v != ALL) or "all items"
            reorder = sum(1 for r in report.rows if r.reorder_quantity > 0)
            text = (
                f"<b>{len(report.rows):,} SKUs</b> ({scope}) · {report.weeks} weeks, {report.window_start} to "
                f"{report.through} · <b>{reorder:,} to reorder</b> (lead time + {report.target_days_of_supply} "
                "days of supply)"
            )
        else:
            accuracy = display(Kind.PERCENT, report.accuracy) or "no lines counted"
            text = (
                f"<b>{len(report.counts):,} counts</b>, {report.since} to {report.until} · accuracy "
                f"<b>{accuracy}</b> · {len(report.adjustments):,} adjustments · shrinkage "
                f"<b>{display(Kind.MONEY, report.shrinkage_value)}</b>"
            )
        if self._stale:
            text += " · <i>stock or sales have changed since: Preview again for fresh figures</i>"
        self.summary.setText(text)

    def _draw_chart(self, report: Report) -> None:
        chart = self.chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        x_axis, y_axis = QDateTimeAxis(), QValueAxis()
        x_axis.setFormat("MMM d")
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        if isinstance(report, VelocityReport):
            chart.setTitle("Weekly revenue by category")
            y_axis.setLabelFormat("$%.0fk")
            points = [
                (
                    c.category,
                    [(start, value / 1000) for start, value in zip(report.week_starts, c.revenue, strict=True)],
                )
                for c in report.categories
            ]
            x_axis.setTickCount(min(max(2, report.weeks), 14))
        else:
            chart.setTitle("Accuracy per count")
            y_axis.setLabelFormat("%.0f%%")
            zone = ZoneInfo(report.timezone)  # a count's day is the store's, not UTC's
            points = [
                (
                    "Accuracy",
                    [
                        (c.submitted_at.astimezone(zone).date(), c.accuracy * 100)
                        for c in report.counts
                        if c.accuracy is not None
                    ],
                )
            ]
            # the report's whole window: one count is a point inside it, not an axis with no width
            x_axis.setRange(
                QDateTime.fromMSecsSinceEpoch(int(_msecs(report.since))),
                QDateTime.fromMSecsSinceEpoch(int(_msecs(report.until + timedelta(days=1)))),
            )
            lowest = min((value for _, value in points[0][1]), default=0)
            y_axis.setRange(max(0, int(lowest) // 10 * 10 - 10 if lowest else 0), 100)  # where the counts are
            y_axis.setTickCount(6)
        top = 0.0
        for number, (name, values) in enumerate(points):
            series = QLineSeries()
            series.setName(name)
            series.setPen(QPen(QColor(CHART_COLOURS[number % len(CHART_COLOURS)]), 2))  # the workbook's colours
            series.setPointsVisible(True)
            for moment, value in values:
                series.append(_msecs(moment), float(value))
                top = max(top, float(value))
            chart.addSeries(series)
            series.attachAxis(x_axis)
            series.attachAxis(y_axis)
        if isinstance(report, VelocityReport):
            y_axis.setRange(0, top * 1.1 or 1)
            y_axis.applyNiceNumbers()
        legend = chart.legend()
        legend.setVisible(len(points) > 1)
        legend.setAlignment(Qt.AlignmentFlag.AlignRight)
        font = legend.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))  # eight categories fit beside the plot
        legend.setFont(font)

    # --- export ------------------------------------------------------------------------------

    def _suggested_path(self) -> Path:
        folder = Path(str(self.ctx.settings.value(FOLDER_KEY, "") or Path.home()))
        if self.kind is ReportKind.VELOCITY:
            name = f"velocity-{self.weeks.value()}w-{_pydate(self.through)}.xlsx"
        else:
            name = f"accuracy-{_pydate(self.since)}-to-{_pydate(self.until)}.xlsx"
        return folder / name

    def export(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Save the workbook", str(self._suggested_path()), "Excel workbooks (*.xlsx)"
        )
        if not chosen:
            return
        path = Path(chosen if chosen.lower().endswith(".xlsx") else f"{chosen}.xlsx")
        self.ctx.settings.setValue(FOLDER_KEY, str(path.parent))
        build = self._builder()
        write: Callable[..., ExportResult] = (
            velocity_workbook.write_velocity_workbook
            if self.kind is ReportKind.VELOCITY
            else accuracy_workbook.write_accuracy_workbook
        )

        def work(job: Job) -> tuple[Report, ExportResult]:
            job.progress("Reading sales, stock and counts…", 0.02)
            report = build()
            if job.cancelled():
                raise Cancelled
            return report, write(
                report, path, progress=lambda text, f: job.progress(text, 0.3 + 0.7 * f), cancelled=job.cancelled
            )

        run_query(self, work, self._exported, on_error=self._export_failed, progress=f"Exporting {path.name}")

    def _export_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            messages.warning("Export cancelled: no file was written.")
        else:
            messages.exception(exc, parent=self)

    def _exported(self, outcome: tuple[Report, ExportResult]) -> None:
        report, result = outcome
        if result.cancelled or result.path is None:
            messages.warning("Export cancelled: no file was written.")
            return
        self.show_report(report)
        path = result.path
        messages.ok(f"Saved {path} in {result.seconds:.1f} s")
        box = QMessageBox(
            QMessageBox.Icon.Information, "Workbook saved", f"Saved {path.name} in {path.parent}.", parent=self
        )
        box.setObjectName("reportSaved")
        open_file = box.addButton("Open workbook", QMessageBox.ButtonRole.AcceptRole)
        open_folder = box.addButton("Open folder", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.setDefaultButton(open_file)

        def clicked(button: Any) -> None:
            if button is open_file:
                self._open(path)
            elif button is open_folder:
                self._open(path.parent)

        box.buttonClicked.connect(clicked)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not exec(): the window stays live

    def _open(self, target: Path) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(target))):
            messages.warning(f"No program on this computer opens {target.name}; it is in {target.parent}")
