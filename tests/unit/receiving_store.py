"""A store to receive into (the sample METRC packages, a quarantine room) and manifests built
line by line, shared by the receiving tests."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from backoffice.db.engine import Database
from backoffice.domain.enums import LabState
from backoffice.domain.units import Unit
from backoffice.importers.manifest_file import ParsedManifest, ParsedManifestLine
from backoffice.services import locations, metrc_packages_import
from backoffice.services.actor import Actor

SAMPLE_NUMBER = "0004412217"
GUMMIES = ("High Plains Wedding Cake Live Rosin Gummies 10mg x10", "Edible (weight - each)")
FLOWER = ("Verde Labs Granddaddy Purple Flower", "Buds")
UNKNOWN = ("Kind Harvest GMO Cookies Live Resin Cart 1g", "Vape Cartridge (weight - each)")
IN_STORE_TAG = "1A4060300000000000000001"  # a sample METRC package this store already holds


def sample_tag(n: int) -> str:
    """The n-th package (1–14) of the sample manifest."""
    return f"1A40603000000000000050{n:02d}"


def tag(n: int) -> str:
    return f"1A4099900000000000{n:06d}"


def stock_store(db: Database, admin: Actor, samples: Path) -> None:
    metrc_packages_import.import_file(db, admin, samples / "metrc_packages_active.json")
    locations.add_location(db, admin, "Quarantine", "quarantine")


def line(
    n: int,
    *,
    item: tuple[str, str] = GUMMIES,
    quantity: str = "10",
    unit: Unit = Unit.EACH,
    lab: LabState = LabState.TEST_PASSED,
    batch: str | None = None,
    code: str | None = None,
    price: str | None = "81.00",
) -> ParsedManifestLine:
    return ParsedManifestLine(
        line=n,
        tag=code or tag(n),
        item_name=item[0],
        category=item[1],
        strain="Wedding Cake",
        shipped_quantity=Decimal(quantity),
        unit=unit,
        wholesale_price=Decimal(price) if price else None,
        lab_state=lab,
        production_batch=batch,
        package_state="Shipped",
    )


def manifest(
    number: str,
    *lines: ParsedManifestLine,
    shipper: str = "Kind Harvest Manufacturing LLC",
    recipient_license: str | None = None,
) -> ParsedManifest:
    return ParsedManifest(
        manifest_number=number,
        transfer_id=None,
        delivery_id=None,
        shipper_name=shipper,
        shipper_license="C11-0000123-LIC",
        transporter_name=None,
        transporter_license=None,
        driver_name="R. Diaz",
        vehicle="Ford Transit",
        estimated_departure=None,
        estimated_arrival=None,
        recipient_name=None,
        recipient_license=recipient_license,
        source_sha256=None,
        lines=tuple(lines),
    )
