"""Paint labels onto a page device: a PDF file, or a QPrinter the GUI hands over.

Thermal templates get one label per page; sheet templates fill slots row by row and may
start at a later slot to use up a partly used sheet.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QPagedPaintDevice, QPageLayout, QPageSize, QPainter, QPdfWriter

from backoffice.errors import RuleViolation, UserError, ValidationError
from backoffice.files import atomic_output
from backoffice.labels.barcode import QUIET_ZONE_MODULES, paint_bars
from backoffice.labels.layout import PDF_DPI, UNITS_PER_MM, LabelLayout, PlacedText, Rect, font, layout_label
from backoffice.labels.model import LabelData, needing_lab_confirmation
from backoffice.labels.qtapp import ensure_gui_app
from backoffice.labels.templates import Template, get_template

Progress = Callable[[int, int], None]  # (labels done, labels in the run)
Cancel = Callable[[], bool]


@dataclass(frozen=True)
class RenderResult:
    """What a run produced; the print log ties its first ``labels`` labels to their packages."""

    template: str
    labels: int  # labels painted, in input order: the first ``labels`` of the run
    pages: int
    cancelled: bool = False
    path: Path | None = None  # the PDF written; None when painting to a printer or cancelled


def page_layout(template: Template) -> QPageLayout:
    """The page a device needs for ``template``: its paper size, no margins (labels place themselves)."""
    size = QPageSize(
        QSizeF(template.page_w, template.page_h),
        QPageSize.Unit.Millimeter,
        template.name,
        QPageSize.SizeMatchPolicy.ExactMatch,
    )  # Letter stays "Letter" for the printer driver
    orientation = QPageLayout.Orientation.Portrait
    return QPageLayout(size, orientation, QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)


def _check_run(labels: Sequence[LabelData], template: Template, start_position: int, lab_override: bool) -> None:
    if not labels:
        raise ValidationError("there are no labels to print")
    if not 0 <= start_position < template.per_page:
        if template.is_sheet:
            raise ValidationError(
                f"start position {start_position} is not on the sheet: {template.name} has positions "
                f"0–{template.per_page - 1} ({template.columns} across, {template.rows} down)"
            )
        raise ValidationError(f"{template.name} prints one label per page; start position must be 0")
    if not lab_override and (blocked := needing_lab_confirmation(labels)):
        listed = ", ".join(f"{b.reference} ({b.lab_state or 'no lab state'})" for b in blocked[:5])
        more = f" and {len(blocked) - 5} more" if len(blocked) > 5 else ""
        raise RuleViolation(
            f"{len(blocked)} label(s) have lab results that do not clear them for sale: {listed}{more}. "
            "A manager must confirm before they are printed."
        )


def begin_page_coordinates(painter: QPainter) -> tuple[QPagedPaintDevice, float]:
    """Make (0, 0) the page corner even on a device whose painter starts at its margins.

    Moves the painter: callers wrap the run in ``painter.save()`` / ``painter.restore()``.
    """
    device = painter.device()
    if not isinstance(device, QPagedPaintDevice):
        raise TypeError(f"labels paint on a page device (QPdfWriter, QPrinter), not {type(device).__name__}")
    dpi = float(device.logicalDpiX())
    offset = device.pageLayout().paintRectPixels(round(dpi)).topLeft()
    painter.translate(-offset.x(), -offset.y())
    return device, dpi


def paint_label(painter: QPainter, layout: LabelLayout, x_mm: float, y_mm: float) -> None:
    """Paint one laid-out label with its top-left corner at (x_mm, y_mm) from the page corner."""
    px_per_mm = layout.dpi / 25.4
    bars = layout.barcode
    if bars:
        # Start on a whole device dot so every bar stays a whole number of dots wide.
        left = round((x_mm + bars.used.x) * px_per_mm) + QUIET_ZONE_MODULES * bars.module_px
        paint_bars(
            painter, bars.pattern, left, (y_mm + bars.used.y) * px_per_mm, bars.module_px, bars.used.h * px_per_mm
        )
    paint_texts(painter, layout.texts, x_mm, y_mm, px_per_mm)


def paint_texts(painter: QPainter, texts: Iterable[PlacedText], x_mm: float, y_mm: float, px_per_mm: float) -> None:
    painter.save()
    painter.translate(x_mm * px_per_mm, y_mm * px_per_mm)
    painter.scale(px_per_mm / UNITS_PER_MM, px_per_mm / UNITS_PER_MM)
    painter.setPen(Qt.GlobalColor.black)
    for text in texts:
        painter.setFont(font(text.font_px, text.bold, text.mono))
        painter.setClipRect(_units(text.box))  # belt and braces: the layout already fits the box
        for (x, y), line in zip(text.baselines, text.lines, strict=True):
            painter.drawText(QPointF(x * UNITS_PER_MM, y * UNITS_PER_MM), line)
    painter.restore()


def _units(rect: Rect) -> QRectF:
    return QRectF(rect.x * UNITS_PER_MM, rect.y * UNITS_PER_MM, rect.w * UNITS_PER_MM, rect.h * UNITS_PER_MM)


def render_labels(
    painter: QPainter,
    labels: Sequence[LabelData],
    template_name: str,
    *,
    start_position: int = 0,
    lab_override: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> RenderResult:
    """Paint ``labels`` with an active painter on a page device set up with ``page_layout``.

    ``lab_override`` is the manager's confirmation for labels whose lab results are not cleared.
    Every label is laid out before the first is painted, so a bad one stops the run before a
    page reaches the printer.
    """
    template = get_template(template_name)
    _check_run(labels, template, start_position, lab_override)
    painter.save()
    try:
        device, dpi = begin_page_coordinates(painter)
        layouts = []
        for label in labels:
            if cancel is not None and cancel():
                return RenderResult(template.name, 0, 0, cancelled=True)
            layouts.append(layout_label(label, template, dpi=dpi))
        painted = 0
        for index, layout in enumerate(layouts):
            if cancel is not None and cancel():
                break
            position = (start_position + index) % template.per_page
            if index and position == 0:
                device.newPage()
            paint_label(painter, layout, *template.slot_origin(position))
            painted += 1
            if progress is not None:
                progress(painted, len(layouts))
    finally:
        painter.restore()
    pages = (start_position + max(painted, 1) - 1) // template.per_page + 1
    return RenderResult(template.name, painted, pages, cancelled=painted < len(layouts))


def write_pdf(
    template_name: str,
    out_path: str | os.PathLike[str],
    paint: Callable[[QPainter], RenderResult],
) -> RenderResult:
    """Run ``paint`` on a PDF next to ``out_path`` and move it into place only when complete."""
    ensure_gui_app()
    template = get_template(template_name)
    out = Path(out_path)
    with atomic_output(out, ".pdf.part") as temp:
        result = _paint_pdf(temp, template, paint)
        if result.cancelled:
            temp.unlink()  # a cancelled run leaves no file
            return result
    return replace(result, path=out)


def _paint_pdf(path: Path, template: Template, paint: Callable[[QPainter], RenderResult]) -> RenderResult:
    writer = QPdfWriter(str(path))
    writer.setResolution(PDF_DPI)
    writer.setPageLayout(page_layout(template))
    writer.setTitle(f"Labels · {template.description}")
    writer.setCreator("Vault Workstation")
    painter = QPainter(writer)
    try:
        if not painter.isActive():
            raise UserError(f"cannot write {path.parent}: the PDF could not be opened for writing")
        return paint(painter)
    finally:
        if painter.isActive():
            painter.end()
        del painter, writer  # closes the file now, even while an exception holds this frame (Windows)


def render_labels_pdf(
    labels: Sequence[LabelData],
    template_name: str,
    out_path: str | os.PathLike[str],
    *,
    start_position: int = 0,
    lab_override: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> RenderResult:
    """Write ``labels`` to a PDF at ``out_path``; a cancelled or failed run leaves no file behind."""
    return write_pdf(
        template_name,
        out_path,
        lambda painter: render_labels(
            painter,
            labels,
            template_name,
            start_position=start_position,
            lab_override=lab_override,
            progress=progress,
            cancel=cancel,
        ),
    )
