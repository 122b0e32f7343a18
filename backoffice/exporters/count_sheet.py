"""Printable count sheet (PDF) for counting on paper, and its CSV twin for keying it in.

Each package gets a row with its tag, item, location and an empty box for the count; the
last page ends with blank rows for packages found that are not on the sheet. Blind counts
print no expected quantity. Painted with QtGui only (QPdfWriter + QPainter).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFont, QPainter, QPdfWriter

from backoffice.db.engine import Database
from backoffice.domain.store_calendar import StoreCalendar
from backoffice.domain.text import neutralise
from backoffice.exporters.pdf_pages import draw_text, font, mm, pen, write_pdf
from backoffice.files import atomic_output
from backoffice.services import counts, settings
from backoffice.services.actor import Actor
from backoffice.services.counts import CountInfo, SheetLine

MARGIN_MM = 12.0
ROW_MM = 8.5  # room to write a number by hand
HEADER_MM = 30.0
FOOTER_MM = 8.0
MIN_BLANK_ROWS = 4  # rows for found packages; the rest of the last page is used too


@dataclass(frozen=True)
class _Column:
    title: str
    width_mm: float  # 0: takes what is left
    box: bool = False  # an empty box to write in
    mono: bool = False


def _columns(blind: bool) -> list[_Column]:
    cols = [
        _Column("#", 8),
        _Column("Tag", 45, mono=True),
        _Column("Item", 0),
        _Column("Location", 22),
        _Column("Unit", 12),
    ]
    if not blind:
        cols.append(_Column("Expected", 19))
    return [*cols, _Column("Count", 22, box=True), _Column("Init.", 11, box=True)]


@dataclass(frozen=True)
class SheetResult:
    path: Path
    pages: int
    lines: int


def export_count_sheet(db: Database, actor: Actor, count_id: int, out: Path | str) -> SheetResult:
    """Write count ``count_id``'s sheet: a PDF, or a CSV to key counts into when ``out`` ends in .csv."""
    info, lines = counts.sheet_lines(db, actor, count_id)
    out = Path(out)
    if out.suffix.lower() == ".csv":
        write_sheet_csv(out, lines)
        return SheetResult(out, 0, len(lines))
    pages = write_sheet_pdf(
        out, info, lines, store_name=settings.read(db, settings.STORE_NAME), calendar=settings.store_calendar(db)
    )
    return SheetResult(out, pages, len(lines))


def _where(line: SheetLine) -> str:
    """The room and the bin in it: where the counter walks to."""
    return f"{line.location} · {line.bin}" if line.bin else line.location


