"""Label data, fields, templates and layout: no files, no external tools."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from backoffice.errors import NotFound, ValidationError
from backoffice.labels import fields
from backoffice.labels.barcode import MIN_MODULE_MM, QUIET_ZONE_MODULES, code128_modules, module_width_px
from backoffice.labels.layout import LabelLayout, Rect, layout_label
from backoffice.labels.model import LabelData, needing_lab_confirmation
from backoffice.labels.samples import sample_labels, worst_case_tag
from backoffice.labels.templates import TEMPLATES, FieldBox, Template, get_template

LONG_NAME = (
    "Grandaddy Purple Cold-Cured Live Rosin Badder — First Press Small-Batch Reserve "
    "(Limited Holiday Release) 1 g Jar, Lot 4"
)


@pytest.fixture(autouse=True)
def _app(qapp: object) -> None:
    """Font metrics need the application pytest-qt makes."""


def test_long_name_is_120_characters() -> None:
    assert len(LONG_NAME) == 120


def stress_label() -> LabelData:
    """Every text as long as the data allows: nothing may leave its box."""
    return replace(
        sample_labels(1)[0],
        product_name=LONG_NAME,
        brand="Northern Lights Cultivation Collective of Humboldt County",
        strain="Super Lemon Haze × Grape Ape × Wedding Cake Backcross #7",
        category="Concentrate (each)",
        thc_percent=Decimal("88.888"),
        cbd_percent=Decimal("12.345"),
        total_thc_percent=Decimal("99.999"),
        price=Decimal("1234.5"),
        sku="SKU-ABCDEFGHIJ-0123456789",
    )


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_field_stays_inside_its_box_and_the_label(name: str) -> None:
    template = get_template(name)
    for label in (stress_label(), *sample_labels(4)):
        layout = layout_label(label, template)
        boxes = {box.field: box for box in template.fields}
        for placed in layout.texts:
            box = boxes[placed.field]
            assert placed.box.contains(placed.used), (name, placed.field, placed.used, placed.box)
            assert layout.label_rect.contains(placed.box)
            assert len(placed.lines) <= box.lines
            assert box.min_pt <= placed.size_pt <= box.max_pt
        assert layout.barcode is not None and layout.barcode.box.contains(layout.barcode.used)
        assert set(layout.used_rects()) >= {"product_name", "barcode", "potency"}


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_120_character_name_wraps_then_elides(name: str) -> None:
    layout = layout_label(stress_label(), get_template(name))
    placed = next(t for t in layout.texts if t.field == "product_name")
    assert len(placed.lines) == 2
    assert placed.lines[-1].endswith("…")
    assert LONG_NAME.startswith(placed.lines[0])


def test_short_text_keeps_the_largest_size() -> None:
    template = get_template("thermal-4x2")
    layout = layout_label(replace(sample_labels(1)[0], product_name="OG"), template)
    placed = next(t for t in layout.texts if t.field == "product_name")
    assert placed.lines == ("OG",) and placed.size_pt == 14


def test_text_shrinks_before_it_elides() -> None:
    template = get_template("avery-5160")
    name = "Wedding Cake Live Resin Badder 1g Jar Reserve"
    placed = next(
        t
        for t in layout_label(replace(sample_labels(1)[0], product_name=name), template).texts
        if t.field == "product_name"
    )
    assert " ".join(placed.lines) == name and placed.size_pt < 9


def test_an_unbreakable_word_is_split_not_overflowed() -> None:
    layout = layout_label(replace(sample_labels(1)[0], product_name="X" * 120), get_template("thermal-2x1"))
    placed = next(t for t in layout.texts if t.field == "product_name")
    assert placed.box.contains(placed.used) and placed.lines[-1].endswith("…")


def test_empty_fields_take_no_room() -> None:
    label = LabelData(product_name="House Pre-Roll", barcode_value="10234", sku="10234")
    rects = layout_label(label, get_template("avery-5160")).used_rects()
    assert "price" not in rects and "brand_strain" not in rects and "barcode" in rects


# --- barcodes -----------------------------------------------------------------------------------


def test_worst_case_tag_is_the_longest_code128_a_tag_can_make() -> None:
    assert len(code128_modules(worst_case_tag(7))) == 299
    assert len(code128_modules("1A40E0100019269000000074")) == 222


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("dpi", [203, 300, 600])
def test_bars_are_whole_dots_and_readable_on_every_template(name: str, dpi: int) -> None:
    label = replace(sample_labels(1)[0], barcode_value=worst_case_tag(1))
    bars = layout_label(label, get_template(name), dpi=dpi).barcode
    assert bars is not None
    assert bars.module_mm >= MIN_MODULE_MM - 1e-3
    assert bars.module_px == int(bars.module_px) or bars.module_px * 2 == int(bars.module_px * 2)
    assert bars.used.w == pytest.approx((len(bars.pattern) + 2 * QUIET_ZONE_MODULES) * bars.module_mm)


def test_203_dpi_thermal_gets_one_dot_bars_for_a_worst_case_tag() -> None:
    bars = layout_label(
        replace(sample_labels(1)[0], barcode_value=worst_case_tag(1)), get_template("thermal-2x1"), dpi=203
    ).barcode
    assert bars is not None and bars.module_px == 1


def test_short_barcodes_are_not_blown_up() -> None:
    label = LabelData(product_name="Shelf", barcode_value="10234")
    bars = layout_label(label, get_template("thermal-4x2")).barcode
    assert bars is not None and bars.module_mm <= 0.5


def test_module_width_gives_up_when_nothing_readable_fits() -> None:
    assert module_width_px(100, 319, 600 / 25.4) is None


def test_a_barcode_too_long_for_the_box_is_refused_with_a_reason() -> None:
    label = LabelData(product_name="Shelf", barcode_value="SKU-" + "A1" * 20)
    with pytest.raises(ValidationError, match="too long for template thermal-2x1"):
        layout_label(label, get_template("thermal-2x1"))


# --- data, fields, templates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "ok"),
    [
        ("TestPassed", True),
        ("RetestPassed", True),
        ("NotRequired", True),
        ("Remediated", True),
        ("TestFailed", False),
        ("RetestFailed", False),
        ("NotSubmitted", False),
        ("SubmittedForTesting", False),
        ("", False),
        ("Bogus", False),
    ],
)
def test_lab_states_that_print_without_confirmation(state: str, ok: bool) -> None:
    label = replace(sample_labels(1)[0], lab_state=state)
    assert label.lab_ok is ok
    assert needing_lab_confirmation([label]) == ([] if ok else [label])


def test_flower_potency_is_in_percent_with_total_thc() -> None:
    label = replace(
        sample_labels(1)[0],
        category="Flower",
        thc_percent=Decimal("22.10"),
        cbd_percent=Decimal("0.054"),
        total_thc_percent=Decimal("24"),
    )
    assert fields.potency(label) == "THC 22.1% · CBD 0.05%"
    assert fields.total_thc(label) == "Total THC 24%"


def test_edible_potency_is_in_mg_per_unit() -> None:
    edible = next(label for label in sample_labels(4) if label.category == "Edible")
    assert fields.potency(edible) == "THC 10 mg · CBD 0 mg per unit"
    bare = LabelData(product_name="Gummies", barcode_value="1", category="Edible (each)")
    assert fields.potency(bare) == "THC n/a · CBD n/a per unit"


def test_price_dates_and_names() -> None:
    label = replace(sample_labels(1)[0], price=Decimal("1234.5"), brand="", strain="Kush")
    assert fields.price(label) == "$1,234.50"
    assert fields.brand_strain(label) == "Kush"
    assert fields.dates(label) == "Pkg 2025-01-02  Exp 2026-01-02"


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"barcode_value": ""}, "no barcode value"),
        ({"barcode_value": "1A4–é"}, "cannot carry"),
        ({"tag": "1a40e0100019269000000074"}, "upper-case"),
        ({"price": Decimal("-1")}, "negative"),
    ],
)
def test_bad_label_data_says_why(changes: dict[str, object], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        replace(sample_labels(1)[0], **changes)


def test_unknown_template_names_the_valid_ones() -> None:
    with pytest.raises(NotFound) as caught:
        get_template("zebra-3x1")
    for name in ("thermal-2x1", "thermal-2.25x1.25", "thermal-4x2", "avery-5160"):
        assert name in str(caught.value)


def test_avery_5160_geometry() -> None:
    sheet = get_template("avery-5160")
    assert (sheet.columns, sheet.rows, sheet.per_page) == (3, 10, 30)
    assert sheet.slot_origin(0) == pytest.approx((4.7625, 12.7))
    assert sheet.slot_origin(29) == pytest.approx((4.7625 + 2 * 69.85, 12.7 + 9 * 25.4))
    right, bottom = sheet.slot_origin(29)
    assert (right + sheet.label_w, bottom + sheet.label_h) == pytest.approx((215.9 - 4.7625, 279.4 - 12.7))


@pytest.mark.parametrize(
    ("box", "why"),
    [
        (FieldBox("nonsense", 0, 0, 10, 5), "unknown field"),
        (FieldBox("price", 45, 0, 10, 5), "outside"),
        (FieldBox("price", 0, 0, 10, 1, min_pt=6), "taller than"),
    ],
)
def test_bad_templates_are_refused(box: FieldBox, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        Template("bad", "bad", 50, 25, 50, 25, (box,))


def test_layout_reports_rects_in_label_millimetres() -> None:
    layout: LabelLayout = layout_label(sample_labels(1)[0], get_template("thermal-2x1"))
    assert layout.label_rect == Rect(0, 0, 50.8, 25.4)
    assert all(layout.label_rect.contains(rect) for rect in layout.used_rects().values())
