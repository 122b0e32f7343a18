"""The alignment test print: a page of the template's outlines with a sample label in every slot.

Printed on plain paper and held against the label stock, it shows whether the printer puts
labels where the template says, before a sheet of real labels is spent.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPen

from backoffice.labels.layout import fit_text, layout_label
from backoffice.labels.render import RenderResult, begin_page_coordinates, paint_label, paint_texts, write_pdf
from backoffice.labels.samples import SAMPLE_LABEL
from backoffice.labels.templates import FieldBox, Template, get_template

OUTLINE_MM = 0.15
_NOTE_ROOM_MM = 6.0  # a sheet's top margin needs this much to carry the printing note


def render_test_print(painter: QPainter, template_name: str) -> RenderResult:
    """One page: every slot outlined, its field boxes dotted, the (longest-barcode) sample inside."""
    template = get_template(template_name)
    painter.save()
    try:
        _paint_test_page(painter, template)
    finally:
        painter.restore()
    return RenderResult(template.name, template.per_page, 1)


def _paint_test_page(painter: QPainter, template: Template) -> None:
    _, dpi = begin_page_coordinates(painter)
    px_per_mm = dpi / 25.4
    sample = layout_label(SAMPLE_LABEL, template, dpi=dpi)
    outline, boxes = QPen(Qt.GlobalColor.black, OUTLINE_MM * px_per_mm), QPen(Qt.GlobalColor.gray, 0.1 * px_per_mm)
    boxes.setStyle(Qt.PenStyle.DotLine)
    inset = OUTLINE_MM / 2  # keep the whole outline on the label
    for position in range(template.per_page):
        x, y = template.slot_origin(position)
        painter.setPen(boxes)
        for box in template.fields:
            painter.drawRect(_px(x + box.x, y + box.y, box.w, box.h, px_per_mm))
        painter.setPen(outline)
        painter.drawRect(
            _px(x + inset, y + inset, template.label_w - 2 * inset, template.label_h - 2 * inset, px_per_mm)
        )
        paint_label(painter, sample, x, y)
    if template.margin_top >= _NOTE_ROOM_MM:
        _paint_note(painter, template, px_per_mm)


def _paint_note(painter: QPainter, template: Template, px_per_mm: float) -> None:
    """Sheets are misaligned most often by "fit to page" scaling: say so in the top margin."""
    note = (
        f"Test print · {template.name} · {template.description} · print at 100 % (actual size), "
        "no scaling, then hold against a label sheet"
    )
    box = FieldBox(
        "note",
        template.margin_left,
        (template.margin_top - 4) / 2,
        template.page_w - 2 * template.margin_left,
        4,
        max_pt=8,
        min_pt=5,
    )
    paint_texts(painter, [fit_text("note", note, box)], 0.0, 0.0, px_per_mm)


def _px(x: float, y: float, w: float, h: float, px_per_mm: float) -> QRectF:
    return QRectF(x * px_per_mm, y * px_per_mm, w * px_per_mm, h * px_per_mm)


def render_test_print_pdf(template_name: str, out_path: str | os.PathLike[str]) -> RenderResult:
    return write_pdf(template_name, out_path, lambda painter: render_test_print(painter, template_name))
