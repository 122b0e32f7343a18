"""The inventory accuracy workbook: Cover (headline figures and a chart of accuracy over
time), Counts, Categories, Reasons (adjustments by reason code) and Adjustments (each one
with its note and approver)."""

from __future__ import annotations

import math
import os
from decimal import Decimal
from typing import TYPE_CHECKING

from backoffice.domain.store_calendar import StoreCalendar
from backoffice.exporters.xlsx_common import (
    ACCENT,
    Book,
    Cancelled,
    Column,
    ExportResult,
    Kind,
    Progress,
    write_workbook,
)
from backoffice.services.reports.accuracy import (
    AccuracyReport,
    AdjustmentLine,
    CategoryAccuracy,
    CountAccuracy,
    ReasonTotal,
)

if TYPE_CHECKING:
    from xlsxwriter.chart import Chart


def write_accuracy_workbook(
    report: AccuracyReport,
    path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ExportResult:
    """Write ``report`` to ``path`` (.xlsx); see ``write_workbook`` for cancel and errors."""
    total = len(report.counts) + len(report.categories) + len(report.reasons) + len(report.adjustments)
    return write_workbook(
        path, lambda book: _build(book, report), total_rows=total, progress=progress, cancelled=cancelled
    )


def _build(book: Book, report: AccuracyReport) -> None:
    counts = count_columns(report)
    _cover(book, report, _accuracy_chart(book, counts, report) if report.counts else None)
    book.table("Counts", counts, report.counts, freeze_columns=2)
    book.table("Categories", category_columns(), report.categories, freeze_columns=1)
    book.table("Reasons", reason_columns(), report.reasons, freeze_columns=1)
    book.table("Adjustments", adjustment_columns(report), report.adjustments, freeze_columns=2)


def count_columns(report: AccuracyReport) -> list[Column[CountAccuracy]]:
    calendar = StoreCalendar.named(report.timezone)
    return [
        Column("Count", Kind.ID, lambda c: c.session_id, 8),
        Column("Name", Kind.TEXT, lambda c: c.name),
        Column("Scope", Kind.TEXT, lambda c: c.scope),
        Column("Blind", Kind.BOOL, lambda c: c.blind, 7),
        Column("Started", Kind.DATETIME, lambda c: calendar.local(c.started_at)),
        Column("Submitted", Kind.DATETIME, lambda c: calendar.local(c.submitted_at)),
        Column("Submitted by", Kind.TEXT, lambda c: c.submitted_by),
        Column("Lines counted", Kind.INT, lambda c: c.lines_counted),
        Column("Lines matching", Kind.INT, lambda c: c.lines_matching),
        Column("Accuracy", Kind.PERCENT, lambda c: c.accuracy),
        Column("Unit variance", Kind.QTY, lambda c: c.unit_variance),
        Column("Dollar variance", Kind.MONEY, lambda c: c.dollar_variance),
        Column("Adjustments", Kind.INT, lambda c: c.adjustments),
        Column("Adjustment value", Kind.MONEY, lambda c: c.adjustment_value),
        Column("METRC lines compared", Kind.INT, lambda c: c.metrc_lines_compared),
        Column("METRC agreeing", Kind.INT, lambda c: c.metrc_lines_agreeing),
        Column("METRC agreement", Kind.PERCENT, lambda c: c.metrc_agreement),
    ]


def category_columns() -> list[Column[CategoryAccuracy]]:
    return [
        Column("Category", Kind.TEXT, lambda c: c.category, 30),
        Column("Counts", Kind.INT, lambda c: c.counts),
        Column("Lines counted", Kind.INT, lambda c: c.lines_counted),
        Column("Lines matching", Kind.INT, lambda c: c.lines_matching),
        Column("Accuracy", Kind.PERCENT, lambda c: c.accuracy),
        Column("Unit variance", Kind.QTY, lambda c: c.unit_variance),
        Column("Dollar variance", Kind.MONEY, lambda c: c.dollar_variance),
        Column("Net dollar variance", Kind.MONEY, lambda c: c.net_dollar_variance),
    ]


def reason_columns() -> list[Column[ReasonTotal]]:
    return [
        Column("Reason", Kind.TEXT, lambda r: r.reason, 28),
        Column("Unit", Kind.TEXT, lambda r: r.unit.value, 9),
        Column("Adjustments", Kind.INT, lambda r: r.adjustments),
        Column("Units removed", Kind.QTY, lambda r: r.units_removed),
        Column("Units added", Kind.QTY, lambda r: r.units_added),
        Column("Value removed", Kind.MONEY, lambda r: r.value_removed),
        Column("Value added", Kind.MONEY, lambda r: r.value_added),
        Column("Net value", Kind.MONEY, lambda r: r.net_value),
    ]


def adjustment_columns(report: AccuracyReport) -> list[Column[AdjustmentLine]]:
    calendar = StoreCalendar.named(report.timezone)
    return [
        Column("When", Kind.DATETIME, lambda a: calendar.local(a.adjusted_at)),
        Column("Tag", Kind.TEXT, lambda a: a.tag, 26),
        Column("SKU", Kind.TEXT, lambda a: a.sku, 11),
        Column("Product", Kind.TEXT, lambda a: a.product, 42),
        Column("Category", Kind.TEXT, lambda a: a.category),
        Column("Reason", Kind.TEXT, lambda a: a.reason),
        Column("Change", Kind.QTY, lambda a: a.quantity_delta),
        Column("Unit", Kind.TEXT, lambda a: a.unit.value, 9),
        Column("Before", Kind.QTY, lambda a: a.before_quantity),
        Column("After", Kind.QTY, lambda a: a.after_quantity),
        Column("Unit value", Kind.MONEY, lambda a: a.unit_value),
        Column("Value", Kind.MONEY, lambda a: a.value),
        Column("Note", Kind.TEXT, lambda a: a.note, 60),
        Column("Adjusted by", Kind.TEXT, lambda a: a.adjusted_by),
        Column("Approved by", Kind.TEXT, lambda a: a.approved_by),
        Column("Count", Kind.ID, lambda a: a.count_session_id, 8),
    ]


def _cover(book: Book, report: AccuracyReport, chart: Chart | None) -> None:
    calendar = StoreCalendar.named(report.timezone)
    facts = [
        ("Store", Kind.TEXT, report.store_name),
        ("License", Kind.TEXT, report.license_number),
        ("From", Kind.DATE, report.since),
        ("Through", Kind.DATE, report.until),
        ("Generated at", Kind.DATETIME, calendar.local(report.generated_at)),
        ("Time zone", Kind.TEXT, report.timezone),
        ("Generated by", Kind.TEXT, report.generated_by),
        ("Counts submitted", Kind.INT, len(report.counts)),
        ("Lines counted", Kind.INT, report.lines_counted),
        ("Lines matching", Kind.INT, report.lines_matching),
        ("Accuracy", Kind.PERCENT, report.accuracy),
        ("METRC agreement", Kind.PERCENT, report.metrc_agreement),
        ("Adjustments", Kind.INT, len(report.adjustments)),
        ("Shrinkage value", Kind.MONEY, report.shrinkage_value),
        ("Net adjustment value", Kind.MONEY, report.net_adjustment_value),
    ]
    sheets = [
        (
            "Counts",
            "One row per submitted count: scope, who submitted it, lines counted and matching, accuracy, "
            "unit and dollar variance as frozen at submit, the adjustments made from it, and how often "
            "METRC agreed with the count.",
        ),
        (
            "Categories",
            "Accuracy and variance per product category over every count in the range, recounted "
            "line by line with the Cycle Count's rules.",
        ),
        ("Reasons", "Adjustments grouped by METRC reason code (and unit): units and value removed and added."),
        ("Adjustments", "Every adjustment in the range with its reason, note, who made it and who approved it."),
    ]
    notes = [
        (
            "Range",
            f"Counts submitted and adjustments made from {report.since:%Y-%m-%d} through "
            f"{report.until:%Y-%m-%d}, store time ({report.timezone}).",
        ),
        (
            "Accuracy",
            "Lines matching ÷ lines counted. A line is a package counted in the count: expected by "
            "this system, found out of scope, or in no system; it matches when the counted quantity "
            "equals the expected one.",
        ),
        (
            "Expected",
            "This system's ledger quantity frozen when the count started, plus what moved (sales, "
            "transfers) between then and the moment the package was counted: selling during a count is "
            "not a variance. The count's own adjustments are left out.",
        ),
        (
            "Unit and dollar variance",
            "The size of every difference added up, as frozen at submit: one unit missing "
            "and one extra are 2 units of variance. Dollars use the unit price frozen at "
            "the start of the count. Net dollar variance (Categories) keeps the sign: "
            "negative means stock missing.",
        ),
        (
            "METRC agreement",
            "For counts that took METRC's package list: of the counted lines, those where METRC's "
            "number (plus what moved while counting) equalled the count, beside physical accuracy "
            "against this system's ledger. Blank for counts without a METRC snapshot.",
        ),
        (
            "Shrinkage value",
            "The value of stock removed by adjustments (quantity × unit value), as a positive "
            "amount; see Reasons for what caused it. Net adjustment value also counts stock added.",
        ),
    ]
    book.cover(
        "Inventory accuracy",
        f"{report.store_name} · {report.since:%Y-%m-%d} through {report.until:%Y-%m-%d}",
        facts,
        sheets,
        notes,
        chart=chart,
    )


def _accuracy_chart(book: Book, counts: list[Column[CountAccuracy]], report: AccuracyReport) -> Chart:
    """Accuracy per count against the time it was submitted (from the Counts sheet)."""
    x = next(i for i, c in enumerate(counts) if c.header == "Submitted")
    y = next(i for i, c in enumerate(counts) if c.header == "Accuracy")
    last = len(report.counts)
    # zoom in on where the counts are (accuracy lives near the top), in steps of 10 %
    lowest = min((c.accuracy for c in report.counts if c.accuracy is not None), default=Decimal(0))
    bottom = max(0.0, math.floor(float(lowest) * 10 - 0.5) / 10)
    days = max(1, (report.counts[-1].submitted_at - report.counts[0].submitted_at).days)
    chart = book.workbook.add_chart({"type": "line"})
    chart.add_series(
        {
            "name": "Accuracy",
            "categories": ["Counts", 1, x, last, x],
            "values": ["Counts", 1, y, last, y],
            "line": {"color": ACCENT, "width": 2.25},
            "marker": {
                "type": "circle",
                "size": 6 if last <= 60 else 3,
                "fill": {"color": ACCENT},
                "border": {"color": ACCENT},
            },
        }
    )
    chart.set_title({"name": "Accuracy over time (per count)", "name_font": {"size": 13, "bold": True}})
    chart.set_x_axis(
        {
            "name": "Submitted",
            "date_axis": True,
            "num_format": "mmm d",
            "major_unit": max(1, days // 10),
            "major_unit_type": "days",
        }
    )
    chart.set_y_axis(
        {
            "name": "Lines matching",
            "num_format": "0%",
            "min": bottom,
            "max": 1,
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
    )
    chart.set_legend({"none": True})
    chart.set_size({"width": 760, "height": 320})
    return chart
