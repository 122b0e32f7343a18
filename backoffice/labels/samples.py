"""Made-up labels for the test print, template previews and label benchmarks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from backoffice.labels.model import LabelData


def worst_case_tag(number: int) -> str:
    """A valid tag whose Code 128 is as long as a tag's can be.

    Letters and digits alternate, so the encoder never gets the four digits in a row it needs
    to switch to its compact digit-pair set: 299 modules, against 222 for a typical tag.
    """
    pairs = "".join(f"{letter}{digit}" for letter, digit in zip("ABCDEFABCD", f"{number:010d}", strict=True))
    return f"1A4{pairs}F"


SAMPLE_LABEL = LabelData(
    product_name="Test print · Sample Product Name Long Enough To Wrap 3.5 g",
    barcode_value=worst_case_tag(0),
    tag=worst_case_tag(0),
    sku="TEST-0001",
    brand="Brand",
    strain="Strain",
    category="Flower",
    thc_percent=Decimal("22.5"),
    cbd_percent=Decimal("0.5"),
    total_thc_percent=Decimal("24.1"),
    price=Decimal("42"),
    packaged_date=date(2025, 1, 1),
    expiration_date=date(2026, 1, 1),
    lab_state="TestPassed",
)

_PRODUCTS = (  # name, brand, strain, category, dosed
    ("Blue Dream 3.5g", "Good Farms", "Blue Dream", "Flower", False),
    (
        "Wedding Cake Live Resin Badder 1g — Limited Small-Batch Harvest Release",
        "Alpine Extracts",
        "Wedding Cake",
        "Concentrate",
        False,
    ),
    ("Sour Watermelon Gummies 10 pk 100 mg", "Kind Bites", "Hybrid", "Edible", True),
    ("Pre-Roll 5 pk", "Good Farms", "OG Kush", "Pre-Roll", False),
)


def sample_labels(count: int, *, start: int = 1) -> list[LabelData]:
    """``count`` labels with distinct tags: flower, concentrate, edible, pre-roll in turn;
    every other tag is a worst-case (longest barcode) one."""
    labels = []
    for number in range(start, start + count):
        name, brand, strain, category, dosed = _PRODUCTS[number % len(_PRODUCTS)]
        tag = worst_case_tag(number) if number % 2 else f"1A40E01000{number:014d}"
        packaged = date(2025, 1, 1) + timedelta(days=number % 300)
        labels.append(
            LabelData(
                product_name=name,
                barcode_value=tag,
                tag=tag,
                sku=f"{10000 + number % 5000}",
                brand=brand,
                strain=strain,
                category=category,
                thc_percent=None if dosed else Decimal("21.84") + number % 7,
                cbd_percent=None if dosed else Decimal("0.06"),
                total_thc_percent=Decimal("0.31") if dosed else Decimal("24.1") + number % 7,
                thc_mg_per_unit=Decimal(10) if dosed else None,
                cbd_mg_per_unit=Decimal(0) if dosed else None,
                price=Decimal("18.00") + number % 40,
                packaged_date=packaged,
                expiration_date=packaged + timedelta(days=365),
                lab_state="TestPassed",
            )
        )
    return labels
