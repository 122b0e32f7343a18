"""Labels rendered to real PDFs, rasterised at 300 dpi (pdftoppm) and read back with a barcode
reader (zbarimg): every tag must decode exactly, in its slot, and no ink may leave its box."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QMarginsF, QRect
from PySide6.QtGui import QImage, QPageLayout, QPainter, QPdfWriter

from backoffice.errors import NotFound, RuleViolation, UserError, ValidationError
from backoffice.labels.layout import PDF_DPI
from backoffice.labels.model import LabelData
from backoffice.labels.render import page_layout, render_labels, render_labels_pdf
from backoffice.labels.samples import SAMPLE_LABEL, sample_labels
from backoffice.labels.templates import TEMPLATES, Template, get_template
from backoffice.labels.testprint import render_test_print_pdf
from tests.unit.test_labels_layout import stress_label

ROOT = Path(__file__).resolve().parents[2]
DPI = 300
THERMAL = [name for name, t in TEMPLATES.items() if not t.is_sheet]
needs_tools = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None,
    reason="reading printed barcodes back needs pdftoppm (poppler-utils) and zbarimg (zbar-tools); CI installs both",
)


@pytest.fixture(autouse=True)
def _app(qapp: object) -> None:
    """Painting needs the application pytest-qt makes."""


# --- reading the output back --------------------------------------------------------------------


def rasterize(pdf: Path) -> list[Path]:
    prefix = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(prefix)], check=True)
    return sorted(pdf.parent.glob(f"{prefix.name}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def decode(images: list[Path]) -> list[list[str]]:
    """What a barcode reader finds in each image, in order."""
    done = subprocess.run(["zbarimg", "--xml", "-q", *map(str, images)], capture_output=True, text=True)
    assert done.returncode in (0, 4), done.stderr  # 4: no barcode in any image
    namespace = "{http://zbar.sourceforge.net/2008/barcode}"
    found: dict[str, list[str]] = {}
    for source in ET.fromstring(done.stdout).iter(f"{namespace}source"):
        found[source.attrib["href"]] = [data.text or "" for data in source.iter(f"{namespace}data")]
    return [found.get(str(image), []) for image in images]


def slot_images(page: Path, template: Template) -> list[Path]:
    image, px = QImage(str(page)), DPI / 25.4
    paths = []
    for position in range(template.per_page):
        x, y = template.slot_origin(position)
        crop = image.copy(
            QRect(round(x * px), round(y * px), round(template.label_w * px), round(template.label_h * px))
        )
        path = page.with_name(f"{page.stem}-slot{position:02d}.png")
        assert crop.save(str(path))
        paths.append(path)
    return paths


def _rows(path: Path) -> tuple[int, int, list[bytes]]:
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_Grayscale8)
    data, stride = bytes(image.constBits()), image.bytesPerLine()
    return image.width(), image.height(), [data[y * stride : y * stride + image.width()] for y in range(image.height())]


def is_blank(path: Path) -> bool:
    return all(min(row) > 240 for row in _rows(path)[2])


def ink_outside(page: Path, allowed_mm: Iterable[tuple[float, float, float, float]], slack_px: int = 2) -> list[int]:
    """Rows of ``page`` with dark pixels outside every allowed (x, y, w, h) millimetre box."""
    px = DPI / 25.4
    boxes = [
        (
            round(x * px) - slack_px,
            round(y * px) - slack_px,
            round((x + w) * px) + slack_px,
            round((y + h) * px) + slack_px,
        )
        for x, y, w, h in allowed_mm
    ]
    width, _, rows = _rows(page)
    bad = []
    for y, row in enumerate(rows):
        spans = sorted((max(0, x0), min(width, x1)) for x0, y0, x1, y1 in boxes if y0 <= y < y1)
        start = 0
        for x0, x1 in [*spans, (width, width)]:
            if x0 > start and min(row[start:x0]) < 128:
                bad.append(y)
                break
            start = max(start, x1)
    return bad


def field_boxes(template: Template, positions: Iterable[int]) -> list[tuple[float, float, float, float]]:
    boxes = []
    for position in positions:
        x, y = template.slot_origin(position)
        boxes += [(x + b.x, y + b.y, b.w, b.h) for b in template.fields]
    return boxes


# --- every template, every tag ------------------------------------------------------------------


@needs_tools
@pytest.mark.parametrize("name", THERMAL)
def test_thermal_rolls_print_one_scannable_label_per_page(name: str, tmp_path: Path) -> None:
    labels = [stress_label(), *sample_labels(5, start=2)]
    result = render_labels_pdf(labels, name, tmp_path / "labels.pdf")
    assert (result.labels, result.pages, result.cancelled) == (6, 6, False)
    pages = rasterize(tmp_path / "labels.pdf")
    assert decode(pages) == [[label.tag] for label in labels]


@needs_tools
def test_a_full_avery_sheet_has_30_labels_that_all_scan_in_their_slots(tmp_path: Path) -> None:
    labels = sample_labels(30)
    result = render_labels_pdf(labels, "avery-5160", tmp_path / "sheet.pdf")
    assert (result.labels, result.pages) == (30, 1)
    [page] = rasterize(tmp_path / "sheet.pdf")
    assert decode(slot_images(page, get_template("avery-5160"))) == [[label.tag] for label in labels]


@needs_tools
def test_start_position_uses_up_a_partly_used_sheet(tmp_path: Path) -> None:
    labels = sample_labels(10)
    result = render_labels_pdf(labels, "avery-5160", tmp_path / "sheet.pdf", start_position=7)
    assert (result.labels, result.pages) == (10, 1)
    [page] = rasterize(tmp_path / "sheet.pdf")
    slots = slot_images(page, get_template("avery-5160"))
    assert all(is_blank(slot) for slot in slots[:7] + slots[17:])
    assert decode(slots[7:17]) == [[label.tag] for label in labels]


@needs_tools
def test_a_run_past_the_end_of_the_sheet_continues_on_the_next(tmp_path: Path) -> None:
    labels = sample_labels(10)
    result = render_labels_pdf(labels, "avery-5160", tmp_path / "sheet.pdf", start_position=25)
    assert result.pages == 2
    first, second = rasterize(tmp_path / "sheet.pdf")
    template = get_template("avery-5160")
    assert decode(slot_images(first, template)[25:]) == [[label.tag] for label in labels[:5]]
    second_slots = slot_images(second, template)
    assert decode(second_slots[:5]) == [[label.tag] for label in labels[5:]]
    assert all(is_blank(slot) for slot in second_slots[5:])


@needs_tools
@pytest.mark.parametrize("name", TEMPLATES)
def test_test_print_scans_in_every_slot(name: str, tmp_path: Path) -> None:
    template = get_template(name)
    result = render_test_print_pdf(name, tmp_path / "test.pdf")
    assert result.pages == 1 and result.path == tmp_path / "test.pdf"
    [page] = rasterize(tmp_path / "test.pdf")
    assert decode(slot_images(page, template)) == [[SAMPLE_LABEL.barcode_value]] * template.per_page


@needs_tools
@pytest.mark.parametrize(
    ("name", "size_px"),
    [
        ("thermal-2x1", (600, 300)),
        ("thermal-2.25x1.25", (675, 375)),
        ("thermal-4x2", (1200, 600)),
        ("avery-5160", (2550, 3300)),
    ],
)
def test_pages_have_the_media_size(name: str, size_px: tuple[int, int], tmp_path: Path) -> None:
    render_labels_pdf(sample_labels(1), name, tmp_path / "one.pdf")
    [page] = rasterize(tmp_path / "one.pdf")
    image = QImage(str(page))
    assert (image.width(), image.height()) == size_px


# --- nothing leaves its box ---------------------------------------------------------------------


@needs_tools
@pytest.mark.parametrize("name", TEMPLATES)
def test_no_ink_outside_the_field_boxes_even_with_120_character_names(name: str, tmp_path: Path) -> None:
    template = get_template(name)
    labels = [stress_label(), replace(stress_label(), category="Edible", thc_mg_per_unit=Decimal("100.5"))]
    render_labels_pdf(labels, name, tmp_path / "stress.pdf")
    pages = rasterize(tmp_path / "stress.pdf")
    positions = [0] if not template.is_sheet else [0, 1]
    for page in pages:
        assert ink_outside(page, field_boxes(template, positions)) == []


@needs_tools
def test_painter_variant_places_labels_from_the_page_corner_despite_margins(tmp_path: Path) -> None:
    """A QPrinter usually starts its painter at the printable area; labels must not shift with it."""
    template = get_template("thermal-4x2")
    pdf = tmp_path / "printer.pdf"
    writer = QPdfWriter(str(pdf))
    writer.setResolution(PDF_DPI)
    layout = page_layout(template)
    layout.setMargins(QMarginsF(6, 4, 6, 4))
    assert layout.units() is QPageLayout.Unit.Millimeter
    writer.setPageLayout(layout)
    painter = QPainter(writer)
    result = render_labels(painter, sample_labels(2), template.name)
    assert painter.transform().isIdentity()  # the caller's painter is left as it was
    painter.end()
    del painter, writer
    assert (result.labels, result.pages, result.path) == (2, 2, None)
    pages = rasterize(pdf)
    assert decode(pages) == [[label.tag] for label in sample_labels(2)]
    assert all(ink_outside(page, field_boxes(template, [0])) == [] for page in pages)


# --- refusals, cancellation, progress -----------------------------------------------------------


def test_unknown_template_names_the_valid_ones_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="thermal-2x1.*avery-5160"):
        render_labels_pdf(sample_labels(1), "dymo-30252", tmp_path / "x.pdf")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "start", "why"),
    [
        ("avery-5160", -1, "0–29"),
        ("avery-5160", 30, "0–29"),
        ("thermal-2x1", 1, "one label per page"),
    ],
)
def test_start_position_out_of_range(name: str, start: int, why: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=why):
        render_labels_pdf(sample_labels(2), name, tmp_path / "x.pdf", start_position=start)
    assert list(tmp_path.iterdir()) == []


def test_nothing_to_print(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no labels"):
        render_labels_pdf([], "avery-5160", tmp_path / "x.pdf")


def test_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        render_labels_pdf(sample_labels(1), "avery-5160", tmp_path / "nope" / "x.pdf")


def test_failed_lab_results_need_a_managers_confirmation(tmp_path: Path) -> None:
    failed = replace(sample_labels(1)[0], lab_state="TestFailed")
    labels = [*sample_labels(2, start=5), failed]
    with pytest.raises(RuleViolation, match=f"{failed.tag} \\(TestFailed\\).*manager"):
        render_labels_pdf(labels, "thermal-2x1", tmp_path / "x.pdf")
    assert list(tmp_path.iterdir()) == []
    result = render_labels_pdf(labels, "thermal-2x1", tmp_path / "x.pdf", lab_override=True)
    assert result.labels == 3 and (tmp_path / "x.pdf").stat().st_size > 0


def test_a_bad_label_stops_the_run_before_anything_is_written(tmp_path: Path) -> None:
    too_long = LabelData(product_name="Shelf", barcode_value="SKU-" + "A1" * 20, lab_state="NotRequired")
    with pytest.raises(ValidationError, match="too long"):
        render_labels_pdf([*sample_labels(3), too_long], "thermal-2x1", tmp_path / "x.pdf")
    assert list(tmp_path.iterdir()) == []


def test_progress_is_reported_for_every_label(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    render_labels_pdf(sample_labels(4), "avery-5160", tmp_path / "x.pdf", progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_cancel_stops_the_run_and_leaves_no_file(tmp_path: Path) -> None:
    seen: list[int] = []
    result = render_labels_pdf(
        sample_labels(10),
        "thermal-2x1",
        tmp_path / "x.pdf",
        progress=lambda done, total: seen.append(done),
        cancel=lambda: len(seen) >= 3,
    )
    assert (result.cancelled, result.labels, result.path) == (True, 3, None)
    assert list(tmp_path.iterdir()) == []


def test_cancel_before_the_first_page(tmp_path: Path) -> None:
    result = render_labels_pdf(sample_labels(3), "avery-5160", tmp_path / "x.pdf", cancel=lambda: True)
    assert (result.cancelled, result.labels, result.pages) == (True, 0, 0)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "labels.pdf"
    out.write_bytes(b"old")
    render_labels_pdf(sample_labels(2), "thermal-2x1", out)
    assert out.read_bytes().startswith(b"%PDF") and [p.name for p in tmp_path.iterdir()] == ["labels.pdf"]


def test_renders_on_a_worker_thread(tmp_path: Path) -> None:
    """The GUI runs label jobs off its thread, with a progress dialog."""
    results: list[object] = []
    worker = threading.Thread(
        target=lambda: results.append(render_labels_pdf(sample_labels(5), "thermal-4x2", tmp_path / "x.pdf").labels)
    )
    worker.start()
    worker.join(timeout=60)
    assert results == [5]


def test_renders_without_a_display_or_an_application(tmp_path: Path) -> None:
    """The CLI has no GUI: rendering must make its own offscreen application."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    code = (
        "import sys; from backoffice.labels.testprint import render_test_print_pdf; "
        "print(render_test_print_pdf('thermal-2x1', sys.argv[1]).pages)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "t.pdf")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1" and (tmp_path / "t.pdf").exists()
