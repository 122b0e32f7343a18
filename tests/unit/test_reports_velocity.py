"""Velocity report figures, on SQLite and PostgreSQL: hand-computed on the tiny store, and
checked against pandas over the raw POS sale lines (the report reads only sales_daily)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
from sqlalchemy import text

from backoffice.db.engine import Database
from backoffice.errors import PermissionDenied, ValidationError
from backoffice.services import settings
from backoffice.services.actor import Actor
from backoffice.services.reports import Scope, velocity_report
from backoffice.services.reports.velocity import SkuVelocity
from tests.unit import reports_dataset as ds


@pytest.fixture
def tiny(db: Database, actors: dict[str, Actor]) -> ds.Store:
    return ds.build_tiny_store(db, actors)


def _rows(report: object) -> dict[str, SkuVelocity]:
    return {r.sku: r for r in report.rows}  # type: ignore[attr-defined]


def test_figures_match_the_hand_computation(db: Database, actors: dict[str, Actor], tiny: ds.Store) -> None:
    report = velocity_report(db, actors["pat"], weeks=4, through=ds.THROUGH)
    rows = _rows(report)
    assert list(rows) == ["SKU-B", "SKU-A", "SKU-C", "SKU-D"]  # by category, then rank; E has no stock nor sales
    assert report.week_starts == [date(2026, 3, 4), date(2026, 3, 11), date(2026, 3, 18), date(2026, 3, 25)]
    assert report.window_start == date(2026, 3, 4)

    a = rows["SKU-A"]
    assert (a.vault, a.floor, a.on_hand) == (2, 1, 3)
    assert a.units_last == {7: 3, 28: 8, 91: 14}
    assert a.revenue_last == {7: Decimal("60.00"), 28: Decimal("160.00"), 91: Decimal("280.00")}
    assert (a.units_window, a.units_previous, a.avg_weekly, a.trend) == (8, 4, Decimal("2.00"), Decimal("1.0000"))
    assert a.weekly_units == [2, 0, 3, 3]
    assert a.days_of_supply == Decimal("10.5")  # 3 on hand ÷ (8 / 28 a day)
    assert (a.last_sale, a.weeks_since_last_sale) == (ds.THROUGH, 0)
    assert (a.lead_time_days, a.lead_time_from_item) == (5, True)
    assert a.reorder_quantity == 5  # 8 / 28 × (5 + 21) = 7.43 needed − 3 on hand = 4.43 → 5
    assert a.reorder_math == (
        "0.29 units/day (8 units ÷ 28 days) × (5 days lead time + 21 days target) = 7.4 "
        "units needed − 3 units on hand = 4.4 units short → order 5 units."
    )
    assert (a.category_rank, a.category_share) == (2, Decimal("0.3636"))

    b = rows["SKU-B"]
    assert b.name == ds.INJECTION_NAME and b.brand == ds.INJECTION_BRAND
    assert (b.units_window, b.units_previous, b.trend) == (14, 0, None)  # no previous period: no trend
    assert (b.on_hand, b.days_of_supply) == (2, Decimal("4.0"))
    assert (b.lead_time_days, b.lead_time_from_item) == (7, False)  # the store's default
    assert b.reorder_quantity == 12  # 0.5 a day × 28 days = 14 − 2
    assert "7 days lead time (store default) + 21 days target" in b.reorder_math
    assert (b.category_rank, b.category_share) == (1, Decimal("0.6364"))
    assert b.weeks_since_last_sale == Decimal("0.4")  # 3 days

    c = rows["SKU-C"]
    assert (c.vault, c.floor) == (28, Decimal("10.5"))  # quarantine and on-hold packages are not on hand
    assert (c.units_window, c.units_previous, c.trend) == (Decimal("10.5"), 14, Decimal("-0.25"))
    assert c.days_of_supply == Decimal("102.7")
    assert c.reorder_quantity == 0 and c.reorder_math.endswith("38.5 g on hand covers it: no order.")

    d = rows["SKU-D"]
    assert (d.units_window, d.days_of_supply, d.trend) == (0, None, None)
    assert (d.last_sale, d.weeks_since_last_sale) == (date(2025, 12, 1), Decimal("17.1"))  # 120 days
    assert d.reorder_quantity == 0 and d.reorder_math == "No sales in the last 4 weeks: no rate to reorder from."


def test_categories_and_brands(db: Database, actors: dict[str, Actor], tiny: ds.Store) -> None:
    report = velocity_report(db, actors["pat"], weeks=4, through=ds.THROUGH)
    edible, flower = report.categories
    assert (edible.category, edible.unit_label, flower.unit_label) == ("Edible", "units", "g")
    assert edible.units == [2, 7, 3, 10] and edible.revenue == [Decimal(40), Decimal(70), Decimal(60), Decimal(130)]
    assert flower.units == [0, 0, 7, Decimal("3.5")]
    brands = [(b.category, b.brand, b.rank, b.units, b.unit_share, b.trend) for b in report.brands]
    assert brands == [
        ("Edible", ds.INJECTION_BRAND, 1, 14, Decimal("0.6364"), None),
        ("Edible", "Kind", 2, 8, Decimal("0.3636"), Decimal("1.0000")),
        ("Flower", "Kind", 1, Decimal("10.5"), Decimal("1.0000"), Decimal("-0.2500")),
        ("Flower", "Verde", 2, 0, Decimal("0.0000"), None),
    ]


def test_a_brand_scope_keeps_the_whole_category_for_comparison(
    db: Database, actors: dict[str, Actor], tiny: ds.Store
) -> None:
    report = velocity_report(db, actors["pat"], weeks=4, through=ds.THROUGH, scope=Scope(brand="kind"))
    assert report.scope.brand == "Kind"  # matched without case, reported as the items spell it
    rows = _rows(report)
    assert list(rows) == ["SKU-A", "SKU-C"]
    assert rows["SKU-A"].category_rank == 2  # still ranked against the "+1-555" gummies
    assert {(b.brand, b.in_scope) for b in report.brands if b.category == "Edible"} == {
        ("Kind", True),
        (ds.INJECTION_BRAND, False),
    }
    assert report.menu_skus == 4
    by_category = velocity_report(db, actors["pat"], weeks=4, through=ds.THROUGH, scope=Scope(category="Flower"))
    assert list(_rows(by_category)) == ["SKU-C", "SKU-D"] and [c.category for c in by_category.categories] == ["Flower"]
    by_vendor = velocity_report(db, actors["pat"], weeks=4, through=ds.THROUGH, scope=Scope(vendor="@VENDOR"))
    assert list(_rows(by_vendor)) == ["SKU-B"]


def test_settings_drive_the_reorder(db: Database, actors: dict[str, Actor], tiny: ds.Store) -> None:
    settings.set_value(db, actors["admin"], "lead_time_days", 14)
    settings.set_value(db, actors["admin"], "target_days_of_supply", 7)
    b = _rows(velocity_report(db, actors["pat"], weeks=4, through=ds.THROUGH))["SKU-B"]
    assert b.reorder_quantity == 9  # 0.5 a day × (14 + 7) = 10.5 − 2 = 8.5 → 9
    assert "(14 days lead time (store default) + 7 days target) = 10.5 units needed" in b.reorder_math


def test_bad_requests_are_refused_with_what_to_do(db: Database, actors: dict[str, Actor], tiny: ds.Store) -> None:
    with pytest.raises(ValidationError, match="1 to 104 weeks"):
        velocity_report(db, actors["pat"], weeks=0, through=ds.THROUGH)
    with pytest.raises(
        ValidationError, match="no item has category 'Vapes'; categories in this store include: Edible, Flower"
    ):
        velocity_report(db, actors["pat"], scope=Scope(category="Vapes"))
    with pytest.raises(ValidationError, match="brand filter is empty"):
        velocity_report(db, actors["pat"], scope=Scope(brand=" "))
    with pytest.raises(ValidationError, match="has not happened yet"):
        velocity_report(db, actors["pat"], through=date.today() + timedelta(days=3))
    with pytest.raises(PermissionDenied, match="alex .associate. may not pull reports"):
        velocity_report(db, actors["alex"], through=ds.THROUGH)


def test_an_empty_store_gives_an_empty_report(db: Database, actors: dict[str, Actor]) -> None:
    report = velocity_report(db, actors["maria"])
    assert report.rows == [] and report.categories == [] and report.brands == []
    assert report.through == report.week_starts[-1] + timedelta(days=6)


# --- against pandas over the raw sale lines ------------------------------------------------------


def _pandas_figures(db: Database, through: date, weeks: int) -> tuple[pd.DataFrame, pd.Series]:
    """Per item, from pos_sale_lines and packages only; quantities as the stored scaled integers."""
    lines = pd.read_sql(text("SELECT item_id, business_date, quantity, amount FROM pos_sale_lines"), db.engine)
    lines["age"] = (pd.Timestamp(through) - pd.to_datetime(lines["business_date"])).dt.days
    lines = lines[lines["age"] >= 0]
    window = 7 * weeks
    masks = {
        "units_7": lines.age < 7,
        "units_28": lines.age < 28,
        "units_91": lines.age < 91,
        "window": lines.age < window,
        "previous": (lines.age >= window) & (lines.age < 2 * window),
    }
    figures = pd.DataFrame({name: lines[mask].groupby("item_id")["quantity"].sum() for name, mask in masks.items()})
    figures["revenue_window"] = lines[masks["window"]].groupby("item_id")["amount"].sum()
    figures["last_sale"] = pd.to_datetime(lines.groupby("item_id")["business_date"].max()).dt.date
    stock = pd.read_sql(
        text(
            "SELECT p.item_id, p.quantity FROM packages p JOIN locations l ON l.id = p.location_id "
            "WHERE p.status = 'active' AND l.kind IN ('vault', 'floor')"
        ),
        db.engine,
    )
    return figures.fillna(0), stock.groupby("item_id")["quantity"].sum()


@pytest.mark.parametrize("weeks", [4, 13])
def test_every_figure_agrees_with_pandas_over_the_sale_lines(
    db: Database, actors: dict[str, Actor], tiny: ds.Store, weeks: int
) -> None:
    ds.random_sales(db, seed=weeks)
    report = velocity_report(db, actors["pat"], weeks=weeks, through=ds.THROUGH)
    figures, stock = _pandas_figures(db, ds.THROUGH, weeks)
    with db.engine.connect() as conn:
        leads = dict(conn.execute(text("SELECT id, lead_time_days FROM items")).all())
    checked = 0
    for row in report.rows:
        f = figures.loc[row.item_id] if row.item_id in figures.index else None

        def scaled(name: str) -> int:
            return int(f[name]) if f is not None else 0  # noqa: B023 — used within this iteration only

        on_hand = Fraction(int(stock.get(row.item_id, 0)), 10_000)
        units = Fraction(scaled("window"), 10_000)
        assert row.units_last == {d: Decimal(scaled(f"units_{d}")).scaleb(-4) for d in (7, 28, 91)}
        assert row.units_window == Decimal(scaled("window")).scaleb(-4)
        assert row.units_previous == Decimal(scaled("previous")).scaleb(-4)
        assert row.revenue_window == Decimal(scaled("revenue_window")).scaleb(-2)
        assert row.on_hand == Decimal(on_hand.numerator) / on_hand.denominator
        if f is not None:
            assert row.last_sale == f["last_sale"]
        lead = leads[row.item_id] or 7
        need = units / (7 * weeks) * (lead + 21)
        assert row.reorder_quantity == (math.ceil(need - on_hand) if units and need > on_hand else 0)
        if units:
            supply = on_hand / units * 7 * weeks
            assert row.days_of_supply == (Decimal(supply.numerator) / supply.denominator).quantize(Decimal("0.1"))
        checked += 1
    in_report = {r.item_id for r in report.rows}
    with_sales = set(figures.index[(figures["window"] > 0) | (figures["previous"] > 0)])
    assert with_sales <= in_report and set(stock.index[stock > 0]) <= in_report
    assert checked >= 10
    # category weekly totals are the sums of the lines per category and week
    categories = {c.category: c for c in report.categories}
    lines = pd.read_sql(
        text("SELECT l.business_date, l.quantity, i.category FROM pos_sale_lines l JOIN items i ON i.id = l.item_id"),
        db.engine,
    )
    lines["age"] = (pd.Timestamp(ds.THROUGH) - pd.to_datetime(lines["business_date"])).dt.days
    lines = lines[(lines.age >= 0) & (lines.age < 7 * weeks)]
    lines["week"] = weeks - 1 - lines.age // 7
    totals = lines.groupby(["category", "week"])["quantity"].sum()
    for (category, week), scaled_units in totals.items():
        assert categories[category].units[week] == Decimal(int(scaled_units)).scaleb(-4)
