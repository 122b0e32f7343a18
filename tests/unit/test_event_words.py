"""Audit events and ledger rows read as sentences, never as the JSON the chain stores."""

from __future__ import annotations

from decimal import Decimal

from backoffice.db.engine import Database
from backoffice.domain.enums import LedgerKind
from backoffice.domain.units import Unit
from backoffice.services import (
    adjustments,
    audit,
    inventory,
    metrc_packages_import,
    transfers,
)
from backoffice.services.actor import SYSTEM, Actor
from backoffice.services.event_words import audit_sentence, ledger_sentence, plural


def test_known_actions_are_sentences() -> None:
    text = audit_sentence(
        "transfer.arrived",
        "package",
        "1A4000000000000000000001",
        None,
        '{"location":"Sales Floor","transfer":1,"transfer_status":"moved"}',
    )
    assert text == "Package 1A4000000000000000000001 arrived in Sales Floor (transfer #1, now moved)."
    text = audit_sentence(
        "package.adjust",
        "package",
        "1A4000000000000000000001",
        '{"quantity":"12.0000"}',
        '{"adjustment":3,"approved_by":"maria","count":null,"delta":"-2.0000","outbox":4,"quantity":"10.0000"}',
        "Theft: not on the shelf",
    )
    assert text == (
        "Adjusted package 1A4000000000000000000001 by -2: 12 → 10, approved by maria. Theft: not on the shelf."
    )
    text = audit_sentence(
        "transfer.record",
        "transfer",
        "7",
        '{"status":"draft"}',
        '{"outbox":9,"status":"recorded","tags":["A","B","C","D","E"]}',
    )
    assert text == (
        "Recorded transfer #7 (the METRC location change) for 5 packages (A, B, C and 2 more); "
        "queued for METRC as outbox #9."
    )
    received = '{"accepted":["A"],"location":"Vault","outbox":2,"rejected":{},"status":"received"}'
    assert "{" not in audit_sentence("manifest.receive", "manifest", "0004412345", '{"status":"open"}', received)


def test_unknown_and_malformed_actions_are_still_words() -> None:
    text = audit_sentence("outbox.something_new", "outbox", "12", '{"attempts":2}', '{"attempts":3,"error":"503"}')
    assert text == "Outbox something new, outbox 12: attempts 2 → 3; error 503."
    # an older event without the fields a sentence expects falls back to words, not an exception
    assert audit_sentence("manifest.import", "manifest", "1", None, '{"packages":"many"}').startswith("Manifest import")
    assert audit_sentence("user.pin_change", "user", "3", None, None) == "Changed the PIN of user #3."


def test_plural() -> None:
    assert (plural(1, "package"), plural(14, "package"), plural(0, "entry", "entries")) == (
        "1 package",
        "14 packages",
        "0 entries",
    )


def test_ledger_rows_are_sentences() -> None:
    assert (
        ledger_sentence(
            LedgerKind.RECEIVE, Decimal("112.0000"), Unit.GRAMS, None, "Vault", "manifest", None, None, "0004412345"
        )
        == "Received 112 Grams from manifest 0004412345 into Vault."
    )
    assert ledger_sentence(LedgerKind.SALE, Decimal("-3.5"), Unit.GRAMS, None, None, "pos_sale_line", 41, None) == (
        "Sold 3.5 Grams (POS sale line #41)."
    )
    assert (
        ledger_sentence(LedgerKind.TRANSFER, Decimal(0), Unit.EACH, "Vault", "Sales Floor", "transfer", 2, None)
        == "Moved from Vault to Sales Floor (transfer #2)."
    )


def test_package_history_and_audit_list_read_as_sentences(db: Database, actors: dict[str, Actor], samples) -> None:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    tag = next(
        r.tag
        for r in inventory.search_packages(db, SYSTEM, "", include_finished=False, limit=50)
        if r.location == "Vault" and r.quantity > 2
    )
    created = transfers.create_transfer(db, actors["alex"], "Vault", "Sales Floor", [tag])
    transfers.record(db, actors["alex"], created.id)
    transfers.confirm_arrival(db, actors["alex"], tag, "Sales Floor")
    adjustments.adjust(db, actors["maria"], tag, Decimal(-1), "Damage", "crushed in the drawer")
    history = inventory.package_history(db, SYSTEM, tag)
    assert all("{" not in event.detail for event in history)
    assert any(event.detail.startswith("Moved from Vault to Sales Floor") for event in history)
    assert any("arrived in Sales Floor" in event.detail for event in history)
    events = audit.list_events(db, SYSTEM, "transfer")
    assert events and all("{" not in e.sentence for e in events)


def test_outbox_entries_count_packages_in_words(db: Database, actors: dict[str, Actor], samples) -> None:
    from backoffice.services import metrc_sync

    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    vault = [
        r.tag
        for r in inventory.search_packages(db, SYSTEM, "", include_finished=False, limit=200)
        if r.location == "Vault" and r.lab_state.sellable and r.quantity > 0
    ]
    for tags in (vault[:1], vault[1:5]):
        transfers.record(
            db, actors["alex"], transfers.create_transfer(db, actors["alex"], "Vault", "Sales Floor", tags).id
        )
    one, four = metrc_sync.list_entries(db, SYSTEM)[-2:]
    assert one.summary == f"1 package: {vault[0]}"
    assert four.summary == f"4 packages: {', '.join(vault[1:4])} and 1 more"


def test_refused_pins_read_as_refusals_with_their_reason() -> None:
    assert audit_sentence("user.sign_in_failed", "user", "7", None, '{"failed_attempts": 1}', "wrong PIN") == (
        "Sign-in refused for user 7. Wrong PIN."
    )
    assert audit_sentence("user.approval_failed", "user", "mallory", None, None, "unknown user") == (
        "Approval refused for user mallory. Unknown user."
    )


def test_money_in_events_reads_as_people_write_it() -> None:
    text = audit_sentence(
        "count.submit",
        "count",
        "7",
        None,
        '{"lines_matching":9,"lines_counted":10,"unit_variance":"-2","dollar_variance":"-64.25"}',
    )
    assert text.endswith("variance -2 units (-$64.25).")
    text = audit_sentence("item.price", "item", "SKU-1", '{"price":"20"}', '{"price":"24.99"}')
    assert text == "Changed the price of SKU-1 from $20.00 to $24.99."
