from __future__ import annotations

from decimal import Decimal

import pytest

from backoffice.domain.numbers import money_text, parse_decimal, to_quantity
from backoffice.domain.tags import is_tag, validate_tag
from backoffice.domain.units import Unit, convert, parse_unit
from backoffice.errors import ValidationError


@pytest.mark.parametrize("tag", ["1A40E0100019269000000074", "ABCDEF012345678901234567"])
def test_valid_tags(tag: str) -> None:
    assert validate_tag(f"  {tag}\n") == tag


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("1A40E01000192690000000", "24 characters"),
        ("1a40e0100019269000000074", "upper-case"),
        ("1A40E01000192690000000-4", "letters A–Z and digits"),
    ],
)
def test_invalid_tags_say_why(raw: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        validate_tag(raw)


def test_strict_tag_pattern_is_optional() -> None:
    assert is_tag("ABCDEF012345678901234567")
    assert not is_tag("ABCDEF012345678901234567", strict=True)
    assert is_tag("1A40E0100019269000000074", strict=True)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("$1,234.56", Decimal("1234.56")),
        ("(4.00)", Decimal("-4.00")),
        (453.59, Decimal("453.59")),
        (3, Decimal(3)),
    ],
)
def test_parse_decimal_is_exact(raw: object, value: Decimal) -> None:
    assert parse_decimal(raw) == value


@pytest.mark.parametrize("raw", ["", "abc", None, True, "NaN"])
def test_parse_decimal_rejects(raw: object) -> None:
    with pytest.raises(ValidationError):
        parse_decimal(raw)


def test_quantity_precision_and_units() -> None:
    with pytest.raises(ValidationError, match="4 decimal places"):
        to_quantity(Decimal("1.00001"))
    assert parse_unit("g") is Unit.GRAMS and parse_unit("Fluid Ounces") is Unit.FLUID_OUNCES
    assert convert(Decimal(1), Unit.POUNDS, Unit.GRAMS) == Decimal("453.59237")
    with pytest.raises(ValidationError, match="cannot convert"):
        convert(Decimal(1), Unit.EACH, Unit.GRAMS)
    with pytest.raises(ValidationError, match="unknown unit"):
        parse_unit("bushel")


def test_money_reads_as_a_person_writes_it() -> None:
    assert money_text(Decimal("1234.5")) == "$1,234.50"
    assert money_text(Decimal("-25")) == "-$25.00"  # a refund, not $-25.00
    assert money_text(Decimal("0")) == "$0.00"
