"""Receiving a manifest without a GUI: import, every kind of scan, quantities, accept and
reject, items created from a line, finish in one transaction, and progress that survives."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.db.engine import Database
from backoffice.db.models import (
    AuditEvent,
    Item,
    LedgerEntry,
    Location,
    Manifest,
    ManifestLine,
    OutboxEntry,
    Package,
)
from backoffice.domain.enums import (
    LabState,
    LedgerKind,
    ManifestLineState,
    ManifestStatus,
    OutboxKind,
    OutboxStatus,
    PackageStatus,
)
from backoffice.domain.units import Unit
from backoffice.errors import (
    ImportFileError,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from backoffice.services import audit, catalogue, ledger, receiving
from backoffice.services.actor import SYSTEM, Actor
from backoffice.services.catalogue import NewItem
from backoffice.services.receiving import BadScan, ScanProblem
from tests.unit.receiving_store import (
    FLOWER,
    GUMMIES,
    IN_STORE_TAG,
    SAMPLE_NUMBER,
    UNKNOWN,
    line,
    manifest,
    sample_tag,
    stock_store,
    tag,
)


@pytest.fixture
def alex(db: Database, actors: dict[str, Actor], samples: Path) -> Actor:
    stock_store(db, actors["admin"], samples)
    return actors["alex"]


def _import(db: Database, actor: Actor, *lines: receiving.ParsedManifestLine, number: str = "0009990001") -> int:
    return receiving.import_manifest(db, actor, manifest(number, *lines)).manifest_id


def _line(db: Database, actor: Actor, manifest_id: int, code: str) -> receiving.LineView:
    return next(ln for ln in receiving.get_manifest(db, actor, manifest_id).lines if ln.tag == code)


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --- import -----------------------------------------------------------------------------------


def test_sample_manifest_imports_with_header_lines_and_item_matches(db: Database, alex: Actor, samples: Path) -> None:
    result = receiving.import_file(db, alex, samples / "metrc_incoming_transfer.json")
    assert (result.manifest_number, result.packages, result.already_imported) == (SAMPLE_NUMBER, 14, False)
    assert result.unknown_items == 3
    view = receiving.get_manifest(db, alex, result.manifest_id)
    assert (view.shipper_name, view.shipper_license) == ("Verde Labs Distribution", "C11-0000456-LIC")
    assert (view.driver_name, view.vehicle) == ("J. Alvarez", "Ford Transit (plate 8ABC123)")
    assert view.estimated_arrival is not None and view.estimated_arrival.isoformat() == "2026-11-20T21:30:00+00:00"
    assert view.imported_by == "alex" and view.status is ManifestStatus.OPEN
    first = view.lines[0]
    assert (first.tag, first.shipped_quantity, first.unit, first.wholesale_price) == (
        sample_tag(1),
        Decimal(10),
        Unit.EACH,
        Decimal("207.00"),
    )
    assert first.problem is ScanProblem.UNKNOWN_ITEM and first.item_id is None
    assert view.lines[3].item_name == FLOWER[0] and view.lines[3].item_sku is not None
    assert all(ln.state is ManifestLineState.PENDING for ln in view.lines)
    with db.read() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "manifest.import")).one()
    assert event.entity_id == SAMPLE_NUMBER and '"packages":14' in (event.after or "")


def test_a_manifest_imported_again_is_recognised_not_doubled(db: Database, alex: Actor, samples: Path) -> None:
    first = receiving.import_file(db, alex, samples / "metrc_incoming_transfer.json")
    again = receiving.import_file(db, alex, samples / "metrc_incoming_transfer.json")
    as_csv = receiving.import_file(db, alex, samples / "metrc_incoming_transfer.csv")
    assert again.already_imported and as_csv.already_imported
    assert again.manifest_id == as_csv.manifest_id == first.manifest_id
    assert (_count(db, Manifest), _count(db, ManifestLine)) == (1, 14)


def test_same_number_with_other_packages_is_refused(db: Database, alex: Actor) -> None:
    _import(db, alex, line(1), line(2))
    with pytest.raises(RuleViolation, match="other packages: this file has 1 tag.*lacks 1"):
        _import(db, alex, line(1), line(3))
    assert _count(db, ManifestLine) == 2


def test_manifest_for_another_store_is_refused(db: Database, alex: Actor) -> None:
    parsed = manifest("0009990002", line(1), recipient_license="C10-0000999-LIC")
    with pytest.raises(RuleViolation, match="addressed to .*C10-0000999-LIC.*not to this store"):
        receiving.import_manifest(db, alex, parsed)
    assert _count(db, Manifest) == 0


def _csv(samples: Path) -> list[str]:
    return (samples / "metrc_incoming_transfer.csv").read_text(encoding="utf-8-sig").splitlines()


@pytest.mark.parametrize("kind", ["bad json", "missing column", "wrong tag", "duplicate tag", "lower-case tag"])
def test_malformed_files_say_what_is_wrong_and_import_nothing(
    db: Database, alex: Actor, samples: Path, tmp_path: Path, kind: str
) -> None:
    rows = _csv(samples)
    path = tmp_path / "manifest.csv"
    if kind == "bad json":
        path = tmp_path / "manifest.json"
        path.write_text((samples / "metrc_incoming_transfer.json").read_text()[:-40])
        expected = "is not valid JSON"
    elif kind == "missing column":
        path.write_text("\n".join(",".join(r.split(",")[:7] + r.split(",")[8:]) for r in rows))
        expected = "Shipped Qty"
    elif kind == "wrong tag":
        path.write_text("\n".join([rows[0], rows[1].replace(sample_tag(1), "1A40603000000000005001"), *rows[2:]]))
        expected = "line 2, field 'Package'"
    elif kind == "duplicate tag":
        path.write_text("\n".join([*rows, rows[3]]))
        expected = f"tag {sample_tag(3)} appears twice"
    else:
        path.write_text("\n".join([rows[0], rows[1].replace(sample_tag(1), sample_tag(1).lower()), *rows[2:]]))
        expected = "upper-case"
    with pytest.raises(ImportFileError) as caught:
        receiving.import_file(db, alex, path)
    assert expected in str(caught.value)
    assert (_count(db, Manifest), _count(db, ManifestLine)) == (0, 0)


def test_csv_with_bom_crlf_and_quoted_commas_imports(db: Database, alex: Actor, samples: Path, tmp_path: Path) -> None:
    rows = _csv(samples)
    rows[4] = rows[4].replace("Verde Labs Granddaddy Purple Flower", '"Verde Labs Granddaddy Purple Flower, Big Bud"')
    path = tmp_path / "manifest.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(rows).encode() + b"\r\n")
    result = receiving.import_file(db, alex, path)
    view = receiving.get_manifest(db, alex, result.manifest_id)
    assert result.packages == 14 and view.lines[3].item_name == "Verde Labs Granddaddy Purple Flower, Big Bud"
    assert view.lines[3].problem is ScanProblem.UNKNOWN_ITEM  # another name: not the catalogue's flower


def test_only_receivers_may_import_or_scan(db: Database, alex: Actor, actors: dict[str, Actor]) -> None:
    pat = actors["pat"]
    with pytest.raises(PermissionDenied, match="pat \\(purchasing\\) may not receive manifests"):
        receiving.import_manifest(db, pat, manifest("0009990003", line(1)))
    manifest_id = _import(db, alex, line(1))
    with pytest.raises(PermissionDenied):
        receiving.scan(db, pat, manifest_id, tag(1))


# --- scans ------------------------------------------------------------------------------------


def test_scan_ticks_the_line_at_the_shipped_quantity(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, line(1), line(2, item=FLOWER, quantity="453.59", unit=Unit.GRAMS))
    result = receiving.scan(db, alex, manifest_id, f"  {tag(2)}\n")
    assert result.ok and (result.scanned, result.total) == (1, 2)
    assert result.message == f"{tag(2)} ticked: {FLOWER[0]}, 453.59 Grams (1/2 scanned)."
    seen = _line(db, alex, manifest_id, tag(2))
    assert (seen.state, seen.received_quantity, seen.scanned_by) == (
        ManifestLineState.SCANNED,
        Decimal("453.59"),
        "alex",
    )
    assert seen.scanned_at is not None and seen.difference is None


def test_every_bad_scan_has_its_own_message_and_ticks_nothing(db: Database, alex: Actor) -> None:
    here = _import(db, alex, line(1), line(2))
    _import(db, alex, line(3), number="0009990009")
    receiving.scan(db, alex, here, tag(1))
    cases = [
        (
            tag(9),
            ScanProblem.NOT_ON_MANIFEST,
            f"Tag {tag(9)} is not on manifest 0009990001. Do not accept it: set "
            "the package aside and call the shipper, Kind Harvest Manufacturing "
            "LLC (license C11-0000123-LIC).",
        ),
        (
            tag(3),
            ScanProblem.ON_OTHER_MANIFEST,
            f"Tag {tag(3)} is not on manifest 0009990001: it is on manifest "
            "0009990009 from Kind Harvest Manufacturing LLC, which is also open.",
        ),
        (tag(1), ScanProblem.ALREADY_SCANNED, f"Tag {tag(1)} ({GUMMIES[0]}) was already scanned at "),
    ]
    for code, problem, message in cases:
        with pytest.raises(BadScan) as caught:
            receiving.scan(db, alex, here, code)
        assert caught.value.problem is problem and caught.value.tag == code
        assert str(caught.value).startswith(message)
    assert "by alex. A package is scanned once" in _scan_error(db, alex, here, tag(1))
    with pytest.raises(ValidationError, match="not a METRC tag: a METRC tag has 24 characters"):
        receiving.scan(db, alex, here, "1A40")
    view = receiving.get_manifest(db, alex, here)
    assert [ln.state for ln in view.lines] == [ManifestLineState.SCANNED, ManifestLineState.PENDING]


def _scan_error(db: Database, actor: Actor, manifest_id: int, code: str) -> str:
    with pytest.raises(BadScan) as caught:
        receiving.scan(db, actor, manifest_id, code)
    return str(caught.value)


@pytest.mark.parametrize(
    ("lab", "problem", "words"),
    [
        (LabState.TEST_FAILED, ScanProblem.FAILED_LAB, "failed lab testing (TestFailed). It may not be accepted"),
        (LabState.RETEST_FAILED, ScanProblem.FAILED_LAB, "failed lab testing (RetestFailed)"),
        (LabState.SUBMITTED_FOR_TESTING, ScanProblem.ON_HOLD, "is on hold: its lab testing is not finished"),
        (LabState.NOT_SUBMITTED, ScanProblem.ON_HOLD, "(NotSubmitted). Untested product may not be accepted"),
    ],
)
def test_failed_lab_and_on_hold_packages_are_ticked_but_stopped(
    db: Database, alex: Actor, lab: LabState, problem: ScanProblem, words: str
) -> None:
    manifest_id = _import(db, alex, line(1, lab=lab))
    result = receiving.scan(db, alex, manifest_id, tag(1))
    assert not result.ok and result.problem is problem
    assert result.message.startswith(f"STOP: package {tag(1)}") and words in result.message
    with pytest.raises(RuleViolation, match="nothing was accepted"):
        receiving.accept(db, alex, manifest_id, [tag(1)])
    assert _line(db, alex, manifest_id, tag(1)).state is ManifestLineState.SCANNED


def test_unknown_item_and_tag_already_in_store_each_get_their_message(db: Database, alex: Actor) -> None:
    manifest_id = _import(
        db, alex, line(1, item=UNKNOWN), line(2, code=IN_STORE_TAG), line(3, item=(GUMMIES[0], "Gummies"))
    )
    unknown = receiving.scan(db, alex, manifest_id, tag(1))
    assert unknown.problem is ScanProblem.UNKNOWN_ITEM
    assert unknown.message == (
        f"Item “{UNKNOWN[0]}” ({UNKNOWN[1]}) of package {tag(1)} is not in this store's "
        "catalogue. Create the item from this manifest line (Create items…; receive "
        "--create-items), then accept the package, or reject it."
    )
    known = receiving.scan(db, alex, manifest_id, IN_STORE_TAG)
    assert known.problem is ScanProblem.IN_INVENTORY
    assert known.message.startswith(f"STOP: tag {IN_STORE_TAG} is already a package in this store (active, Vault)")
    other_category = receiving.scan(db, alex, manifest_id, tag(3))
    assert f"The catalogue has “{GUMMIES[0]}” as {GUMMIES[1]}, not Gummies." in other_category.message


def test_a_received_manifest_takes_no_more_scans(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, line(1))
    receiving.scan(db, alex, manifest_id, tag(1))
    receiving.accept_scanned(db, alex, manifest_id)
    receiving.finish(db, alex, manifest_id)
    with pytest.raises(BadScan) as caught:
        receiving.scan(db, alex, manifest_id, tag(1))
    assert caught.value.problem is ScanProblem.MANIFEST_RECEIVED
    with pytest.raises(RuleViolation, match="was received on .*can no longer change"):
        receiving.reject(db, alex, manifest_id, tag(1), "Damaged", "crushed")


# --- quantities and expiration dates -----------------------------------------------------------


def test_received_quantity_differing_from_shipped_needs_a_note(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, line(1, item=FLOWER, quantity="453.59", unit=Unit.GRAMS), line(2))
    with pytest.raises(RuleViolation, match="has not been scanned; scan the package to change its received"):
        receiving.set_received_quantity(db, alex, manifest_id, tag(1), "452.8", "scale")
    receiving.scan(db, alex, manifest_id, tag(1))
    with pytest.raises(ValidationError, match="452.8 Grams received but 453.59 shipped. Say why in a note"):
        receiving.set_received_quantity(db, alex, manifest_id, tag(1), "452.8")
    with pytest.raises(ValidationError, match="must be more than 0; .* reject it"):
        receiving.set_received_quantity(db, alex, manifest_id, tag(1), "0", "empty bag")
    with pytest.raises(ValidationError, match="more than 4 decimal places"):
        receiving.set_received_quantity(db, alex, manifest_id, tag(1), "452.80001", "scale")
    change = receiving.set_received_quantity(db, alex, manifest_id, tag(1), "452.8", "  scale shows\n452.8 g ")
    assert change.lines[0].received_quantity == Decimal("452.8") and change.lines[0].note == "scale shows 452.8 g"
    assert change.lines[0].difference == Decimal("-0.79")
    receiving.accept(db, alex, manifest_id, [tag(1)])
    with pytest.raises(RuleViolation, match="already accepted; undo that decision"):
        receiving.set_received_quantity(db, alex, manifest_id, tag(1), "453.59")


def test_expiration_date_applies_to_the_same_batch(db: Database, alex: Actor) -> None:
    manifest_id = _import(
        db,
        alex,
        line(1, batch="PB-1"),
        line(2, batch="PB-1"),
        line(3, batch="PB-2"),
        line(4, item=FLOWER, batch="PB-1"),
        line(5, batch="PB-1"),
    )
    receiving.scan(db, alex, manifest_id, tag(2))
    receiving.accept(db, alex, manifest_id, [tag(2)])
    receiving.reject(db, alex, manifest_id, tag(5), "Damaged", "wet")
    change = receiving.set_expiration(db, alex, manifest_id, tag(1), date(2027, 3, 1))
    assert [ln.tag for ln in change.lines] == [tag(1), tag(2)]
    receiving.set_expiration(db, alex, manifest_id, tag(3), date(2027, 5, 1), same_batch=False)
    dates = {ln.tag: ln.expiration_date for ln in receiving.get_manifest(db, alex, manifest_id).lines}
    assert dates == {
        tag(1): date(2027, 3, 1),
        tag(2): date(2027, 3, 1),
        tag(3): date(2027, 5, 1),
        tag(4): None,
        tag(5): None,
    }
    with pytest.raises(RuleViolation, match="is rejected: it is not received, so it needs no expiration date"):
        receiving.set_expiration(db, alex, manifest_id, tag(5), date(2027, 3, 1))


# --- accept, reject, undo ----------------------------------------------------------------------


def test_accept_needs_a_scan_and_is_all_or_nothing(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, line(1), line(2), line(3, item=UNKNOWN))
    receiving.scan(db, alex, manifest_id, tag(1))
    with pytest.raises(RuleViolation, match=f"nothing was accepted: {tag(2)} has not been scanned"):
        receiving.accept(db, alex, manifest_id, [tag(1), tag(2)])
    assert _line(db, alex, manifest_id, tag(1)).state is ManifestLineState.SCANNED
    with pytest.raises(NotFound, match=f"not on manifest 0009990001: {tag(8)}"):
        receiving.accept(db, alex, manifest_id, [tag(8)])
    receiving.scan(db, alex, manifest_id, tag(2))
    receiving.scan(db, alex, manifest_id, tag(3))
    result = receiving.accept_scanned(db, alex, manifest_id)
    assert result.accepted == [tag(1), tag(2)]
    assert [t for t, _ in result.left] == [tag(3)] and "not in this store's catalogue" in result.left[0][1]
    accepted = _line(db, alex, manifest_id, tag(1))
    assert (accepted.state, accepted.decided_by) == (ManifestLineState.ACCEPTED, "alex")


def test_reject_needs_a_listed_reason_and_a_note(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, line(1), line(2), line(3))
    with pytest.raises(ValidationError, match="choose a rejection reason from the list: Short-shipped, "):
        receiving.reject(db, alex, manifest_id, tag(1), "Smells off", "note")
    with pytest.raises(ValidationError, match="say in a note why"):
        receiving.reject(db, alex, manifest_id, tag(1), "Damaged", "   ")
    receiving.reject(db, alex, manifest_id, tag(1), "Not in the delivery", "not on the truck; told the driver")
    missing = _line(db, alex, manifest_id, tag(1))
    assert (missing.state, missing.reject_reason, missing.received_quantity, missing.scanned_at) == (
        ManifestLineState.REJECTED,
        "Not in the delivery",
        None,
        None,
    )
    receiving.scan(db, alex, manifest_id, tag(3))  # scanned, then refused: it shows no "received 10"
    refused = receiving.reject(db, alex, manifest_id, tag(3), "Damaged", "crushed box").lines[0]
    assert (refused.state, refused.received_quantity) == (ManifestLineState.REJECTED, None)
    receiving.scan(db, alex, manifest_id, tag(2))
    with pytest.raises(ValidationError, match="12 received is not short of 10 shipped"):
        receiving.reject(db, alex, manifest_id, tag(2), "Short-shipped", "count", received_quantity="12")
    change = receiving.reject(
        db, alex, manifest_id, tag(2), "Short-shipped", "8 of 10 in the box", received_quantity="8"
    )
    assert (change.lines[0].received_quantity, change.lines[0].note) == (Decimal(8), "8 of 10 in the box")
    with pytest.raises(RuleViolation, match="already rejected; undo that decision to reject it"):
        receiving.reject(db, alex, manifest_id, tag(2), "Damaged", "again")
    with db.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "manifest.reject").order_by(AuditEvent.id.desc())
        ).first()
    assert event is not None and event.entity_id == tag(2) and event.reason == "Short-shipped: 8 of 10 in the box"


def test_undo_takes_a_decision_back(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, line(1), line(2))
    receiving.scan(db, alex, manifest_id, tag(1))
    receiving.accept(db, alex, manifest_id, [tag(1)])
    receiving.reject(db, alex, manifest_id, tag(2), "Damaged", "wet box")
    assert receiving.undo_decision(db, alex, manifest_id, tag(1)).lines[0].state is ManifestLineState.SCANNED
    undone = receiving.undo_decision(db, alex, manifest_id, tag(2)).lines[0]
    assert (undone.state, undone.reject_reason, undone.note) == (ManifestLineState.PENDING, None, None)
    with pytest.raises(RuleViolation, match="is pending: there is no decision to undo"):
        receiving.undo_decision(db, alex, manifest_id, tag(2))


def test_item_created_from_a_line_links_every_open_line_of_it(db: Database, alex: Actor) -> None:
    first = _import(db, alex, line(1, item=UNKNOWN, quantity="10", price="207.00"), line(2, item=UNKNOWN))
    second = _import(db, alex, line(3, item=(UNKNOWN[0].upper(), UNKNOWN[1])), number="0009990002")
    receiving.scan(db, alex, first, tag(1))
    [created] = catalogue.create_items_from_lines(db, alex, first, [NewItem(tag(1))], no_price_ok=True).items
    assert created.created and created.lines_linked == 3 and created.sku == f"R-{tag(1)[-10:]}"
    with db.read() as session:
        item = session.get(Item, created.item_id)
        assert item is not None
        assert (item.name, item.category, item.unit, item.vendor, item.unit_cost, item.price) == (
            UNKNOWN[0],
            UNKNOWN[1],
            Unit.EACH,
            "Kind Harvest Manufacturing LLC",
            Decimal("20.70"),
            Decimal(0),
        )
    assert _line(db, alex, second, tag(3)).item_sku == created.sku
    assert receiving.accept(db, alex, first, [tag(1)]).accepted == [tag(1)]
    with pytest.raises(RuleViolation, match="already matched to item R-"):
        catalogue.create_items_from_lines(db, alex, first, [NewItem(tag(2))], no_price_ok=True)
    other = _import(db, alex, line(4, item=("Brand New Thing", "Edible (weight - each)")), number="0009990003")
    with pytest.raises(ValidationError, match=f"SKU {created.sku} is taken"):
        catalogue.create_items_from_lines(db, alex, other, [NewItem(tag(4), sku=created.sku)], no_price_ok=True)
    [mine] = catalogue.create_items_from_lines(
        db, alex, other, [NewItem(tag(4), sku="EDI-NEW-1")], no_price_ok=True
    ).items
    assert mine.sku == "EDI-NEW-1"


# --- finish -----------------------------------------------------------------------------------


def test_finish_waits_for_every_line_to_be_decided(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, *(line(n) for n in range(1, 8)))
    receiving.scan(db, alex, manifest_id, tag(1))
    receiving.accept_scanned(db, alex, manifest_id)
    with pytest.raises(RuleViolation) as caught:
        receiving.finish(db, alex, manifest_id)
    assert str(caught.value).startswith(
        f"6 of 7 packages on manifest 0009990001 are neither accepted nor rejected: "
        f"{tag(2)}, {tag(3)}, {tag(4)}, {tag(5)}, {tag(6)} and 1 more."
    )
    assert _count(db, Package) == 120


def test_finish_receives_in_one_transaction(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, line(1), line(2, item=FLOWER, quantity="453.59", unit=Unit.GRAMS), line(3))
    for code in (tag(1), tag(2)):
        receiving.scan(db, alex, manifest_id, code)
    receiving.set_received_quantity(db, alex, manifest_id, tag(2), "452.8", "scale shows 452.8 g")
    receiving.accept_scanned(db, alex, manifest_id)
    receiving.reject(db, alex, manifest_id, tag(3), "Not in the delivery", "not on the truck")
    result = receiving.finish(db, alex, manifest_id)
    assert (result.location, result.rejected, [p.tag for p in result.received]) == ("Vault", 1, [tag(1), tag(2)])
    assert [p.quantity for p in result.received] == [Decimal(10), Decimal("452.8")]
    with db.read() as session:
        vault = session.scalar(select(Location).where(Location.name == "Vault"))
        packages = {p.tag: p for p in session.scalars(select(Package).where(Package.tag.in_([tag(1), tag(2), tag(3)])))}
        assert set(packages) == {tag(1), tag(2)}
        flower = packages[tag(2)]
        assert (flower.quantity, flower.unit, flower.location_id, flower.status) == (
            Decimal("452.8"),
            Unit.GRAMS,
            vault.id,
            PackageStatus.ACTIVE,
        )
        assert (flower.received_from_manifest, flower.lab_state) == ("0009990001", LabState.TEST_PASSED)
        rows = session.scalars(
            select(LedgerEntry).where(LedgerEntry.doc_type == "manifest").order_by(LedgerEntry.id)
        ).all()
        assert [(r.kind, r.quantity_delta, r.from_location_id, r.to_location_id, r.doc_id) for r in rows] == [
            (LedgerKind.RECEIVE, Decimal(10), None, vault.id, manifest_id),
            (LedgerKind.RECEIVE, Decimal("452.8"), None, vault.id, manifest_id),
        ]
        assert rows[1].note == "scale shows 452.8 g"
        entry = session.get(OutboxEntry, result.outbox_id)
        assert entry is not None and (entry.kind, entry.status) == (OutboxKind.RECEIVE_CONFIRM, OutboxStatus.PENDING)
        sheet = json.loads(entry.payload)
        assert [(e["Label"], e["Decision"], e["ReceivedQuantity"], e["RejectionReason"]) for e in sheet] == [
            (tag(1), "Accept", "10", None),
            (tag(2), "Accept", "452.8", None),
            (tag(3), "Reject", None, "Not in the delivery"),
        ]
        assert sheet[0]["Location"] == "Vault" and sheet[0]["ManifestNumber"] == "0009990001"
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "manifest.receive")).one()
        assert json.loads(event.after or "{}")["rejected"] == {tag(3): "Not in the delivery"}
    assert ledger.check_balances(db, SYSTEM) == [] and audit.verify(db, SYSTEM).ok
    view = receiving.get_manifest(db, alex, manifest_id)
    assert (view.status, view.finished_by, view.receiving_location) == (ManifestStatus.RECEIVED, "alex", "Vault")
    assert all(ln.problem is None for ln in view.lines)
    with pytest.raises(RuleViolation, match="can no longer change"):
        receiving.finish(db, alex, manifest_id)


def test_finish_into_another_room_and_never_onto_the_floor(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, line(1))
    receiving.scan(db, alex, manifest_id, tag(1))
    receiving.accept_scanned(db, alex, manifest_id)
    with pytest.raises(RuleViolation, match="Sales Floor is a sales floor: receive into the vault"):
        receiving.finish(db, alex, manifest_id, location="Sales Floor")
    with pytest.raises(NotFound, match="there is no location 'Dock'; locations are: Quarantine, Sales Floor, Vault"):
        receiving.finish(db, alex, manifest_id, location="Dock")
    result = receiving.finish(db, alex, manifest_id, location="Quarantine")
    assert result.location == "Quarantine" and result.received[0].bin is None  # bins are vault bins


def test_a_delivery_refused_whole_is_finished_with_no_packages(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, line(1), line(2))
    for code in (tag(1), tag(2)):
        receiving.reject(db, alex, manifest_id, code, "Not ordered", "wrong store's order")
    result = receiving.finish(db, alex, manifest_id)
    assert (result.received, result.rejected) == ([], 2)
    with db.read() as session:
        entry = session.get(OutboxEntry, result.outbox_id)
        assert entry is not None and [e["Decision"] for e in json.loads(entry.payload)] == ["Reject", "Reject"]
    assert _count(db, Package) == 120


def test_a_tag_received_elsewhere_meanwhile_stops_the_finish(db: Database, alex: Actor) -> None:
    first = _import(db, alex, line(1))
    second = _import(db, alex, line(1), number="0009990002")
    for manifest_id in (first, second):
        receiving.scan(db, alex, manifest_id, tag(1))
        receiving.accept_scanned(db, alex, manifest_id)
    receiving.finish(db, alex, first)
    with pytest.raises(RuleViolation, match=f"nothing was received: STOP: tag {tag(1)} is already a package"):
        receiving.finish(db, alex, second)
    assert receiving.get_manifest(db, alex, second).status is ManifestStatus.OPEN


def test_bins_by_product_type_and_expiration(db: Database, alex: Actor) -> None:
    with db.transaction() as session:  # vault edibles: two bins by expiry, and one for the gummies without dates
        vault = session.scalar(select(Location.id).where(Location.name == "Vault"))
        edibles = session.scalars(
            select(Package)
            .join(Item)
            .where(Item.category == GUMMIES[1], Package.location_id == vault)
            .order_by(Package.id)
        ).all()
        for n, pkg in enumerate(edibles):
            if pkg.item.name == GUMMIES[0]:
                pkg.bin, pkg.expiration_date = "V-EDI-03", None
            else:
                pkg.bin = "V-EDI-01" if n % 2 else "V-EDI-02"
                pkg.expiration_date = date(2027, 1, 10) if n % 2 else date(2027, 9, 1)
    manifest_id = _import(db, alex, line(1), line(2), line(3), line(4, item=FLOWER, quantity="453.59", unit=Unit.GRAMS))
    for n in range(1, 5):
        receiving.scan(db, alex, manifest_id, tag(n))
    receiving.set_expiration(db, alex, manifest_id, tag(1), date(2027, 1, 20))
    receiving.set_expiration(db, alex, manifest_id, tag(2), date(2027, 8, 1))
    receiving.accept_scanned(db, alex, manifest_id)
    assert receiving.suggest_bins(db, alex, manifest_id) == {
        tag(1): "V-EDI-01",
        tag(2): "V-EDI-02",
        tag(3): "V-EDI-03",
        tag(4): "V-BUD-01",
    }
    result = receiving.finish(db, alex, manifest_id)
    assert {p.tag: p.bin for p in result.received}[tag(2)] == "V-EDI-02"
    with db.read() as session:
        pkg = session.scalar(select(Package).where(Package.tag == tag(1)))
        assert pkg is not None and (pkg.bin, pkg.expiration_date) == ("V-EDI-01", date(2027, 1, 20))
    assert _line(db, alex, manifest_id, tag(4)).bin == "V-BUD-01"


def test_accept_all_for_paper_checked_deliveries(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, line(1), line(2, item=UNKNOWN), line(3, lab=LabState.TEST_FAILED))
    with pytest.raises(RuleViolation) as caught:
        receiving.accept_all(db, alex, manifest_id)
    assert "2 package(s) of manifest 0009990001 may not be accepted as they are; nothing was received" in str(
        caught.value
    )
    assert "failed lab testing" in str(caught.value) and "not in this store's catalogue" in str(caught.value)
    receiving.reject(db, alex, manifest_id, tag(2), "Not ordered", "not on our PO")
    receiving.reject(db, alex, manifest_id, tag(3), "Failed lab testing", "COA says failed")
    result = receiving.accept_all(db, alex, manifest_id)
    assert [p.tag for p in result.received] == [tag(1)] and result.rejected == 2
    with db.read() as session:
        row = session.scalars(select(LedgerEntry).where(LedgerEntry.doc_type == "manifest")).one()
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert (row.kind, row.quantity_delta, row.note) == (LedgerKind.RECEIVE, Decimal(10), "checked on paper")
    assert actions[-2:] == ["manifest.accept", "manifest.receive"]


def test_progress_survives_closing_the_app(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, line(1), line(2), line(3))
    receiving.scan(db, alex, manifest_id, tag(1))
    receiving.scan(db, alex, manifest_id, tag(3))
    receiving.reject(db, alex, manifest_id, tag(3), "Damaged", "crushed corner")
    db.dispose()  # the app is gone; another process opens the same database
    reopened = Database(db.url.render_as_string(hide_password=False))
    try:
        [summary] = receiving.list_manifests(reopened, alex, open_only=True)
        assert (summary.manifest_number, summary.packages, summary.scanned, summary.decided) == ("0009990001", 3, 2, 1)
        states = [ln.state for ln in receiving.get_manifest(reopened, alex, manifest_id).lines]
        assert states == [ManifestLineState.SCANNED, ManifestLineState.PENDING, ManifestLineState.REJECTED]
        assert receiving.scan(reopened, alex, manifest_id, tag(2)).scanned == 3
    finally:
        reopened.dispose()


def test_find_manifest_by_number_with_or_without_leading_zeros(db: Database, alex: Actor) -> None:
    manifest_id = _import(db, alex, line(1))
    assert receiving.find_manifest(db, "9990001") == receiving.find_manifest(db, "0009990001") == manifest_id
    with pytest.raises(NotFound, match="there is no manifest 123; import it first"):
        receiving.find_manifest(db, "123")
