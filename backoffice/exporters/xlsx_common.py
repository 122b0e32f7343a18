"""What every Excel workbook of the back office shares: typed cells with number, currency,
percent and date formats, tables with a frozen header and a filter, a cover sheet, safe
text, and a save that leaves either the whole file or nothing.

Written with xlsxwriter in constant-memory mode: rows stream to disk as they are written
(measured ~2x faster than openpyxl's write-only mode for the same cells), so a table must
be written top to bottom, and column widths are set before the rows.

Formula injection: text that came from imported files (product names, brands, notes) is
always written as a string cell, never through ``write()``'s guessing, and text starting
with ``= + - @``, a tab or a carriage return also gets Excel's quote prefix, so editing the
cell later does not turn it into a formula either.
"""

from __future__ import annotations

import enum
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from backoffice.domain.text import FORMULA_TRIGGERS, is_formula_like
from backoffice.errors import ValidationError
from backoffice.files import atomic_output
from backoffice.services.reports.bulk import paused_gc

if TYPE_CHECKING:  # xlsxwriter loads when a workbook is written, not when the app starts
    from xlsxwriter import Workbook
    from xlsxwriter.chart import Chart
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

log = logging.getLogger("export")

R = TypeVar("R")
Progress = Callable[[str, float], None]
Cancelled = Callable[[], bool]
HEADER_FILL = "#DDEBF7"
ACCENT = "#1F4E79"
_CANCEL_CHECK_ROWS = 500
_PRINT_WIDTH = 260  # characters of column width per landscape page: printed at no less than ~50 %


class Kind(enum.Enum):
    """How a column's values are typed and formatted in Excel."""

    TEXT = "@"
    ID = "0"  # a document number: centred, no thousands separator
    INT = "#,##0"
    QTY = "#,##0.0##"  # whole quantities get INT's format, cell by cell
    DEC1 = "#,##0.0"
    DEC2 = "#,##0.00"
    MONEY = '"$"#,##0.00;[Red]-"$"#,##0.00'
    PERCENT = "0.0%"
    CHANGE = "+0.0%;[Red]-0.0%;0.0%"
    DATE = "yyyy-mm-dd"
    DATETIME = "yyyy-mm-dd hh:mm"
    BOOL = '"Yes";"Yes";"No"'  # Excel shows booleans as TRUE/FALSE whatever the format; others show this


_DEFAULT_WIDTH = {
    Kind.ID: 8,
    Kind.INT: 8,
    Kind.QTY: 10,
    Kind.DEC1: 9,
    Kind.DEC2: 10,
    Kind.MONEY: 12,
    Kind.PERCENT: 9,
    Kind.CHANGE: 9,
    Kind.DATE: 11,
    Kind.DATETIME: 16,
    Kind.BOOL: 8,
}


@dataclass(frozen=True)
class Column(Generic[R]):
    header: str | date  # a date header (a week) is written as a typed date
    kind: Kind
    value: Callable[[R], Any]
    width: float | None = None  # in characters; None: fitted to the header and the values
    kind_of: Callable[[R], Kind] | None = None  # rows of different kinds (units rows, dollar rows)


@dataclass(frozen=True)
class ExportResult:
    path: Path | None  # None when cancelled: nothing was written
    sheets: list[str]
    rows: int
    seconds: float
    cancelled: bool = False


class _Stop(Exception):
    """The user cancelled; unwinds the sheet being written."""


