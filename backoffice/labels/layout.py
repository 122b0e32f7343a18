"""Where every field of one label lands, in millimetres, before anything is painted.

Text shrinks from the box's largest size to its smallest in half-point steps until it fits;
at the smallest size it wraps onto the box's lines and the last line is elided. Fonts are
sized in pixels of 0.01 mm (``UNITS_PER_MM``), so the layout is the same on every device
and the painter only has to scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF

from backoffice.errors import ValidationError
from backoffice.labels.barcode import MIN_MODULE_MM, code128_modules, module_width_px, total_modules
from backoffice.labels.fields import BARCODE, TEXT_FIELDS
from backoffice.labels.model import LabelData
from backoffice.labels.qtapp import ensure_gui_app
from backoffice.labels.templates import POINT_MM, FieldBox, Template

UNITS_PER_MM = 100
PDF_DPI = 600  # bars snap to whole 1/600 in dots: crisp on 300 and 600 dpi printers and rasters
_SANS = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"]
_MONO = ["DejaVu Sans Mono", "Liberation Mono", "Consolas", "Courier New"]
_SLACK = 1e-6


@dataclass(frozen=True)
class Rect:
    """A rectangle in millimetres."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def contains(self, other: Rect) -> bool:
        return (
            other.x >= self.x - _SLACK
            and other.y >= self.y - _SLACK
            and other.right <= self.right + _SLACK
            and other.bottom <= self.bottom + _SLACK
        )


@dataclass(frozen=True)
class PlacedText:
    field: str
    box: Rect
    used: Rect  # the lines' extent: always inside ``box``
    lines: tuple[str, ...]
    baselines: tuple[tuple[float, float], ...]  # (x, y) of each line's baseline start, mm
    size_pt: float
    font_px: int  # font pixel size in 0.01 mm units
    bold: bool
    mono: bool


@dataclass(frozen=True)
class PlacedBarcode:
    box: Rect
    used: Rect  # bars plus quiet zones
    value: str
    pattern: str
    module_px: float  # bar module width in device pixels at the layout's dpi
    module_mm: float


@dataclass(frozen=True)
class LabelLayout:
    label: LabelData
    template: Template
    dpi: float
    texts: tuple[PlacedText, ...]
    barcode: PlacedBarcode | None

    @property
    def label_rect(self) -> Rect:
        return Rect(0.0, 0.0, self.template.label_w, self.template.label_h)

    def used_rects(self) -> dict[str, Rect]:
        rects = {text.field: text.used for text in self.texts}
        if self.barcode:
            rects[BARCODE] = self.barcode.used
        return rects


@lru_cache(maxsize=512)
def font(px: int, bold: bool, mono: bool) -> QFont:
    result = QFont()
    result.setFamilies(_MONO if mono else _SANS)
    result.setStyleHint(QFont.StyleHint.Monospace if mono else QFont.StyleHint.SansSerif)
    result.setPixelSize(px)
    result.setBold(bold)
    result.setHintingPreference(QFont.HintingPreference.PreferNoHinting)  # metrics scale linearly
    return result


@lru_cache(maxsize=512)
def _metrics(px: int, bold: bool, mono: bool) -> QFontMetricsF:
    return QFontMetricsF(font(px, bold, mono))


def _px(pt: float) -> int:
    return max(1, round(pt * POINT_MM * UNITS_PER_MM))


def _sizes(box: FieldBox) -> list[float]:
    sizes, pt = [], box.max_pt
    while pt > box.min_pt:
        sizes.append(pt)
        pt -= 0.5
    return [*sizes, box.min_pt]


def _wrap(text: str, metrics: QFontMetricsF, width: float) -> list[str]:
    """Greedy word wrap; a word wider than the line is broken between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if metrics.horizontalAdvance(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while len(word) > 1 and metrics.horizontalAdvance(word) > width:
            cut = len(word) - 1
            while cut > 1 and metrics.horizontalAdvance(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


@lru_cache(maxsize=4096)  # a print run repeats names, brands and potencies across many labels
def fit_text(field: str, text: str, box: FieldBox) -> PlacedText:
    """``text`` shrunk, wrapped and elided into ``box``."""
    width, height = box.w * UNITS_PER_MM, box.h * UNITS_PER_MM
    for pt in _sizes(box):
        px = _px(pt)
        metrics = _metrics(px, box.bold, box.mono)
        lines = _wrap(text, metrics, width)
        if len(lines) <= box.lines and len(lines) * metrics.lineSpacing() <= height:
            break
    else:  # even the smallest size needs more lines than the box has: keep what fits, elide the rest
        room = max(1, min(box.lines, int(height // metrics.lineSpacing())))
        rest = metrics.elidedText(" ".join(lines[room - 1 :]), Qt.TextElideMode.ElideRight, width)
        lines = [*lines[: room - 1], rest]
    return _place(field, box, lines, pt, px, metrics)


def _place(field: str, box: FieldBox, lines: list[str], pt: float, px: int, metrics: QFontMetricsF) -> PlacedText:
    spacing = metrics.lineSpacing() / UNITS_PER_MM
    widths = [metrics.horizontalAdvance(line) / UNITS_PER_MM for line in lines]
    block_h = spacing * len(lines)
    top = box.y + max(0.0, (box.h - block_h) / 2)  # centred vertically in its box
    xs = [box.x + {"left": 0.0, "center": (box.w - w) / 2, "right": box.w - w}[box.align] for w in widths]
    ascent = metrics.ascent() / UNITS_PER_MM
    used = Rect(min(xs), top, max(x + w for x, w in zip(xs, widths, strict=True)) - min(xs), block_h)
    return PlacedText(
        field=field,
        box=Rect(box.x, box.y, box.w, box.h),
        used=used,
        lines=tuple(lines),
        baselines=tuple((x, top + i * spacing + ascent) for i, x in enumerate(xs)),
        size_pt=pt,
        font_px=px,
        bold=box.bold,
        mono=box.mono,
    )


def _place_barcode(value: str, box: FieldBox, template: Template, dpi: float) -> PlacedBarcode:
    pattern = code128_modules(value)
    px_per_mm = dpi / 25.4
    modules = total_modules(pattern)
    module = module_width_px(box.w * px_per_mm, modules, px_per_mm)
    if module is None:
        raise ValidationError(
            f"barcode {value!r} is too long for template {template.name}: it needs "
            f"{modules * MIN_MODULE_MM:.1f} mm, the box is {box.w:.1f} mm; use a wider template"
        )
    width = modules * module / px_per_mm
    used = Rect(box.x + (box.w - width) / 2, box.y, width, box.h)
    return PlacedBarcode(Rect(box.x, box.y, box.w, box.h), used, value, pattern, module, module / px_per_mm)


def layout_label(label: LabelData, template: Template, *, dpi: float = PDF_DPI) -> LabelLayout:
    """Lay out ``label`` on ``template`` for a device of ``dpi`` (bar widths snap to its dots)."""
    ensure_gui_app()  # font metrics need one
    texts: list[PlacedText] = []
    barcode = None
    for box in template.fields:
        if box.field == BARCODE:
            barcode = _place_barcode(label.barcode_value, box, template, dpi)
        elif text := " ".join(TEXT_FIELDS[box.field](label).split()):
            texts.append(fit_text(box.field, text, box))
    return LabelLayout(label, template, dpi, tuple(texts), barcode)
