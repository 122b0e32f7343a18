"""Pending to METRC, the one journal read two ways: summed per package now (the drift check)
and item by item as of a moment (a count's METRC snapshot). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from backoffice.db.engine import Database
from backoffice.db.models import OutboxEntry, utcnow
from backoffice.domain.enums import OutboxKind, OutboxStatus
from backoffice.domain.units import Unit
from backoffice.services import adjustments, metrc_packages_import, metrc_pending, outbox
from backoffice.services.actor import Actor
from backoffice.services.ledger import Doc

GUMMY = "1A4060300000000000000002"  # 12 Each
OTHER = "1A4060300000000000000010"  # 24 Each


def test_both_views_read_the_same_entries(db: Database, actors: dict[str, Actor], samples: Path) -> None:
    alex = actors["alex"]
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    waiting = adjustments.adjust(db, alex, GUMMY, "-2", "Theft", "two gone")
    sent_later = adjustments.adjust(db, alex, OTHER, "-1", "Damage", "one crushed")
    snapshot = utcnow()
    with db.transaction() as session:
        entry = session.get(OutboxEntry, sent_later.outbox_id)
        entry.status, entry.sent_at = OutboxStatus.SENT, snapshot + timedelta(minutes=5)
        # a long payload METRC took half of: only the rest is pending
        chunked = outbox.enqueue(
            session,
            alex,
            OutboxKind.ADJUST,
            [
                {
                    "Label": GUMMY,
                    "Quantity": "-1",
                    "UnitOfMeasure": "Each",
                    "AdjustmentReason": "Waste",
                    "AdjustmentDate": "2026-11-30",
                    "ReasonNote": None,
                },
                {
                    "Label": GUMMY,
                    "Quantity": "-3",
                    "UnitOfMeasure": "Each",
                    "AdjustmentReason": "Waste",
                    "AdjustmentDate": "2026-11-30",
                    "ReasonNote": None,
                },
            ],
            Doc("test", None),
            "test:chunked",
        )
        chunked.sent_elements = 1
        broken = outbox.enqueue(session, alex, OutboxKind.ADJUST, [{"Label": GUMMY}], Doc("test", None), "test:bad")
        broken_id = broken.id

    with db.read() as session:
        now = metrc_pending.pending_changes(session)
        assert now.quantity[GUMMY] == Decimal(-5) and OTHER not in now.quantity  # -2 waiting, -3 not yet taken
        units = {GUMMY: Unit.EACH, OTHER: Unit.EACH}
        items = metrc_pending.pending_to_metrc(session, [GUMMY, OTHER], units)  # now: the same entries
        assert metrc_pending.total(items[GUMMY]) == now.quantity[GUMMY] and OTHER not in items
        assert broken_id not in {i.outbox_id for i in items[GUMMY]}  # a payload it cannot read is left out
        as_of = metrc_pending.pending_to_metrc(session, [GUMMY, OTHER], units, as_of=snapshot)
    # as of the snapshot: the entry sent five minutes later was still pending then; the later ones did not exist
    assert [i.outbox_id for i in as_of[GUMMY]] == [waiting.outbox_id]
    (later,) = as_of[OTHER]
    assert later.quantity == -1 and "sent after the snapshot" in later.text and f"#{sent_later.outbox_id}" in later.text