class Book:
    """One workbook being written. ``table`` and ``cover`` add sheets; ``write_workbook``
    saves it."""

    def __init__(self, workbook: Workbook, progress: Progress, cancelled: Cancelled, total_rows: int) -> None:
        self.workbook = workbook
        self._progress, self._cancelled = progress, cancelled
        self._total = max(1, total_rows)
        self.rows_written = 0
        self.sheets: list[str] = []
        base = {"font_name": "Calibri", "font_size": 11, "valign": "top"}
        text = {**base, "num_format": "@", "align": "left", "indent": 1}  # off a number to its left
        centred = {Kind.ID, Kind.BOOL}
        self.formats: dict[Kind, Format] = {
            k: workbook.add_format(
                text
                if k is Kind.TEXT
                else {**base, "num_format": k.value, **({"align": "center"} if k in centred else {})}
            )
            for k in Kind
        }
        self.guarded = workbook.add_format({**text, "quote_prefix": True})
        self.wrap = workbook.add_format({**base, "text_wrap": True})
        header = {
            **base,
            "bold": True,
            "text_wrap": True,
            "valign": "bottom",
            "bg_color": HEADER_FILL,
            "bottom": 1,
            "border_color": "#9BC2E6",
        }
        self.header = workbook.add_format({**header, "align": "left", "indent": 1})
        self.header_centred = workbook.add_format({**header, "align": "center"})
        self.header_number = workbook.add_format({**header, "align": "right"})
        self.header_date = workbook.add_format({**header, "align": "right", "num_format": "mmm d"})
        self.title = workbook.add_format({**base, "bold": True, "font_size": 18, "font_color": ACCENT})
        self.subtitle = workbook.add_format({**base, "italic": True, "font_color": "#595959"})
        self.heading = workbook.add_format({**base, "bold": True, "font_size": 13, "font_color": ACCENT, "bottom": 1})
        self.label = workbook.add_format({**base, "bold": True})
        self.link = workbook.add_format({**base, "font_color": "#0563C1", "underline": 1})
        self.fact_formats = {k: workbook.add_format({**base, "num_format": k.value, "align": "left"}) for k in Kind}
        # the cover's facts sit flush left under one another, whatever their type

    # --- cells ------------------------------------------------------------------------------

    def text(self, sheet: Worksheet, row: int, col: int, value: str, fmt: Format | None = None) -> None:
        """Write imported text as a string cell, whatever it starts with."""
        sheet.write_string(row, col, value, self.guarded if is_formula_like(value) else fmt or self.formats[Kind.TEXT])

    def value(
        self, sheet: Worksheet, row: int, col: int, kind: Kind, value: Any, formats: dict[Kind, Format] | None = None
    ) -> None:
        """A typed cell: numbers as numbers, dates as dates; None as a formatted blank."""
        fmts = formats or self.formats
        if value is None:
            sheet.write_blank(row, col, None, fmts[kind])
        elif kind is Kind.TEXT:
            self.text(sheet, row, col, str(value), fmts[Kind.TEXT])
        elif kind is Kind.DATE or kind is Kind.DATETIME:
            sheet.write_datetime(row, col, value, fmts[kind])
        elif kind is Kind.BOOL:
            sheet.write_boolean(row, col, bool(value), fmts[kind])
        elif kind is Kind.QTY and value == int(value):
            sheet.write_number(row, col, float(value), fmts[Kind.INT])
        else:
            sheet.write_number(row, col, float(value), fmts[kind])

    def _cell_writer(self, sheet: Worksheet, col: Column[Any]) -> Callable[[int, int, Any], Any]:
        """``value`` for one column, specialised: a table writes hundreds of thousands of cells.
        The writer takes (row, column, item) and reads the item's value itself."""
        get, kind, kind_of = col.value, col.kind, col.kind_of
        if kind_of is not None:
            return lambda row, index, item: self.value(sheet, row, index, kind_of(item), get(item))
        fmt, whole, blank, number = self.formats[kind], self.formats[Kind.INT], sheet.write_blank, sheet.write_number
        if kind is Kind.TEXT:
            string, guarded = sheet.write_string, self.guarded

            def write_text(row: int, index: int, item: Any) -> Any:
                value = get(item)
                if value is None:
                    return blank(row, index, None, fmt)
                text = str(value)
                return string(row, index, text, guarded if text.startswith(FORMULA_TRIGGERS) else fmt)

            return write_text
        if kind in (Kind.DATE, Kind.DATETIME, Kind.BOOL):
            return lambda row, index, item: self.value(sheet, row, index, kind, get(item))

        def write(row: int, index: int, item: Any) -> Any:
            value = get(item)
            if value is None:
                return blank(row, index, None, fmt)
            return number(row, index, float(value), whole if kind is Kind.QTY and value == int(value) else fmt)

        return write

    # --- sheets -----------------------------------------------------------------------------

    def _check(self, what: str) -> None:
        if self._cancelled():
            raise _Stop
        self._progress(what, min(1.0, self.rows_written / self._total))

    def table(
        self, name: str, columns: Sequence[Column[R]], rows: Sequence[R], *, freeze_columns: int = 0
    ) -> Worksheet:
        """A sheet holding one table: a frozen header row with a filter, one row per item,
        printable landscape one page wide with the header repeated."""
        sheet = self.workbook.add_worksheet(name)
        self.sheets.append(name)
        widths = [_width(col, rows) for col in columns]
        for index, width in enumerate(widths):
            sheet.set_column(index, index, width)
        lines = max(_header_lines(col.header, width) for col, width in zip(columns, widths, strict=True))
        sheet.set_row(0, 15 * lines + 3)
        for index, col in enumerate(columns):
            if isinstance(col.header, date):
                sheet.write_datetime(0, index, col.header, self.header_date)
            else:
                sheet.write_string(
                    0,
                    index,
                    col.header,
                    self.header
                    if col.kind is Kind.TEXT
                    else self.header_centred
                    if col.kind in (Kind.ID, Kind.BOOL)
                    else self.header_number,
                )
        plan = [(index, self._cell_writer(sheet, col)) for index, col in enumerate(columns)]
        for row, item in enumerate(rows, start=1):
            for index, write in plan:
                write(row, index, item)
            if row % _CANCEL_CHECK_ROWS == 0:
                self.rows_written += _CANCEL_CHECK_ROWS
                self._check(f"Writing {name}: row {row:,} of {len(rows):,}")
        self.rows_written += len(rows) % _CANCEL_CHECK_ROWS
        sheet.freeze_panes(1, freeze_columns)
        sheet.autofilter(0, 0, max(1, len(rows)), len(columns) - 1)
        sheet.set_landscape()
        sheet.repeat_rows(0)
        pages_wide = math.ceil(sum(widths) / _PRINT_WIDTH)  # no smaller than legible
        sheet.fit_to_pages(pages_wide, 0)
        if pages_wide > 1 and freeze_columns:  # the key columns on every page
            sheet.repeat_columns(0, freeze_columns - 1)
        self._check(f"Wrote {name}")
        return sheet

    def cover(
        self,
        title: str,
        subtitle: str,
        facts: Sequence[tuple[str, Kind, Any]],
        sheets: Sequence[tuple[str, str]],
        notes: Sequence[tuple[str, str]],
        *,
        chart: Chart | None = None,
    ) -> Worksheet:
        """The first sheet: what this workbook is (store, window, filters, when), an optional
        headline chart, links to the other sheets, and how its figures are computed."""
        sheet = self.workbook.add_worksheet("Cover")
        self.sheets.append("Cover")
        sheet.hide_gridlines(2)
        sheet.set_column(0, 0, 30)
        sheet.set_column(1, 1, 80)
        sheet.set_row(0, 28)
        sheet.write_string(0, 0, title, self.title)
        sheet.write_string(1, 0, subtitle, self.subtitle)
        row = 3
        for label, kind, value in facts:
            sheet.write_string(row, 0, label, self.label)
            self.value(sheet, row, 1, kind, value, self.fact_formats)
            row += 1
        if chart is not None:
            sheet.insert_chart(row + 1, 0, chart, {"x_offset": 2, "y_offset": 4})
            row += 2 + int(chart.height / 20)  # the chart floats over these (default-height) rows
        row += 1
        sheet.write_string(row, 0, "Sheets", self.heading)
        sheet.write_blank(row, 1, None, self.heading)
        for name, description in sheets:
            row += 1
            sheet.write_url(row, 0, f"internal:'{name}'!A1", self.link, string=name)
            sheet.write_string(row, 1, description, self.wrap)
            sheet.set_row(row, 15 * _wrapped_lines(description, 80))
        row += 2
        sheet.write_string(row, 0, "How the figures are computed", self.heading)
        sheet.write_blank(row, 1, None, self.heading)
        for term, explanation in notes:
            row += 1
            sheet.write_string(row, 0, term, self.label)
            sheet.write_string(row, 1, explanation, self.wrap)
            sheet.set_row(row, 15 * _wrapped_lines(explanation, 80))
        sheet.set_portrait()
        sheet.fit_to_pages(1, 0)
        sheet.activate()
        return sheet


