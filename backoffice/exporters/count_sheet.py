"""Printable count sheet (PDF) for counting on paper, and its CSV twin for keying it in.

Each package gets a row with its tag, item, location and an empty box for the count; the
last page ends with blank rows for packages found that are not on the sheet. Blind counts
print no expected quantity. Painted with QtGui only (QPdfWriter + QPainter).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)

from backoffice.db.engine import Database
from backoffice.domain.text import neutralise
from backoffice.errors import UserError
from backoffice.labels.qtapp import ensure_gui_app
from backoffice.services import counts, settings
from backoffice.services.actor import Actor
from backoffice.services.counts import CountInfo, SheetLine

DPI = 300
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
    cols = [_Column("#", 8), _Column("Tag", 45, mono=True), _Column("Item", 0), _Column("Location", 22),
            _Column("Unit", 12)]
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
    pages = write_sheet_pdf(out, info, lines, store_name=settings.read(db, settings.STORE_NAME))
    return SheetResult(out, pages, len(lines))


def _where(line: SheetLine) -> str:
    """The room and the bin in it: where the counter walks to."""
    return f"{line.location} · {line.bin}" if line.bin else line.location


def write_sheet_csv(out: Path, lines: Sequence[SheetLine]) -> None:
    """Tag, Item, Location, Unit and an empty Quantity column: ``count import-sheet`` reads it back.
    Text a spreadsheet would run as a formula is neutralised, as in the workbooks."""
    _check_folder(out)
    with _atomic(out, ".csv.part") as temp:
        with open(temp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Tag", "Item", "Location", "Unit", "Quantity"])
            for line in lines:
                writer.writerow([line.tag, *map(neutralise, (line.item, _where(line), line.unit)), ""])


def write_sheet_pdf(out: Path, info: CountInfo, lines: Sequence[SheetLine], *, store_name: str = "",
                    printed_at: datetime | None = None) -> int:
    """Paint the sheet; returns the number of pages."""
    ensure_gui_app()
    _check_folder(out)
    with _atomic(out, ".pdf.part") as temp:
        return _paint(temp, info, lines, store_name, printed_at or datetime.now().astimezone())


def _check_folder(out: Path) -> None:
    if not out.parent.is_dir():
        raise UserError(f"cannot save {out.name}: folder {out.parent} does not exist")


class _atomic:  # noqa: N801 (used as a context manager)
    """A temp file beside ``out``, moved into place only when writing succeeded."""

    def __init__(self, out: Path, suffix: str) -> None:
        self.out, self.suffix = out, suffix

    def __enter__(self) -> Path:
        handle, name = tempfile.mkstemp(prefix=f".{self.out.stem}-", suffix=self.suffix, dir=self.out.parent)
        os.close(handle)
        self.temp = Path(name)
        return self.temp

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            os.replace(self.temp, self.out)
        else:
            self.temp.unlink(missing_ok=True)


def _paint(path: Path, info: CountInfo, lines: Sequence[SheetLine], store_name: str, printed_at: datetime) -> int:
    writer = QPdfWriter(str(path))
    writer.setResolution(DPI)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.Letter), QPageLayout.Orientation.Portrait,
                                     QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter))
    writer.setTitle(f"Count sheet · {info.name}")
    writer.setCreator("Vault Workstation")
    page = writer.pageLayout().fullRect(QPageLayout.Unit.Millimeter)
    per_page = int((page.height() - 2 * MARGIN_MM - HEADER_MM - FOOTER_MM) // ROW_MM) - 2  # titles, found heading
    left = (per_page - len(lines) % per_page) % per_page
    blanks = left if left >= MIN_BLANK_ROWS else left + 2 * MIN_BLANK_ROWS
    rows: list[SheetLine | None] = [*lines, *([None] * blanks)]  # None: a blank row for a found package
    pages = max(1, -(-len(rows) // per_page))
    painter = QPainter(writer)
    try:
        if not painter.isActive():
            raise UserError(f"cannot write {path.parent}: the PDF could not be opened for writing")
        sheet = _Sheet(painter, info, store_name, printed_at, page.width(), page.height(), pages)
        for number in range(pages):
            if number:
                writer.newPage()
            sheet.page(number, rows[number * per_page:(number + 1) * per_page], number * per_page)
    finally:
        if painter.isActive():
            painter.end()
        del painter, writer  # closes the file now
    return pages


def _mm(*values: float) -> QRectF:
    """A rectangle given in millimetres, in device pixels."""
    x, y, w, h = (v * DPI / 25.4 for v in values)
    return QRectF(x, y, w, h)


class _Sheet:
    """Lays out one page at a time, in millimetres from the page's top left corner."""

    def __init__(self, painter: QPainter, info: CountInfo, store_name: str, printed_at: datetime, page_w: float,
                 page_h: float, pages: int) -> None:
        self.p, self.info, self.store, self.printed_at = painter, info, store_name, printed_at
        self.page_h, self.pages = page_h, pages
        self.width = page_w - 2 * MARGIN_MM
        self.cols = _columns(info.blind)
        fixed = sum(c.width_mm for c in self.cols)
        self.widths = [c.width_mm or self.width - fixed for c in self.cols]
        self.text, self.mono, self.bold = _font(8.5), _font(8.5, mono=True), _font(8.5, bold=True)

    def page(self, number: int, chunk: Sequence[SheetLine | None], first_index: int) -> None:
        y = self._header()
        y = self._column_titles(y)
        found_heading = False
        for offset, line in enumerate(chunk):
            if line is None and not found_heading:
                found_heading = True
                self._text(MARGIN_MM, y, self.width, ROW_MM, "Found, not on this sheet: write its tag and count",
                           self.bold)
                y += ROW_MM
            self._row(y, first_index + offset + 1, line)
            y += ROW_MM
        self._footer(number)

    def _header(self) -> float:
        info, y = self.info, MARGIN_MM
        self._text(MARGIN_MM, y, self.width, 8, f"Count sheet — {info.name}", _font(15, bold=True))
        self._text(MARGIN_MM, y, self.width, 8, f"Count #{info.id}", _font(11, bold=True), right=True)
        y += 9
        self._text(MARGIN_MM, y, self.width, 5, f"{self.store} · Scope: {info.scope.describe()} · Snapshot "
                   f"{info.snapshot_at.astimezone():%Y-%m-%d %H:%M}", self.text)
        y += 5.5
        blind = " Blind count: expected quantities are not shown." if info.blind else ""
        self._text(MARGIN_MM, y, self.width, 5, f"Write the number of units you find in the Count box.{blind}",
                   self.text)
        y += 8
        self._text(MARGIN_MM, y, self.width, 6, "Counted by: ______________________     Date: ____________"
                   "     Keyed in by: ______________", self.text)
        return MARGIN_MM + HEADER_MM

    def _column_titles(self, y: float) -> float:
        height = ROW_MM - 1.5
        self.p.fillRect(_mm(MARGIN_MM, y, self.width, height), QColor("#dddddd"))
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
        self.p.setPen(_pen("#999999", 0.2))
        bottom = _mm(MARGIN_MM, y, self.width, ROW_MM)
        self.p.drawLine(bottom.bottomLeft(), bottom.bottomRight())
        x = MARGIN_MM
        for col, width, value in zip(self.cols, self.widths, values, strict=True):
            if col.box or (line is None and col.title in ("Tag", "Item")):
                self.p.setPen(_pen("#000000", 0.3))
                self.p.drawRect(_mm(x + 0.8, y + 1.0, width - 1.6, ROW_MM - 2.0))
            elif value:
                self._text(x + 1, y, width - 2, ROW_MM, value, self.mono if col.mono else self.text)
            x += width

    def _footer(self, number: int) -> None:
        y = self.page_h - MARGIN_MM - 5
        self._text(MARGIN_MM, y, self.width, 5, f"Printed {self.printed_at:%Y-%m-%d %H:%M} · Vault Workstation",
                   _font(7.5))
        self._text(MARGIN_MM, y, self.width, 5, f"Count #{self.info.id} · page {number + 1} of {self.pages}",
                   _font(7.5), right=True)

    def _text(self, x: float, y: float, w: float, h: float, text: str, font: QFont, *, right: bool = False) -> None:
        rect = _mm(x, y, w, h)
        self.p.setFont(font)
        self.p.setPen(_pen("#000000", 0.2))
        shown = QFontMetricsF(font, self.p.device()).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
        align = (Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignVCenter
        self.p.drawText(rect, int(align), shown)


def _pen(colour: str, width_mm: float) -> QPen:
    return QPen(QColor(colour), width_mm * DPI / 25.4)


def _font(points: float, *, bold: bool = False, mono: bool = False) -> QFont:
    font = QFont("DejaVu Sans Mono" if mono else "DejaVu Sans")
    if mono:
        font.setStyleHint(QFont.StyleHint.TypeWriter)
    font.setPointSizeF(points)  # QPdfWriter scales points by its resolution
    font.setBold(bold)
    return font
