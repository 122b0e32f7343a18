"""Printable receiving report (PDF) for one manifest: what was shipped, what was received,
what was rejected and why, who scanned and decided each package and when.

It doubles as the receive sheet: METRC's receiving is keyed into its web UI, and the report
lists per package exactly what to enter there (accept with the received quantity, or reject
with the reason). Painted with QtGui only (QPdfWriter + QPainter), landscape Letter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPdfWriter

from backoffice.db.engine import Database
from backoffice.domain.enums import ManifestLineState, ManifestStatus
from backoffice.domain.store_calendar import StoreCalendar
from backoffice.exporters.pdf_pages import DPI, draw_text, font, mm, pen, write_pdf
from backoffice.services import receiving, settings
from backoffice.services.actor import Actor
from backoffice.services.receiving import LineView, ManifestView

MARGIN_MM = 10.0
ROW_MM = 6.0  # a row of one line; rows with a long note or item name grow by LINE_MM a line
LINE_MM = 3.2
HEADER_MM = 40.0
FOOTER_MM = 8.0
_DECISION = {
    ManifestLineState.ACCEPTED: "Accept",
    ManifestLineState.REJECTED: "Reject",
    ManifestLineState.SCANNED: "undecided",
    ManifestLineState.PENDING: "not scanned",
}
_COLOURS = {ManifestLineState.ACCEPTED: "#1b5e20", ManifestLineState.REJECTED: "#b71c1c"}


@dataclass(frozen=True)
class _Column:
    title: str
    width_mm: float  # 0: takes what is left
    mono: bool = False
    right: bool = False


COLUMNS = (
    _Column("#", 6, right=True),
    _Column("Tag", 39, mono=True),
    _Column("Item", 0),
    _Column("Shipped", 15, right=True),
    _Column("Received", 15, right=True),
    _Column("Unit", 12),
    _Column("METRC", 17),
    _Column("Reason / note", 40),
    _Column("Scanned", 26),
    _Column("Decided", 26),
    _Column("Bin", 14),
)


@dataclass(frozen=True)
class ReportResult:
    path: Path
    pages: int
    packages: int


def export_receiving_report(db: Database, actor: Actor, manifest_id: int, out: Path | str) -> ReportResult:
    view = receiving.get_manifest(db, actor, manifest_id)
    out = Path(out)
    pages = write_report_pdf(
        out, view, store_name=settings.read(db, settings.STORE_NAME), calendar=settings.store_calendar(db)
    )
    return ReportResult(out, pages, len(view.lines))


def write_report_pdf(out: Path, view: ManifestView, *, store_name: str, calendar: StoreCalendar) -> int:
    """Paint the report (times in the store's time zone); returns the number of pages."""

    def paint(writer: QPdfWriter, painter: QPainter, page: QRectF) -> int:
        report = _Report(painter, view, store_name, calendar, page.width(), page.height())
        pages = report.paginate()
        for number, chunk in enumerate(pages):
            if number:
                writer.newPage()
            report.page(number, len(pages), chunk, last=number == len(pages) - 1)
        return len(pages)

    return write_pdf(out, f"Receiving report · manifest {view.manifest_number}", paint, landscape=True)


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def _when(calendar: StoreCalendar, name: str | None, at: datetime | None) -> str:
    return "" if at is None else f"{calendar.stamp(at, '%m-%d %H:%M')} {name or ''}".strip()


def totals(view: ManifestView) -> list[str]:
    """Shipped, received and rejected quantities per unit, in words."""
    units = sorted({line.unit for line in view.lines}, key=lambda u: u.value)
    words = []
    for unit in units:
        mine = [line for line in view.lines if line.unit is unit]
        shipped = sum((line.shipped_quantity for line in mine), Decimal(0))
        received = sum(
            (line.received_quantity or Decimal(0) for line in mine if line.state is ManifestLineState.ACCEPTED),
            Decimal(0),
        )
        rejected = sum((line.shipped_quantity for line in mine if line.state is ManifestLineState.REJECTED), Decimal(0))
        words.append(
            f"{unit.value}: shipped {_plain(shipped)}, received {_plain(received)}, "
            f"rejected {_plain(rejected)} (as shipped)"
        )
    return words


@dataclass(frozen=True)
class _Row:
    number: int
    line: LineView
    cells: list[list[str]]  # each column's text lines
    height: float  # mm


class _Report:
    def __init__(
        self,
        painter: QPainter,
        view: ManifestView,
        store_name: str,
        calendar: StoreCalendar,
        page_w: float,
        page_h: float,
    ) -> None:
        self.p, self.view, self.store, self.calendar = painter, view, store_name, calendar
        self.printed_at = calendar.stamp(calendar.now())
        self.page_h = page_h
        self.width = page_w - 2 * MARGIN_MM
        fixed = sum(c.width_mm for c in COLUMNS)
        self.widths = [c.width_mm or self.width - fixed for c in COLUMNS]
        self.text, self.mono, self.bold = font(7), font(7, mono=True), font(7, bold=True)

    def paginate(self) -> list[list[_Row]]:
        """Rows grow to show a whole note; pages take rows while they fit, the last also the totals."""
        room = self.page_h - 2 * MARGIN_MM - HEADER_MM - FOOTER_MM - ROW_MM  # below the column titles
        pages: list[list[_Row]] = [[]]
        used = 0.0
        for number, line in enumerate(self.view.lines, start=1):
            row = self._layout(number, line)
            if pages[-1] and used + row.height > room:
                pages.append([])
                used = 0.0
            pages[-1].append(row)
            used += row.height
        if used + self._summary_height() > room:
            pages.append([])
        return pages

    def page(self, number: int, pages: int, rows: Sequence[_Row], *, last: bool) -> None:
        y = self._column_titles(self._header())
        for row in rows:
            self._row(y, row)
            y += row.height
        if last:
            self._summary(y + 2)
        self._footer(number, pages)

    def _layout(self, number: int, line: LineView) -> _Row:
        note = " — ".join(t for t in (line.reject_reason, line.note) if t)
        values = [
            str(number),
            line.tag,
            line.item_name,
            _plain(line.shipped_quantity),
            _plain(line.received_quantity),
            line.unit.value,
            _DECISION[line.state],
            note,
            _when(self.calendar, line.scanned_by, line.scanned_at),
            _when(self.calendar, line.decided_by, line.decided_at),
            line.bin or "",
        ]
        cells = []
        for col, width, value in zip(COLUMNS, self.widths, values, strict=True):
            face = self.mono if col.mono else self.text
            most = None if col.title == "Reason / note" else 2 if col.title == "Item" else 1
            cells.append(self._wrap(value, face, (width - 1.6) * DPI / 25.4, most))
        height = max(ROW_MM, max(len(c) for c in cells) * LINE_MM + 1.5)
        return _Row(number, line, cells, height)

    def _wrap(self, text: str, face: QFont, width: float, most: int | None) -> list[str]:
        metrics = QFontMetricsF(face, self.p.device())
        lines: list[str] = []
        for word in text.split():
            if lines and metrics.horizontalAdvance(f"{lines[-1]} {word}") <= width:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        if most is not None and len(lines) > most:
            lines = [*lines[: most - 1], " ".join(lines[most - 1 :])]
        return [metrics.elidedText(ln, Qt.TextElideMode.ElideRight, width) for ln in lines] or [""]

    def _header(self) -> float:
        v, y = self.view, MARGIN_MM
        self._text(MARGIN_MM, y, self.width, 8, f"Receiving report — manifest {v.manifest_number}", font(14, bold=True))
        status = "RECEIVED" if v.status is ManifestStatus.RECEIVED else "IN PROGRESS (not finished)"
        self._text(MARGIN_MM, y, self.width, 8, status, font(11, bold=True), right=True)
        y += 9
        facts = [
            f"{self.store} · Shipper: {v.shipper_name} (license {v.shipper_license})",
            f"Transporter: {v.transporter_license or '—'} · Driver: {v.driver_name or '—'} · Vehicle: "
            f"{v.vehicle or '—'} · Expected: {_when(self.calendar, None, v.estimated_arrival) or '—'}",
            f"Imported {_when(self.calendar, v.imported_by, v.imported_at)} · "
            + (
                f"Received into {v.receiving_location} {_when(self.calendar, v.finished_by, v.finished_at)}"
                if v.finished_at
                else f"{v.undecided} of {len(v.lines)} packages not decided yet"
            ),
            f"{len(v.lines)} packages: {v.count(ManifestLineState.ACCEPTED)} accepted, "
            f"{v.count(ManifestLineState.REJECTED)} rejected. Key each into METRC (Transfers › Incoming › "
            f"{v.manifest_number} › Receive): Accept with the received quantity, or Reject with the reason.",
        ]
        for fact in facts:
            self._text(MARGIN_MM, y, self.width, 5, fact, font(8))
            y += 5
        self._text(
            MARGIN_MM,
            y + 1,
            self.width,
            6,
            "Checked by: ______________________     Keyed into METRC by: ______________________     Date: ____________",
            font(8),
        )
        return MARGIN_MM + HEADER_MM

    def _column_titles(self, y: float) -> float:
        self.p.fillRect(mm(MARGIN_MM, y, self.width, ROW_MM), QColor("#dddddd"))
        x = MARGIN_MM
        for col, width in zip(COLUMNS, self.widths, strict=True):
            self._text(x + 0.8, y, width - 1.6, ROW_MM, col.title, self.bold, right=col.right)
            x += width
        return y + ROW_MM

    def _row(self, y: float, row: _Row) -> None:
        self.p.setPen(pen("#999999", 0.2))
        bottom = mm(MARGIN_MM, y, self.width, row.height)
        self.p.drawLine(bottom.bottomLeft(), bottom.bottomRight())
        x = MARGIN_MM
        for col, width, lines in zip(COLUMNS, self.widths, row.cells, strict=True):
            decision = col.title == "METRC"
            colour = _COLOURS.get(row.line.state, "#000000") if decision else "#000000"
            face = self.mono if col.mono else (self.bold if decision else self.text)
            for n, text in enumerate(lines):
                self._text(
                    x + 0.8, y + 0.75 + n * LINE_MM, width - 1.6, LINE_MM, text, face, right=col.right, colour=colour
                )
            x += width

    def _summary_height(self) -> float:
        return 2 + 5 * (1 + len({line.unit for line in self.view.lines}))

    def _summary(self, y: float) -> None:
        self._text(MARGIN_MM, y, self.width, 5, "Totals", font(8, bold=True))
        for words in totals(self.view):
            y += 5
            self._text(MARGIN_MM, y, self.width, 5, words, font(8))

    def _footer(self, number: int, pages: int) -> None:
        y = self.page_h - MARGIN_MM - 5
        self._text(MARGIN_MM, y, self.width, 5, f"Printed {self.printed_at} · Vault Workstation", font(7))
        self._text(
            MARGIN_MM,
            y,
            self.width,
            5,
            f"Manifest {self.view.manifest_number} · page {number + 1} of {pages}",
            font(7),
            right=True,
        )

    def _text(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        text: str,
        face: QFont,
        *,
        right: bool = False,
        colour: str = "#000000",
    ) -> None:
        draw_text(self.p, x, y, w, h, text, face, right=right, colour=colour)
