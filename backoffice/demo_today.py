"""Work waiting on the demo store's first morning, made through the services themselves:
two delivery manifests to receive (one with a product the store has never carried, so its
item must be created from the manifest line) and a vault-to-floor transfer recorded in the
ledger and queued for METRC whose packages have not been carried to the floor yet.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from backoffice.db.engine import Database
from backoffice.db.models import Item, Location, Package, PosSaleLine
from backoffice.domain.enums import LabState, LocationKind, PackageStatus
from backoffice.domain.units import Unit
from backoffice.importers.manifest_file import ParsedManifest, ParsedManifestLine
from backoffice.services import receiving, settings, transfers
from backoffice.services.actor import Actor

NEW_PRODUCT = ("Sunday Goods Mimosa Sugar Wax 1g", "Concentrate (weight - each)", "Mimosa")
TRANSFER_PACKAGES = 4


def waiting_manifests(
    db: Database, actor: Actor, rng: random.Random, today: date, tz: ZoneInfo, tags: list[str]
) -> list[str]:
    """Two manifests due this afternoon; ``tags`` are unused tags for their packages."""
    with db.read() as session:
        license_number = settings.get(session, settings.LICENSE_NUMBER)
        store_name = settings.get(session, settings.STORE_NAME)
        vendors = list(session.scalars(select(Item.vendor).distinct().order_by(Item.vendor)))
        chosen = rng.sample(vendors, 2)
        items = {v: list(session.scalars(select(Item).where(Item.vendor == v).order_by(Item.sku))) for v in chosen}
    numbers = []
    for n, vendor in enumerate(chosen):
        picked = rng.sample(items[vendor], min(12 - 6 * n, len(items[vendor])))  # a big delivery and a small one
        products = [(i.name, i.category, i.strain, i.unit, i.unit_cost) for i in picked]
        if n == 1:
            products.append((*NEW_PRODUCT, Unit.EACH, Decimal("22.00")))
        lines = tuple(
            ParsedManifestLine(
                line=k + 1,
                tag=tags.pop(),
                item_name=name,
                category=category,
                strain=strain,
                shipped_quantity=Decimal(rng.choice([112, 224]))
                if unit is Unit.GRAMS
                else Decimal(rng.choice([10, 12, 20])),
                unit=unit,
                wholesale_price=cost,
                lab_state=LabState.TEST_PASSED,
                production_batch=f"B{today:%y%m}-{rng.randint(100, 999)}",
                package_state="Shipped",
            )
            for k, (name, category, strain, unit, cost) in enumerate(products)
        )
        arrival = datetime.combine(today, time(13, 30) if n == 0 else time(15, 45), tz)
        number = f"{rng.randint(10**9, 10**10 - 1):010d}"
        receiving.import_manifest(
            db,
            actor,
            ParsedManifest(
                manifest_number=number,
                transfer_id=rng.randint(10**6, 10**7),
                delivery_id=rng.randint(10**6, 10**7),
                shipper_name=vendor,
                shipper_license=f"C11-{rng.randint(10**6, 10**7 - 1):07d}-LIC",
                transporter_name=f"{vendor} Logistics",
                transporter_license=f"C11-{rng.randint(10**6, 10**7 - 1):07d}-LIC",
                driver_name=rng.choice(["Sam Ortiz", "Dana Whitfield", "Lee Park"]),
                vehicle="White Ford Transit",
                estimated_departure=arrival - timedelta(hours=2),
                estimated_arrival=arrival,
                recipient_name=store_name,
                recipient_license=license_number,
                source_sha256=None,
                lines=lines,
            ),
        )
        numbers.append(number)
    return numbers


def recorded_transfer(db: Database, actor: Actor) -> int:
    """Vault packages of the fastest sellers, their move to the floor recorded but not made."""
    with db.read() as session:
        vault = session.scalar(select(Location.id).where(Location.kind == LocationKind.VAULT))
        sold = func.sum(PosSaleLine.quantity)
        best = select(PosSaleLine.item_id).group_by(PosSaleLine.item_id).order_by(sold.desc(), PosSaleLine.item_id)
        tags: list[str] = []
        for item_id in session.scalars(best.limit(50)):
            tag = session.scalar(
                select(Package.tag)
                .where(
                    Package.item_id == item_id,
                    Package.location_id == vault,
                    Package.status == PackageStatus.ACTIVE,
                    Package.lab_state.in_([s for s in LabState if s.sellable]),
                )
                .order_by(Package.id)
                .limit(1)
            )
            if tag is not None:
                tags.append(tag)
            if len(tags) == TRANSFER_PACKAGES:
                break
    created = transfers.create_transfer(
        db, actor, "Vault", "Sales Floor", tags, note="Morning replenishment: carry to the floor after the count"
    )
    return transfers.record(db, actor, created.id).id
