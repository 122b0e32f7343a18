"""METRC's copy of the demo store's sales: every POS receipt mirrored as a METRC receipt, then
a few planted differences on the most recent days, so reconciling one of them finds exactly
those (a sale that never synced, a quantity or amount keyed differently, a receipt METRC
holds twice) and nothing else.

The mirror is copied inside the database (INSERT … SELECT): two years of a large store are
1.5 million receipts, which Python would spend minutes converting.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import String, cast, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from backoffice.db.models import MetrcReceipt, MetrcReceiptLine, PosSaleLine, table_of
from backoffice.db.types import UtcDateTime
from backoffice.domain.enums import FindingKind
from backoffice.domain.units import Unit

RECENT_DAYS = 7
METRC_ID_OFFSET = 100_000_000  # METRC's receipt ids: the first POS line's id moved out of the way
DUPLICATE_ID_OFFSET = 200_000_000
# what each planted difference looks like to reconciliation
PLANTS = [
    FindingKind.MISSING_IN_METRC,
    FindingKind.QUANTITY_MISMATCH,
    FindingKind.AMOUNT_MISMATCH,
    FindingKind.MISSING_IN_POS,
]


@dataclass(frozen=True)
class Planted:
    """One planted difference, as the finding reconciliation should report."""

    day: date
    kind: FindingKind
    receipt_number: str
    tag: str


def mirror_pos_sales(session: Session, now: datetime) -> None:
    """One METRC receipt per POS receipt, with the same line, uploaded on time. Every demo
    receipt has one line, so a receipt takes its line's id and no join is needed (matching
    1.5 million lines to their receipts by number costs minutes on SQLite)."""
    pos, receipt, line = table_of(PosSaleLine), table_of(MetrcReceipt), table_of(MetrcReceiptLine)
    tagged = pos.c.tag.is_not(None)
    session.execute(
        insert(receipt).from_select(
            [
                "id",
                "metrc_id",
                "receipt_number",
                "external_receipt_number",
                "sold_at",
                "business_date",
                "customer_type",
                "imported_at",
            ],
            select(
                pos.c.id,
                pos.c.id + METRC_ID_OFFSET,
                literal("M") + cast(pos.c.id + METRC_ID_OFFSET, String),
                pos.c.receipt_number,
                pos.c.sold_at,
                pos.c.business_date,
                literal("Consumer"),
                literal(now, UtcDateTime()),
            )
            .where(tagged)
            .order_by(pos.c.id),
        )
    )
    session.execute(
        insert(line).from_select(
            ["receipt_id", "tag", "quantity", "unit", "amount"],
            select(pos.c.id, pos.c.tag, pos.c.quantity, pos.c.unit, pos.c.amount).where(tagged).order_by(pos.c.id),
        )
    )


def plant_differences(session: Session, rng: random.Random, today: date) -> list[Planted]:
    """Two to four differences on each of the last ``RECENT_DAYS`` days, one finding each."""
    planted: list[Planted] = []
    duplicates = 0
    for back in range(RECENT_DAYS, 0, -1):
        day = today - timedelta(days=back)
        receipts = session.execute(
            select(MetrcReceipt.id, MetrcReceipt.external_receipt_number, func.count(MetrcReceiptLine.id))
            .join(MetrcReceiptLine, MetrcReceiptLine.receipt_id == MetrcReceipt.id)
            .where(MetrcReceipt.business_date == day)
            .group_by(MetrcReceipt.id, MetrcReceipt.external_receipt_number)
            .order_by(MetrcReceipt.id)
        ).all()
        single = [(rid, number) for rid, number, lines in receipts if lines == 1]  # one finding per plant
        kinds = rng.sample(PLANTS, rng.randint(2, 4))
        for kind, (receipt_id, number) in zip(kinds, rng.sample(single, min(len(kinds), len(single))), strict=False):
            line = session.scalars(select(MetrcReceiptLine).where(MetrcReceiptLine.receipt_id == receipt_id)).one()
            if kind is FindingKind.MISSING_IN_METRC:  # the upload failed and nobody noticed
                session.execute(delete(MetrcReceiptLine).where(MetrcReceiptLine.receipt_id == receipt_id))
                session.execute(delete(MetrcReceipt).where(MetrcReceipt.id == receipt_id))
            elif kind is FindingKind.QUANTITY_MISMATCH:  # keyed by hand into METRC, one more than sold
                step = Decimal(1) if line.unit is Unit.EACH else Decimal("0.5")
                session.execute(
                    update(MetrcReceiptLine).where(MetrcReceiptLine.id == line.id).values(quantity=line.quantity + step)
                )
            elif kind is FindingKind.AMOUNT_MISMATCH:  # a discount the POS gave after the upload
                session.execute(
                    update(MetrcReceiptLine)
                    .where(MetrcReceiptLine.id == line.id)
                    .values(amount=(line.amount * Decimal("0.9")).quantize(Decimal("0.01")))
                )
            else:  # a retried upload that METRC took twice
                duplicates += 1
                original = session.get(MetrcReceipt, receipt_id)
                assert original is not None
                # ids were given, not drawn; the max exists, ``original`` is a receipt
                copy_id = session.execute(select(func.max(MetrcReceipt.id))).scalar_one() + 1
                session.execute(
                    insert(MetrcReceipt).values(
                        id=copy_id,
                        metrc_id=DUPLICATE_ID_OFFSET + duplicates,
                        receipt_number=f"M{DUPLICATE_ID_OFFSET + duplicates}",
                        external_receipt_number=number,
                        sold_at=original.sold_at + timedelta(minutes=3),
                        business_date=day,
                        customer_type="Consumer",
                        imported_at=original.imported_at,
                    )
                )
                session.execute(
                    insert(MetrcReceiptLine).values(
                        receipt_id=copy_id, tag=line.tag, quantity=line.quantity, unit=line.unit, amount=line.amount
                    )
                )
            planted.append(Planted(day, kind, number or "", line.tag))
    return planted
