"""The count-variance rule of ``backoffice.domain.variance``, on plain figures (no database)."""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from backoffice.domain import variance as rule
from backoffice.domain.units import Unit

Entry = namedtuple("Entry", "quantity supersedes")
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_a_recount_starts_the_tags_count_over() -> None:
    entries = [Entry(5, False), Entry(3, False), Entry(7, True), Entry(2, False)]
    assert [e.quantity for e in rule.effective_entries(entries, lambda e: e.supersedes)] == [7, 2]
    assert rule.effective_entries([], lambda e: e.supersedes) == []


def test_movements_count_between_the_snapshot_and_the_moment_counted() -> None:
    counted_at = T0 + timedelta(minutes=30)
    assert not rule.in_count_window(T0, T0, counted_at)  # at the snapshot: already in the frozen figure
    assert rule.in_count_window(T0 + timedelta(minutes=5), T0, counted_at)
    assert rule.in_count_window(counted_at, T0, counted_at)
    assert not rule.in_count_window(counted_at + timedelta(seconds=1), T0, counted_at)  # after: on the shelf still
    assert rule.in_count_window(T0 + timedelta(days=3), T0, None)  # not counted yet: everything since


def test_variance_value_and_match() -> None:
    expected = rule.expected_at_count(Decimal(50), Decimal(-2))  # 2 sold while counting
    assert expected == 48
    assert rule.matches(rule.variance(Decimal(48), expected))
    assert rule.variance(Decimal(3), None) == 3  # a source that expected nothing expected 0
    assert rule.value_of(Decimal(-1), Decimal("12.005")) == Decimal("-12.01")  # half away from zero, like to_money
    assert str(rule.value_of(Decimal("-0.0001"), Decimal("1.00"))) == "0.00"  # never "-0.00"
    assert rule.balance_at_snapshot(Decimal(10), Decimal(-4)) == 14


def test_a_package_unit_is_priced_in_the_items_unit() -> None:
    assert rule.unit_price(Decimal("10.00"), Unit.GRAMS, Unit.GRAMS) == 10
    assert rule.unit_price(Decimal("28.00"), Unit.GRAMS, Unit.OUNCES) == Decimal("28.00") * rule.per_item_unit(
        Unit.GRAMS, Unit.OUNCES
    )
    assert rule.per_item_unit(Unit.EACH, Unit.GRAMS) == 1  # other family: no conversion


def test_accuracy_adds_up_sizes() -> None:
    figures = rule.accuracy([(Decimal(0), Decimal(0)), (Decimal(-2), Decimal("-5.00")), (Decimal(1), None)])
    assert (figures.lines_counted, figures.lines_matching) == (3, 1)
    assert (figures.unit_variance, figures.dollar_variance) == (3, Decimal("5.00"))
    assert figures.percent == Decimal("33.3")
    assert rule.accuracy([]).percent is None
