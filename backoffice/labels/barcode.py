"""Code 128 barcodes painted bar by bar.

python-barcode gives the module pattern ("1" = bar, "0" = space); we paint it with
``QPainter.fillRect`` ourselves because Qt renders python-barcode's SVG as a black block.
Bar widths are whole device dots (half dots only when whole ones cannot fit): uneven bars
are what make a printed barcode unreadable, more than thin ones.
"""

from __future__ import annotations

import math

from barcode.codex import Code128
from barcode.errors import BarcodeError
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from backoffice.errors import ValidationError

QUIET_ZONE_MODULES = 10  # each side; without it readers decode nothing
MIN_MODULE_MM = 0.125  # 5 mil, one dot of a 203 dpi thermal head: the narrowest bar we print
MAX_MODULE_MM = 0.5  # short SKUs on wide labels would otherwise get clownishly fat bars


def code128_modules(value: str) -> str:
    """The bar/space module pattern of ``value``, check character and stop bar included."""
    try:
        return Code128(value).build()[0]  # a fresh encoder each time: Code128 keeps charset state
    except BarcodeError as error:
        raise ValidationError(f"{value!r} cannot be printed as a Code 128 barcode: {error}") from None


def total_modules(pattern: str) -> int:
    return len(pattern) + 2 * QUIET_ZONE_MODULES


def module_width_px(box_px: float, modules: int, px_per_mm: float) -> float | None:
    """The widest readable bar module (in device pixels) that fits ``modules`` into ``box_px``.

    None when even the narrowest readable module does not fit.
    """
    ideal = min(box_px / modules, MAX_MODULE_MM * px_per_mm)
    minimum = MIN_MODULE_MM * px_per_mm * (1 - 1e-9)  # 203 dpi: 1 dot is 0.12512 mm, allow the rounding
    for step in (1.0, 0.5):
        width = math.floor(ideal / step) * step
        if width >= minimum:
            return width
    return None


def paint_bars(painter: QPainter, pattern: str, x: float, y: float, module: float, height: float) -> None:
    """Paint ``pattern`` with its first module at (x, y), in the painter's device-pixel coordinates.

    Adjacent bar modules are filled as one rectangle, so a bar is exactly n × module wide.
    """
    start = None
    for index, bit in enumerate(pattern + "0"):
        if bit == "1" and start is None:
            start = index
        elif bit == "0" and start is not None:
            painter.fillRect(QRectF(x + start * module, y, (index - start) * module, height), Qt.GlobalColor.black)
            start = None
