"""What the printed sheets (count sheet, receiving report) share: a Letter PDF written
atomically, and drawing in millimetres from the page's top left corner.

Painted with QtGui only (QPdfWriter + QPainter); no widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen

from backoffice.errors import UserError
from backoffice.files import atomic_output
from backoffice.labels.qtapp import ensure_gui_app

DPI = 300
T = TypeVar("T")
Paint = Callable[[QPdfWriter, QPainter, QRectF], T]  # the page's full rectangle, in mm


def write_pdf(out: Path | str, title: str, paint: Paint[T], *, landscape: bool = False) -> T:
    """Run ``paint`` on a Letter PDF that appears at ``out`` only when it is complete."""
    ensure_gui_app()
    with atomic_output(out, ".pdf.part") as temp:
        return _paint(temp, title, paint, landscape)


def _paint(path: Path, title: str, paint: Paint[T], landscape: bool) -> T:
    writer = QPdfWriter(str(path))
    writer.setResolution(DPI)
    orientation = QPageLayout.Orientation.Landscape if landscape else QPageLayout.Orientation.Portrait
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.Letter), orientation, QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter
        )
    )
    writer.setTitle(title)
    writer.setCreator("Vault Workstation")
    page = writer.pageLayout().fullRect(QPageLayout.Unit.Millimeter)
    painter = QPainter(writer)
    try:
        if not painter.isActive():
            raise UserError(f"cannot write {path.parent}: the PDF could not be opened for writing")
        return paint(writer, painter, page)
    finally:
        if painter.isActive():
            painter.end()
        del painter, writer  # closes the file now, even while an exception holds this frame (Windows)


def mm(*values: float) -> QRectF:
    """A rectangle given in millimetres (x, y, width, height), in device pixels."""
    x, y, w, h = (v * DPI / 25.4 for v in values)
    return QRectF(x, y, w, h)


def pen(colour: str, width_mm: float) -> QPen:
    return QPen(QColor(colour), width_mm * DPI / 25.4)


def font(points: float, *, bold: bool = False, mono: bool = False) -> QFont:
    face = QFont("DejaVu Sans Mono" if mono else "DejaVu Sans")
    if mono:
        face.setStyleHint(QFont.StyleHint.TypeWriter)
    face.setPointSizeF(points)  # QPdfWriter scales points by its resolution
    face.setBold(bold)
    return face


def draw_text(
    painter: QPainter,
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
    """One line of text in a box given in mm, cut with an ellipsis when it does not fit."""
    rect = mm(x, y, w, h)
    painter.setFont(face)
    painter.setPen(pen(colour, 0.2))
    shown = QFontMetricsF(face, painter.device()).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
    align = (Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignVCenter
    painter.drawText(rect, int(align), shown)