def _wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs, counting words so a long word does not split."""
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > width:
            lines, used = lines + 1, len(word)
        else:
            used += len(word) + (1 if used else 0)
    return lines


def _header_lines(header: str | date, width: float) -> int:
    return 1 if isinstance(header, date) else _wrapped_lines(header, width - 1)


def _width(col: Column[Any], rows: Sequence[Any]) -> float:
    if col.width is not None:
        return col.width
    if isinstance(col.header, date):
        return _DEFAULT_WIDTH[col.kind]
    # wide enough for the header's longest word, and for the header in two lines
    header = max(max(len(w) for w in col.header.split()) + 2, len(col.header) // 2 + 2)
    if col.kind is not Kind.TEXT:
        return max(_DEFAULT_WIDTH[col.kind], header)
    sample = [len(str(col.value(r) or "")) for r in rows[:300]]
    return float(min(50, max([header, 8, *sample]) + 1))


def write_workbook(
    path: str | os.PathLike[str],
    build: Callable[[Book], None],
    *,
    total_rows: int,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ExportResult:
    """Build a workbook into a temporary file beside ``path`` and move it into place only
    when complete; a cancel or an error leaves no file (and an existing one untouched)."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise ValidationError(f"{target.name}: an Excel workbook's name must end in .xlsx")
    started = time.perf_counter()
    report = progress or (lambda _text, _fraction: None)
    import xlsxwriter

    with atomic_output(target, ".xlsx.part") as temp:
        workbook = xlsxwriter.Workbook(
            str(temp),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "default_date_format": Kind.DATE.value,
            },
        )
        book = Book(workbook, report, cancelled or (lambda: False), total_rows)
        try:
            with paused_gc():
                build(book)
        except _Stop:
            _discard(workbook, temp)
            log.info("export to %s cancelled", target)
            return ExportResult(None, book.sheets, book.rows_written, time.perf_counter() - started, cancelled=True)
        except BaseException:
            _discard(workbook, temp)
            raise
        report("Saving the workbook", 1.0)
        with paused_gc():
            workbook.close()
    seconds = time.perf_counter() - started
    log.info("wrote %s (%d rows) in %.2f s", target, book.rows_written, seconds)
    return ExportResult(target, book.sheets, book.rows_written, seconds)


def _discard(workbook: Workbook, temp: Path) -> None:
    """Close the half-built workbook (its sheets stream through temporary files) and delete it."""
    try:
        workbook.close()
    except Exception:  # noqa: BLE001 — it is being thrown away; the first error is the one to report
        log.debug("closing a discarded workbook failed", exc_info=True)
    temp.unlink(missing_ok=True)