def write_sheet_csv(out: Path, lines: Sequence[SheetLine]) -> None:
    """Tag, Item, Location, Unit and an empty Quantity column: ``count import-sheet`` reads it back.
    Text a spreadsheet would run as a formula is neutralised, as in the workbooks."""
    with atomic_output(out, ".csv.part") as temp, open(temp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Tag", "Item", "Location", "Unit", "Quantity"])
        for line in lines:
            writer.writerow([line.tag, *map(neutralise, (line.item, _where(line), line.unit)), ""])


def write_sheet_pdf(
    out: Path, info: CountInfo, lines: Sequence[SheetLine], *, store_name: str, calendar: StoreCalendar
) -> int:
    """Paint the sheet (times in the store's time zone); returns the number of pages."""

    def paint(writer: QPdfWriter, painter: QPainter, page: QRectF) -> int:
        per_page = int((page.height() - 2 * MARGIN_MM - HEADER_MM - FOOTER_MM) // ROW_MM) - 2  # titles, found heading
        left = (per_page - len(lines) % per_page) % per_page
        blanks = left if left >= MIN_BLANK_ROWS else left + 2 * MIN_BLANK_ROWS
        rows: list[SheetLine | None] = [*lines, *([None] * blanks)]  # None: a blank row for a found package
        pages = max(1, -(-len(rows) // per_page))
        sheet = _Sheet(painter, info, store_name, calendar, page.width(), page.height(), pages)
        for number in range(pages):
            if number:
                writer.newPage()
            sheet.page(number, rows[number * per_page : (number + 1) * per_page], number * per_page)
        return pages

    return write_pdf(out, f"Count sheet · {info.name}", paint)


class _Sheet:
    """Lays out one page at a time, in millimetres from the page's top left corner."""

    def __init__(
        self,
        painter: QPainter,
        info: CountInfo,
        store_name: str,
        calendar: StoreCalendar,
        page_w: float,
        page_h: float,
        pages: int,
    ) -> None:
        self.p, self.info, self.store, self.calendar = painter, info, store_name, calendar
        self.printed_at = calendar.stamp(calendar.now())
        self.page_h, self.pages = page_h, pages
        self.width = page_w - 2 * MARGIN_MM
        self.cols = _columns(info.blind)
        fixed = sum(c.width_mm for c in self.cols)
        self.widths = [c.width_mm or self.width - fixed for c in self.cols]
        self.text, self.mono, self.bold = font(8.5), font(8.5, mono=True), font(8.5, bold=True)

    def page(self, number: int, chunk: Sequence[SheetLine | None], first_index: int) -> None:
        y = self._header()
        y = self._column_titles(y)
        found_heading = False
        for offset, line in enumerate(chunk):
            if line is None and not found_heading:
                found_heading = True
                self._text(
                    MARGIN_MM, y, self.width, ROW_MM, "Found, not on this sheet: write its tag and count", self.bold
                )
                y += ROW_MM
            self._row(y, first_index + offset + 1, line)
            y += ROW_MM
        self._footer(number)

    def _header(self) -> float:
        info, y = self.info, MARGIN_MM
        self._text(MARGIN_MM, y, self.width, 8, f"Count sheet — {info.name}", font(15, bold=True))
        self._text(MARGIN_MM, y, self.width, 8, f"Count #{info.id}", font(11, bold=True), right=True)
        y += 9
        self._text(
            MARGIN_MM,
            y,
            self.width,
            5,
            f"{self.store} · Scope: {info.scope.describe()} · Snapshot {self.calendar.stamp(info.snapshot_at)}",
            self.text,
        )
        y += 5.5
        blind = " Blind count: expected quantities are not shown." if info.blind else ""
        self._text(
            MARGIN_MM, y, self.width, 5, f"Write the number of units you find in the Count box.{blind}", self.text
        )
        y += 8
        self._text(
            MARGIN_MM,
            y,
            self.width,
            6,
            "Counted by: ______________________     Date: ____________     Keyed in by: ______________",
            self.text,
        )
        return MARGIN_MM + HEADER_MM

    def _column_titles(self, y: float) -> float:
        height = ROW_MM - 1.5
        self.p.fillRect(mm(MARGIN_MM, y, self.width, height), QColor("#dddddd"))
        x = MARGIN_MM
        for col, width in zip(self.cols, self.widths, strict=True):
            self._text(x + 1, y, width - 2, height, col.title, self.bold)
            x += width
        return y + height

    def _row(self, y: float, number: int, line: SheetLine | None) -> None:
        if line is None:  # a found package: boxes for its tag and count
            values = ["", "", "", "", ""]
        else:
            values = [str(number), line.tag, line.item, _where(line), line.unit]
        if not self.info.blind:
            values.append("" if line is None or line.expected is None else f"{line.expected.normalize():f}")
        values += ["", ""]
        self.p.setPen(pen("#999999", 0.2))
        bottom = mm(MARGIN_MM, y, self.width, ROW_MM)
        self.p.drawLine(bottom.bottomLeft(), bottom.bottomRight())
        x = MARGIN_MM
        for col, width, value in zip(self.cols, self.widths, values, strict=True):
            if col.box or (line is None and col.title in ("Tag", "Item")):
                self.p.setPen(pen("#000000", 0.3))
                self.p.drawRect(mm(x + 0.8, y + 1.0, width - 1.6, ROW_MM - 2.0))
            elif value:
                self._text(x + 1, y, width - 2, ROW_MM, value, self.mono if col.mono else self.text)
            x += width

    def _footer(self, number: int) -> None:
        y = self.page_h - MARGIN_MM - 5
        self._text(MARGIN_MM, y, self.width, 5, f"Printed {self.printed_at} · Vault Workstation", font(7.5))
        self._text(
            MARGIN_MM,
            y,
            self.width,
            5,
            f"Count #{self.info.id} · page {number + 1} of {self.pages}",
            font(7.5),
            right=True,
        )

    def _text(self, x: float, y: float, w: float, h: float, text: str, face: QFont, *, right: bool = False) -> None:
        draw_text(self.p, x, y, w, h, text, face, right=right)
