"""Accuracy report figures, on SQLite and PostgreSQL: hand-computed on the tiny store, and a
count made through the Cycle Count services whose categories add up to its frozen figures."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import CountSession, Package
from backoffice.domain.enums import LedgerKind
from backoffice.errors import PermissionDenied, ValidationError
from backoffice.services import adjustments, counts, ledger, metrc_packages_import, prices, settings
from backoffice.services.actor import Actor
from backoffice.services.reports import accuracy_report
from backoffice.services.reports.accuracy import UNKNOWN_CATEGORY
from tests.unit import reports_dataset as ds


@pytest.fixture
def tiny(db: Database, actors: dict[str, Actor]) -> ds.Store:
    return ds.build_tiny_store(db, actors)


def test_counts_categories_and_adjustments_match_the_hand_computation(
    db: Database, actors: dict[str, Actor], tiny: ds.Store
) -> None:
    report = accuracy_report(db, actors["pat"], since=ds.SINCE, until=ds.UNTIL)
    assert [c.session_id for c in report.counts] == [tiny.counts[1], tiny.counts[2]]  # April's and the open one: out
    first, second = report.counts
    assert (first.name, first.scope, first.blind, first.submitted_by) == (
        "Edibles, week 10",
        "Edible in Vault, Sales Floor",
        True,
        "Maria",
    )
    assert (first.lines_counted, first.lines_matching, first.accuracy) == (5, 2, Decimal("0.4000"))
    assert (first.unit_variance, first.dollar_variance) == (7, Decimal("130.00"))  # as frozen at submit
    assert (first.adjustments, first.adjustment_value) == (2, Decimal("-40.00"))  # −4 × $20, +2 × $20
    # the second count's figures were never frozen: recomputed, 3.5 g sold during the count is no variance
    assert (second.lines_counted, second.lines_matching, second.unit_variance, second.dollar_variance) == (
        2,
        1,
        Decimal("0.5"),
        Decimal("6.25"),
    )
    assert (report.lines_counted, report.lines_matching, report.accuracy) == (7, 3, Decimal("0.4286"))

    categories = {c.category: c for c in report.categories}
    edible, flower = categories["Edible"], categories["Flower"]
    assert (edible.counts, edible.lines_counted, edible.lines_matching) == (1, 4, 1)
    assert (edible.unit_variance, edible.dollar_variance, edible.net_dollar_variance) == (
        7,
        Decimal("130.00"),
        Decimal("-50.00"),
    )
    assert (flower.counts, flower.lines_counted, flower.lines_matching, flower.accuracy) == (2, 3, 2, Decimal("0.6667"))
    assert (flower.unit_variance, flower.dollar_variance, flower.net_dollar_variance) == (
        Decimal("0.5"),
        Decimal("6.25"),
        Decimal("-6.25"),
    )

    made = [(a.reason, a.quantity_delta, a.value, a.note, a.adjusted_by, a.approved_by) for a in report.adjustments]
    assert made == [
        ("Theft", -4, Decimal("-80.00"), ds.INJECTION_NOTE, "Alex", "Maria"),
        ("Inventory Audit", 2, Decimal("40.00"), "found behind the shelf", "Alex", ""),
        ("Scale Variance", Decimal("-0.5"), Decimal("-6.25"), "-0.5 g scale drift", "Alex", ""),
        ("Damage", -1, Decimal("-10.00"), "@dropped jar", "Maria", ""),
        ("Waste", -1, Decimal("0.00"), "late night", "Alex", ""),  # 23:30 on the last day, store time
    ]
    assert report.adjustments[0].product == "Kind Gummies 10mg x10" and report.adjustments[0].tag == ds.tag(2)
    reasons = [
        (r.reason, r.unit.value, r.adjustments, r.units_removed, r.units_added, r.value_removed, r.net_value)
        for r in report.reasons
    ]
    assert reasons == [  # the costliest first
        ("Theft", "Each", 1, 4, 0, Decimal("80.00"), Decimal("-80.00")),
        ("Damage", "Each", 1, 1, 0, Decimal("10.00"), Decimal("-10.00")),
        ("Scale Variance", "Grams", 1, Decimal("0.5"), 0, Decimal("6.25"), Decimal("-6.25")),
        ("Inventory Audit", "Each", 1, 0, 2, 0, Decimal("40.00")),
        ("Waste", "Grams", 1, 1, 0, 0, 0),
    ]
    assert (report.shrinkage_value, report.net_adjustment_value) == (Decimal("96.25"), Decimal("-56.25"))


def test_the_range_is_in_store_days_both_ends_included(db: Database, actors: dict[str, Actor], tiny: ds.Store) -> None:
    one_day = accuracy_report(db, actors["pat"], since=date(2026, 3, 10), until=date(2026, 3, 10))
    assert [c.name for c in one_day.counts] == ["Edibles, week 10"] and len(one_day.adjustments) == 2
    last_day = accuracy_report(db, actors["pat"], since=ds.UNTIL, until=ds.UNTIL)
    assert [a.reason for a in last_day.adjustments] == ["Waste"] and last_day.counts == []
    assert last_day.accuracy is None and last_day.categories == []
    april = accuracy_report(db, actors["pat"], since=date(2026, 4, 1), until=date(2026, 4, 30))
    assert [c.name for c in april.counts] == ["April edibles"] and [a.note for a in april.adjustments] == [
        "April: not in the range"
    ]


def test_refusals(db: Database, actors: dict[str, Actor]) -> None:
    with pytest.raises(ValidationError, match=r"starts \(2026-03-31\) after it ends \(2026-03-01\); swap the dates"):
        accuracy_report(db, actors["pat"], since=ds.UNTIL, until=ds.SINCE)
    with pytest.raises(PermissionDenied, match="may not pull reports"):
        accuracy_report(db, actors["alex"], since=ds.SINCE, until=ds.UNTIL)


EDIBLES = "Edible (weight - each)"
GUMMY, GUMMY_2 = "1A4060300000000000000002", "1A4060300000000000000010"  # Edible, Vault: 12 and 24 Each
TINCTURE = "1A4060300000000000000001"  # Tincture, Vault, 30 Each: out of the count's scope
STRANGER = "1A40603000000000000009ZZ"  # in no system


def test_a_real_count_adds_up_to_its_frozen_figures(db: Database, actors: dict[str, Actor], samples: Path) -> None:
    """Made with the Cycle Count services: the report's categories follow the count's own rules."""
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    with db.read() as session:
        sku = session.scalar(select(Package).where(Package.tag == GUMMY)).item.sku
    prices.set_price(db, actors["maria"], sku, "25.00")
    count = counts.start_count(db, actors["alex"], "Gummies", counts.Scope(categories=(EDIBLES,)), blind=False)
    with db.transaction() as session:  # the store is open: 3 sold before the counter gets to the bin
        pkg = session.scalar(select(Package).where(Package.tag == GUMMY))
        ledger.post(session, actors["alex"], pkg, LedgerKind.SALE, Decimal(-3), ledger.Doc("pos_sale_line", None))
    counts.record_count(db, actors["alex"], count.id, GUMMY, 9)  # 12 − 3 sold: a match
    counts.record_count(db, actors["alex"], count.id, GUMMY_2, 10)
    counts.record_count(db, actors["alex"], count.id, GUMMY_2, 10)  # a second counter: 20 of 24
    counts.record_count(db, actors["alex"], count.id, TINCTURE, 29)  # found out of scope, one short
    counts.record_count(db, actors["alex"], count.id, STRANGER, 1)
    submitted = counts.submit(db, actors["alex"], count.id, uncounted_as_zero=True)
    adjustments.adjust(
        db, actors["alex"], GUMMY_2, -4, "Theft", "four gone from the vault bin", count_session_id=count.id
    )

    with db.read() as session:
        today = settings.calendar(session).today()
    report = accuracy_report(db, actors["pat"], since=today - timedelta(days=1), until=today)
    (row,) = report.counts
    assert (row.lines_counted, row.lines_matching, row.unit_variance, row.dollar_variance) == (
        submitted.lines_counted,
        submitted.lines_matching,
        submitted.unit_variance,
        submitted.dollar_variance,
    )
    assert sum(c.lines_counted for c in report.categories) == submitted.lines_counted
    assert sum(c.lines_matching for c in report.categories) == submitted.lines_matching
    assert sum(c.unit_variance for c in report.categories) == submitted.unit_variance
    assert sum(c.dollar_variance for c in report.categories) == submitted.dollar_variance
    names = {c.category for c in report.categories}
    assert {EDIBLES, "Tincture (volume - each)", UNKNOWN_CATEGORY} <= names
    edible = next(c for c in report.categories if c.category == EDIBLES)
    assert edible.net_dollar_variance < 0 and row.adjustments == 1
    assert (report.adjustments[0].reason, report.adjustments[0].count_session_id) == ("Theft", count.id)


def test_metrc_agreement_per_count_beside_physical_accuracy(
    db: Database, actors: dict[str, Actor], samples: Path
) -> None:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    records = json.loads((samples / "metrc_packages_active.json").read_text())
    for record in records:
        if record["Label"] == GUMMY_2:
            record["Quantity"] = 30  # METRC 30, store and shelf 24: METRC disagrees on one of two lines
    count = counts.start_count(
        db, actors["alex"], "Gummies", counts.Scope(categories=(EDIBLES,)), blind=False, metrc_packages_data=records
    )
    counts.record_count(db, actors["alex"], count.id, GUMMY, 12)
    counts.record_count(db, actors["alex"], count.id, GUMMY_2, 24)
    without = counts.start_count(db, actors["alex"], "No METRC", counts.Scope(categories=(EDIBLES,)))
    counts.record_count(db, actors["alex"], without.id, GUMMY, 12)
    frozen = counts.submit(db, actors["alex"], count.id, uncounted_as_zero=True)
    counts.submit(db, actors["alex"], without.id, uncounted_as_zero=True)
    # the rest were recorded as 0 at submit; the ledger agrees on both counted gummies, METRC on one
    assert (frozen.lines_matching, frozen.metrc_lines_agreeing) == (2, 1)
    assert frozen.metrc_lines_compared == frozen.lines_counted

    with db.read() as session:
        today = settings.calendar(session).today()
    report = accuracy_report(db, actors["pat"], since=today - timedelta(days=1), until=today)
    with_metrc, no_metrc = report.counts
    assert (with_metrc.metrc_lines_compared, with_metrc.metrc_lines_agreeing) == (
        frozen.metrc_lines_compared,
        frozen.metrc_lines_agreeing,
    )
    assert with_metrc.metrc_agreement == (Decimal(frozen.metrc_lines_agreeing) / frozen.metrc_lines_compared).quantize(
        Decimal("0.0001")
    )
    assert no_metrc.metrc_agreement is None and no_metrc.metrc_lines_compared is None
    assert report.metrc_agreement == with_metrc.metrc_agreement  # counts without METRC are left out
    with db.transaction() as session:  # a count submitted before the figure was kept: recomputed, same answer
        stored = session.get(CountSession, count.id)
        stored.metrc_lines_compared = stored.metrc_lines_agreeing = None
    again = accuracy_report(db, actors["pat"], since=today - timedelta(days=1), until=today).counts[0]
    assert (again.metrc_lines_compared, again.metrc_lines_agreeing) == (
        frozen.metrc_lines_compared,
        frozen.metrc_lines_agreeing,
    )
