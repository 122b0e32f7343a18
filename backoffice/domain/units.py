"""Units of measure and the families they convert within."""

from __future__ import annotations

import enum
from decimal import Decimal

from backoffice.errors import ValidationError


class UnitFamily(enum.StrEnum):
    COUNT = "count"
    WEIGHT = "weight"
    VOLUME = "volume"


class Unit(enum.StrEnum):
    """METRC's unit names, spelled as METRC spells them."""

    EACH = "Each"
    GRAMS = "Grams"
    MILLIGRAMS = "Milligrams"
    KILOGRAMS = "Kilograms"
    OUNCES = "Ounces"
    POUNDS = "Pounds"
    MILLILITERS = "Milliliters"
    LITERS = "Liters"
    FLUID_OUNCES = "Fluid Ounces"

    @property
    def family(self) -> UnitFamily:
        return _FAMILY[self]


# Size of one unit in its family's base unit (each, gram, millilitre).
_BASE: dict[Unit, Decimal] = {
    Unit.EACH: Decimal(1),
    Unit.GRAMS: Decimal(1),
    Unit.MILLIGRAMS: Decimal("0.001"),
    Unit.KILOGRAMS: Decimal(1000),
    Unit.OUNCES: Decimal("28.349523125"),
    Unit.POUNDS: Decimal("453.59237"),
    Unit.MILLILITERS: Decimal(1),
    Unit.LITERS: Decimal(1000),
    Unit.FLUID_OUNCES: Decimal("29.5735295625"),
}
_FAMILY: dict[Unit, UnitFamily] = {
    Unit.EACH: UnitFamily.COUNT,
    **{u: UnitFamily.WEIGHT for u in (Unit.GRAMS, Unit.MILLIGRAMS, Unit.KILOGRAMS, Unit.OUNCES, Unit.POUNDS)},
    **{u: UnitFamily.VOLUME for u in (Unit.MILLILITERS, Unit.LITERS, Unit.FLUID_OUNCES)},
}
_ALIASES = {
    "ea": Unit.EACH,
    "each": Unit.EACH,
    "unit": Unit.EACH,
    "units": Unit.EACH,
    "pc": Unit.EACH,
    "g": Unit.GRAMS,
    "gram": Unit.GRAMS,
    "grams": Unit.GRAMS,
    "mg": Unit.MILLIGRAMS,
    "milligrams": Unit.MILLIGRAMS,
    "kg": Unit.KILOGRAMS,
    "kilograms": Unit.KILOGRAMS,
    "oz": Unit.OUNCES,
    "ounces": Unit.OUNCES,
    "ounce": Unit.OUNCES,
    "lb": Unit.POUNDS,
    "lbs": Unit.POUNDS,
    "pounds": Unit.POUNDS,
    "pound": Unit.POUNDS,
    "ml": Unit.MILLILITERS,
    "milliliters": Unit.MILLILITERS,
    "millilitres": Unit.MILLILITERS,
    "l": Unit.LITERS,
    "liters": Unit.LITERS,
    "litres": Unit.LITERS,
    "fl oz": Unit.FLUID_OUNCES,
    "floz": Unit.FLUID_OUNCES,
    "fluid ounces": Unit.FLUID_OUNCES,
}


def parse_unit(text: str) -> Unit:
    """Accept METRC's names and the common abbreviations; raise on anything else."""
    unit = _ALIASES.get(text.strip().lower())
    if unit is None:
        known = ", ".join(u.value for u in Unit)
        raise ValidationError(f"unknown unit of measure {text!r}; expected one of: {known}")
    return unit


def convert(quantity: Decimal, from_unit: Unit, to_unit: Unit) -> Decimal:
    """Convert within a family; refuse to turn a count into a weight or a weight into a volume."""
    if from_unit.family is not to_unit.family:
        raise ValidationError(
            f"cannot convert {from_unit.value} ({from_unit.family}) to {to_unit.value} ({to_unit.family})"
        )
    if from_unit is to_unit:
        return quantity
    return quantity * _BASE[from_unit] / _BASE[to_unit]
