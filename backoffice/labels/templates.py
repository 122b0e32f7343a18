"""Label templates as data, in millimetres: page, label grid, and where each field goes.

A thermal roll is a page per label (1 × 1 grid); a sheet (Avery 5160) is a grid of labels on
one page. Field boxes are relative to the label's top-left corner. A barcode box includes its
quiet zones, so on narrow rolls it may span the whole label width: the margin is blank anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from backoffice.errors import NotFound, ValidationError
from backoffice.labels.fields import BARCODE, FIELD_NAMES

INCH = 25.4
POINT_MM = INCH / 72
# Worst line height of the fonts we use (DejaVu Sans: 1.164 em), with headroom for fallbacks.
LINE_HEIGHT_EM = 1.25
_EPSILON = 1e-6  # float slack when checking boxes that touch an edge

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class FieldBox:
    """Where one field goes on the label and how large its text may be."""

    field: str
    x: float
    y: float
    w: float
    h: float
    max_pt: float = 8.0
    min_pt: float = 5.0
    lines: int = 1
    bold: bool = False
    mono: bool = False
    align: Align = "left"


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    page_w: float
    page_h: float
    label_w: float
    label_h: float
    fields: tuple[FieldBox, ...]
    columns: int = 1
    rows: int = 1
    margin_left: float = 0.0
    margin_top: float = 0.0
    gap_x: float = 0.0
    gap_y: float = 0.0

    def __post_init__(self) -> None:
        right = self.margin_left + self.columns * self.label_w + (self.columns - 1) * self.gap_x
        bottom = self.margin_top + self.rows * self.label_h + (self.rows - 1) * self.gap_y
        if right > self.page_w + _EPSILON or bottom > self.page_h + _EPSILON:
            raise ValidationError(f"template {self.name}: the labels do not fit on the page")
        for box in self.fields:
            self._check_box(box)
        if sum(box.field == BARCODE for box in self.fields) > 1:
            raise ValidationError(f"template {self.name}: more than one barcode box")

    def _check_box(self, box: FieldBox) -> None:
        where = f"template {self.name}, field {box.field}"
        if box.field not in FIELD_NAMES:
            raise ValidationError(f"{where}: unknown field; known fields: {', '.join(sorted(FIELD_NAMES))}")
        if box.x < 0 or box.y < 0 or box.x + box.w > self.label_w + _EPSILON or box.y + box.h > self.label_h + _EPSILON:
            raise ValidationError(f"{where}: the box reaches outside the {self.label_w}×{self.label_h} mm label")
        if box.field != BARCODE and not (0 < box.min_pt <= box.max_pt and box.lines >= 1):
            raise ValidationError(f"{where}: needs 0 < min_pt ≤ max_pt and at least one line")
        if box.field != BARCODE and box.min_pt * POINT_MM * LINE_HEIGHT_EM > box.h:
            raise ValidationError(f"{where}: a line of {box.min_pt} pt text is taller than the {box.h} mm box")

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def is_sheet(self) -> bool:
        return self.per_page > 1

    def slot_origin(self, position: int) -> tuple[float, float]:
        """Top-left corner (mm, from the page corner) of the label at ``position``, row by row."""
        row, column = divmod(position, self.columns)
        return (
            self.margin_left + column * (self.label_w + self.gap_x),
            self.margin_top + row * (self.label_h + self.gap_y),
        )


def _thermal(name: str, description: str, width: float, height: float, *fields: FieldBox) -> Template:
    return Template(name, description, width, height, width, height, tuple(fields))


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        _thermal(
            "thermal-2x1",
            "Bin label, 2 × 1 in thermal roll",
            2 * INCH,
            1 * INCH,
            FieldBox("product_name", 1.5, 0.9, 47.8, 5.8, max_pt=8, min_pt=5.5, lines=2, bold=True),
            FieldBox("potency", 1.5, 6.8, 29.5, 2.6, max_pt=6.5, min_pt=4.5),
            FieldBox("total_thc", 31.5, 6.8, 17.8, 2.6, max_pt=6.5, min_pt=4.5, align="right"),
            FieldBox("barcode", 0.0, 9.6, 2 * INCH, 9.6),
            FieldBox("barcode_text", 1.5, 19.4, 30.5, 2.5, max_pt=6.5, min_pt=4.5, mono=True),
            FieldBox("expires", 32.5, 19.4, 16.8, 2.5, max_pt=6.5, min_pt=4.5, align="right"),
            FieldBox("brand_strain", 1.5, 22.0, 31.0, 2.2, max_pt=5.5, min_pt=4.5),
            FieldBox("bin", 32.5, 22.0, 16.8, 2.2, max_pt=5.5, min_pt=4.5, bold=True, align="right"),
        ),
        _thermal(
            "thermal-2.25x1.25",
            "Bin label, 2.25 × 1.25 in thermal roll",
            2.25 * INCH,
            1.25 * INCH,
            FieldBox("product_name", 1.5, 1.0, 54.15, 6.4, max_pt=9, min_pt=5.5, lines=2, bold=True),
            FieldBox("brand_strain", 1.5, 7.5, 54.15, 2.8, max_pt=7, min_pt=5),
            FieldBox("potency", 1.5, 10.4, 33.0, 2.8, max_pt=7, min_pt=5),
            FieldBox("total_thc", 35.0, 10.4, 20.65, 2.8, max_pt=7, min_pt=5, align="right"),
            FieldBox("barcode", 0.0, 13.5, 2.25 * INCH, 10.6),
            FieldBox("barcode_text", 1.5, 24.3, 54.15, 3.0, max_pt=7, min_pt=5, mono=True, align="center"),
            FieldBox("dates", 1.5, 27.6, 37.0, 2.9, max_pt=6.5, min_pt=5),
            FieldBox("bin", 39.0, 27.6, 16.65, 2.9, max_pt=6.5, min_pt=5, bold=True, align="right"),
        ),
        _thermal(
            "thermal-4x2",
            "Package label, 4 × 2 in thermal roll",
            4 * INCH,
            2 * INCH,
            FieldBox("product_name", 3.0, 2.5, 68.0, 11.0, max_pt=14, min_pt=7, lines=2, bold=True),
            FieldBox("price", 72.0, 2.5, 26.6, 7.0, max_pt=16, min_pt=8, bold=True, align="right"),
            FieldBox("category", 72.0, 9.8, 26.6, 3.7, max_pt=8, min_pt=6, align="right"),
            FieldBox("brand_strain", 3.0, 13.8, 95.6, 4.0, max_pt=9, min_pt=6),
            FieldBox("potency", 3.0, 18.2, 60.0, 4.4, max_pt=10, min_pt=6, bold=True),
            FieldBox("total_thc", 63.5, 18.2, 35.1, 4.4, max_pt=10, min_pt=6, bold=True, align="right"),
            FieldBox("barcode", 6.0, 23.6, 89.6, 15.0),
            FieldBox("barcode_text", 3.0, 38.8, 95.6, 4.2, max_pt=10, min_pt=6, mono=True, align="center"),
            FieldBox("dates", 3.0, 44.2, 62.0, 3.8, max_pt=8, min_pt=6),
            FieldBox("sku", 65.5, 44.2, 33.1, 3.8, max_pt=8, min_pt=6, align="right"),
        ),
        Template(
            "avery-5160",
            "Shelf labels, US Letter sheet of 30 (Avery 5160, 1 × 2-5/8 in)",
            page_w=8.5 * INCH,
            page_h=11 * INCH,
            label_w=2.625 * INCH,
            label_h=1 * INCH,
            columns=3,
            rows=10,
            margin_left=0.1875 * INCH,
            margin_top=0.5 * INCH,
            gap_x=0.125 * INCH,
            fields=(
                FieldBox("product_name", 2.0, 1.3, 42.5, 6.0, max_pt=9, min_pt=5.5, lines=2, bold=True),
                FieldBox("price", 46.0, 1.3, 18.7, 6.0, max_pt=14, min_pt=8, bold=True, align="right"),
                FieldBox("brand_strain", 2.0, 7.5, 44.0, 2.8, max_pt=7, min_pt=5),
                FieldBox("category", 46.5, 7.5, 18.2, 2.8, max_pt=6.5, min_pt=5, align="right"),
                FieldBox("potency", 2.0, 10.4, 38.0, 2.8, max_pt=7, min_pt=5),
                FieldBox("total_thc", 40.5, 10.4, 24.2, 2.8, max_pt=7, min_pt=5, align="right"),
                FieldBox("barcode", 2.0, 13.6, 62.675, 8.2),
                FieldBox("barcode_text", 2.0, 21.9, 62.675, 2.6, max_pt=6.5, min_pt=5, mono=True, align="center"),
            ),
        ),
    )
}


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise NotFound(f"unknown label template {name!r}; choose one of: {', '.join(TEMPLATES)}") from None
