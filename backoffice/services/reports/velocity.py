"""Sales velocity per SKU, days of supply and reorder suggestions that explain their math.

Figures come from ``sales_daily`` (units and revenue per item per business day, kept beside
the sale lines), never from the 1.5 million sale lines themselves. Weeks end on ``through``
(the last business day reported): week 0 is the 7 days ending on ``through``, week 1 the 7
days before it, and so on, so "last 7/28/91 days" are weeks 0, 0–3 and 0–12.

Rank, share and the Categories and Brands figures are computed over the whole menu of the
scope's categories (every brand and vendor), so a brand is compared with its competitors
even when the report is scoped to that brand.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, Integer, cast, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item, Location, Package, SalesDaily, utcnow
from backoffice.domain.enums import LocationKind, PackageStatus
from backoffice.domain.units import Unit, convert
from backoffice.errors import ValidationError
from backoffice.services import settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.reports.bulk import paused_gc
from backoffice.services.reports.scope import Scope

DEFAULT_WEEKS = 13
MAX_WEEKS = 104
FIXED_PERIODS = (7, 28, 91)  # the "last N days" columns, whatever the window
_QTY_SCALE, _MONEY_SCALE = -4, -2  # sales_daily stores scaled integers (see db.types)


@dataclass
class SkuVelocity:
    item_id: int
    sku: str
    name: str
    brand: str
    vendor: str
    category: str
    unit: Unit
    price: Decimal
    vault: Decimal
    floor: Decimal
    units_last: dict[int, Decimal]  # FIXED_PERIODS → units sold in the last N days
    revenue_last: dict[int, Decimal]
    units_window: Decimal
    revenue_window: Decimal
    units_previous: Decimal  # the period of the same length before the window
    avg_weekly: Decimal
    trend: Decimal | None  # fraction: +0.25 = 25 % more than the previous period; None without one
    days_of_supply: Decimal | None  # None: nothing sold in the window, so no rate to divide by
    last_sale: date | None
    weeks_since_last_sale: Decimal | None
    lead_time_days: int
    lead_time_from_item: bool
    reorder_quantity: Decimal
    reorder_math: str
    weekly_units: list[Decimal]  # oldest week first
    in_scope: bool
    category_rank: int = 0
    category_share: Decimal | None = None

    @property
    def on_hand(self) -> Decimal:
        return self.vault + self.floor

    @property
    def unit_label(self) -> str:
        return unit_label(self.unit)


@dataclass
class CategoryWeeks:
    category: str
    unit_label: str  # "units", "g", … or "mixed units" when its items differ
    units: list[Decimal]  # oldest week first
    revenue: list[Decimal]


@dataclass
class BrandShare:
    category: str
    brand: str
    skus: int
    units: Decimal
    revenue: Decimal
    unit_share: Decimal | None
    revenue_share: Decimal | None
    rank: int
    units_per_sku_week: Decimal
    trend: Decimal | None
    in_scope: bool


@dataclass
class VelocityReport:
    store_name: str
    license_number: str
    timezone: str
    generated_at: datetime
    generated_by: str
    through: date
    weeks: int
    scope: Scope
    lead_time_days: int
    target_days_of_supply: int
    week_starts: list[date]  # oldest first
    rows: list[SkuVelocity]  # the SKUs in scope, by category then rank
    categories: list[CategoryWeeks]
    brands: list[BrandShare]
    menu_skus: int = field(default=0)  # SKUs the comparisons were computed over

    @property
    def window_start(self) -> date:
        return self.through - timedelta(days=7 * self.weeks - 1)

    @property
    def window_days(self) -> int:
        return 7 * self.weeks


def unit_label(unit: Unit) -> str:
    return {Unit.EACH: "units", Unit.GRAMS: "g"}.get(unit, unit.value.lower())


def velocity_report(
    db: Database, actor: Actor, *, weeks: int = DEFAULT_WEEKS, scope: Scope | None = None, through: date | None = None
) -> VelocityReport:
    """Velocity for every SKU in ``scope`` with stock on hand or sales in the last
    max(2 × weeks, 13) weeks, over the ``weeks`` ending on ``through`` (default: yesterday)."""
    actor.require(Permission.REPORTS)
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValidationError(f"the window must be 1 to {MAX_WEEKS} weeks, not {weeks}")
    with db.read() as session, paused_gc():
        scope = (scope or Scope()).resolved(session)
        today = settings.calendar(session).today()
        through = through or today - timedelta(days=1)
        if through > today:
            raise ValidationError(f"{through} has not happened yet (today is {today}); choose today or an earlier day")
        lead_default = settings.get(session, settings.LEAD_TIME_DAYS)
        target = settings.get(session, settings.TARGET_DAYS_OF_SUPPLY)
        span = max(2 * weeks, FIXED_PERIODS[-1] // 7)
        items = _menu_items(session, scope)
        sales = _weekly_sales(session, scope, through, span)
        last_sales = _last_sales(session, scope, through)
        stock = _stock(session, scope, {item["id"]: item["unit"] for item in items})
        menu: list[SkuVelocity] = []
        for item in items:
            item_sales = sales.get(item["id"])
            vault, floor = stock.get(item["id"], (Decimal(0), Decimal(0)))
            if item_sales is None and vault + floor <= 0:
                continue  # neither stock nor recent sales: nothing to decide about
            menu.append(
                _sku_row(
                    item,
                    item_sales or ([0] * span, [0] * span),
                    vault,
                    floor,
                    last_sales.get(item["id"]),
                    scope,
                    weeks=weeks,
                    through=through,
                    lead_default=lead_default,
                    target=target,
                )
            )
        _rank_within_categories(menu)
        return VelocityReport(
            store_name=settings.get(session, settings.STORE_NAME),
            license_number=settings.get(session, settings.LICENSE_NUMBER),
            timezone=settings.get(session, settings.TIMEZONE),
            generated_at=utcnow(),
            generated_by=actor.username,
            through=through,
            weeks=weeks,
            scope=scope,
            lead_time_days=lead_default,
            target_days_of_supply=target,
            week_starts=[through - timedelta(days=7 * (k + 1) - 1) for k in reversed(range(weeks))],
            rows=sorted((r for r in menu if r.in_scope), key=lambda r: (r.category, r.category_rank)),
            categories=_category_weeks(menu, sales, weeks),
            brands=_brand_shares(menu, weeks),
            menu_skus=len(menu),
        )


# --- queries --------------------------------------------------------------------------------


def _menu_items(session: Session, scope: Scope) -> list[dict[str, Any]]:
    rows = session.connection().execute(
        select(
            Item.id,
            Item.sku,
            Item.name,
            Item.brand,
            Item.vendor,
            Item.category,
            Item.unit,
            Item.price,
            Item.lead_time_days,
        )
        .where(scope.category_clause())
        .order_by(Item.sku)
    )
    return [row._asdict() for row in rows]


def _days_before(session: Session, through: date) -> Any:
    """Whole days from a sales_daily day to ``through``, in the database's own date arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(literal(through, Date)) - func.julianday(SalesDaily.day), Integer)
    return literal(through, Date) - SalesDaily.day  # PostgreSQL: date - date is an integer


def _weekly_sales(session: Session, scope: Scope, through: date, span: int) -> dict[int, tuple[list[int], list[int]]]:
    """item id → (units, revenue) per week, newest week first, as scaled integers (summing
    integers in the database and in Python is exact and far cheaper than Decimals)."""
    menu = select(Item.id).where(scope.category_clause())
    days = (
        select(
            SalesDaily.item_id,
            (_days_before(session, through) // 7).label("week"),
            type_coerce(SalesDaily.units, BigInteger).label("units"),
            type_coerce(SalesDaily.revenue, BigInteger).label("revenue"),
        )
        .where(
            SalesDaily.item_id.in_(menu), SalesDaily.day > through - timedelta(days=7 * span), SalesDaily.day <= through
        )
        .subquery()
    )
    # grouped over a subquery: PostgreSQL would not see two bound "through"s as one GROUP BY expression
    weekly = select(days.c.item_id, days.c.week, func.sum(days.c.units), func.sum(days.c.revenue)).group_by(
        days.c.item_id, days.c.week
    )
    out: dict[int, tuple[list[int], list[int]]] = {}
    for item_id, week, units, revenue in session.connection().execute(weekly).all():  # Core: no ORM row work
        if item_id not in out:
            out[item_id] = ([0] * span, [0] * span)
        out[item_id][0][week] = int(units)
        out[item_id][1][week] = int(revenue)
    return out


def _last_sales(session: Session, scope: Scope, through: date) -> dict[int, date]:
    """Each item's last business day with a sale, found through the (item, day) key."""
    last = (
        select(func.max(SalesDaily.day))
        .where(SalesDaily.item_id == Item.id, SalesDaily.day <= through)
        .correlate(Item)
        .scalar_subquery()
    )
    rows = session.connection().execute(select(Item.id, last).where(scope.category_clause()))
    return {item_id: day for item_id, day in rows if day is not None}


def _stock(session: Session, scope: Scope, item_units: dict[int, Unit]) -> dict[int, tuple[Decimal, Decimal]]:
    """Active packages in the vault and on the floor, in each item's own unit."""
    rows = session.connection().execute(
        select(Package.item_id, Location.kind, Package.unit, func.sum(Package.quantity))
        .join(Location, Package.location_id == Location.id)
        .where(
            Package.status == PackageStatus.ACTIVE,
            Location.kind.in_([LocationKind.VAULT, LocationKind.FLOOR]),
            Package.item_id.in_(select(Item.id).where(scope.category_clause())),
        )
        .group_by(Package.item_id, Location.kind, Package.unit)
    )
    totals: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for item_id, kind, unit, quantity in rows:
        target = item_units[item_id]
        amount = quantity if unit is target else convert(quantity, unit, target)
        totals[item_id][0 if kind is LocationKind.VAULT else 1] += amount
    return {item_id: (v, f) for item_id, (v, f) in totals.items()}


# --- figures ----------------------------------------------------------------------------------


def _qty(scaled: int) -> Decimal:
    return Decimal(scaled).scaleb(_QTY_SCALE)


def _money(scaled: int) -> Decimal:
    return Decimal(scaled).scaleb(_MONEY_SCALE)


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(Decimal("0.0001")) if whole > 0 else None


def _change(now: Decimal, before: Decimal) -> Decimal | None:
    return ((now - before) / before).quantize(Decimal("0.0001")) if before > 0 else None


def _sku_row(
    item: dict[str, Any],
    sales: tuple[list[int], list[int]],
    vault: Decimal,
    floor: Decimal,
    last_sale: date | None,
    scope: Scope,
    *,
    weeks: int,
    through: date,
    lead_default: int,
    target: int,
) -> SkuVelocity:
    units, revenue = sales  # per week, newest first
    units_window, units_previous = _qty(sum(units[:weeks])), _qty(sum(units[weeks : 2 * weeks]))
    window_days = 7 * weeks
    on_hand = vault + floor
    lead = item["lead_time_days"] or lead_default
    quantity, math = reorder(
        units_window,
        window_days,
        on_hand,
        lead=lead,
        lead_from_item=bool(item["lead_time_days"]),
        target=target,
        unit=item["unit"],
    )
    return SkuVelocity(
        item_id=item["id"],
        sku=item["sku"],
        name=item["name"],
        brand=item["brand"],
        vendor=item["vendor"],
        category=item["category"],
        unit=item["unit"],
        price=item["price"],
        vault=vault,
        floor=floor,
        units_last={days: _qty(sum(units[: days // 7])) for days in FIXED_PERIODS},
        revenue_last={days: _money(sum(revenue[: days // 7])) for days in FIXED_PERIODS},
        units_window=units_window,
        revenue_window=_money(sum(revenue[:weeks])),
        units_previous=units_previous,
        avg_weekly=(units_window / weeks).quantize(Decimal("0.01")),
        trend=_change(units_window, units_previous),
        days_of_supply=(on_hand * window_days / units_window).quantize(Decimal("0.1")) if units_window > 0 else None,
        last_sale=last_sale,
        weeks_since_last_sale=(Decimal((through - last_sale).days) / 7).quantize(Decimal("0.1")) if last_sale else None,
        lead_time_days=lead,
        lead_time_from_item=bool(item["lead_time_days"]),
        reorder_quantity=quantity,
        reorder_math=math,
        weekly_units=[_qty(u) for u in reversed(units[:weeks])],
        in_scope=scope.matches(item["category"], item["brand"], item["vendor"]),
    )


def _n(value: Decimal, places: int = 1) -> str:
    """A number for the reorder explanation: whole numbers without decimals."""
    return f"{int(value):,}" if value == value.to_integral_value() else f"{value:,.{places}f}"


def reorder(
    units_window: Decimal,
    window_days: int,
    on_hand: Decimal,
    *,
    lead: int,
    lead_from_item: bool,
    target: int,
    unit: Unit,
) -> tuple[Decimal, str]:
    """Order enough to cover the lead time plus the target days of supply at the window's
    daily rate, less what is on hand, rounded up to whole units; and say how."""
    u = unit_label(unit)
    if units_window <= 0:
        return Decimal(0), f"No sales in the last {window_days // 7} weeks: no rate to reorder from."
    # one division, last: a need that is a whole number comes out exact, so rounding up is right
    need = units_window * (lead + target) / window_days
    short = need - on_hand
    lead_text = f"{lead} days lead time" + ("" if lead_from_item else " (store default)")
    base = (
        f"{_n(units_window / window_days, 2)} {u}/day ({_n(units_window)} {u} ÷ {window_days} days) × "
        f"({lead_text} + {target} days target) = {_n(need)} {u} needed"
    )
    if short <= 0:
        return Decimal(0), f"{base}; {_n(on_hand)} {u} on hand covers it: no order."
    quantity = short.to_integral_value(rounding=ROUND_CEILING)
    return quantity, f"{base} − {_n(on_hand)} {u} on hand = {_n(short)} {u} short → order {_n(quantity)} {u}."


def _rank_within_categories(rows: list[SkuVelocity]) -> None:
    by_category: dict[str, list[SkuVelocity]] = defaultdict(list)
    for row in rows:
        by_category[row.category].append(row)
    for members in by_category.values():
        total = sum((r.units_window for r in members), Decimal(0))
        members.sort(key=lambda r: (-r.units_window, -r.revenue_window, r.sku))
        for rank, row in enumerate(members, start=1):
            row.category_rank = rank
            row.category_share = _share(row.units_window, total)


def _category_weeks(
    rows: list[SkuVelocity], sales: dict[int, tuple[list[int], list[int]]], weeks: int
) -> list[CategoryWeeks]:
    """Weekly totals per category, summed as scaled integers."""
    units: dict[str, list[int]] = {}
    revenue: dict[str, list[int]] = {}
    units_seen: dict[str, set[Unit]] = defaultdict(set)
    for row in rows:
        units_seen[row.category].add(row.unit)
        total_units = units.setdefault(row.category, [0] * weeks)
        total_revenue = revenue.setdefault(row.category, [0] * weeks)
        if row.item_id in sales:
            item_units, item_revenue = sales[row.item_id]
            for week in range(weeks):
                total_units[week] += item_units[week]
                total_revenue[week] += item_revenue[week]
    return [
        CategoryWeeks(
            name,
            unit_label(next(iter(units_seen[name]))) if len(units_seen[name]) == 1 else "mixed units",
            [_qty(u) for u in reversed(units[name])],
            [_money(r) for r in reversed(revenue[name])],
        )
        for name in sorted(units)
    ]


def _brand_shares(rows: list[SkuVelocity], weeks: int) -> list[BrandShare]:
    groups: dict[tuple[str, str], list[SkuVelocity]] = defaultdict(list)
    for row in rows:
        groups[(row.category, row.brand)].append(row)
    by_category: dict[str, list[BrandShare]] = defaultdict(list)
    for (category, brand), members in groups.items():
        units = sum((r.units_window for r in members), Decimal(0))
        previous = sum((r.units_previous for r in members), Decimal(0))
        by_category[category].append(
            BrandShare(
                category=category,
                brand=brand,
                skus=len(members),
                units=units,
                revenue=sum((r.revenue_window for r in members), Decimal(0)),
                unit_share=None,
                revenue_share=None,
                rank=0,
                units_per_sku_week=(units / len(members) / weeks).quantize(Decimal("0.01")),
                trend=_change(units, previous),
                in_scope=any(r.in_scope for r in members),
            )
        )
    out: list[BrandShare] = []
    for category in sorted(by_category):
        brands = by_category[category]
        total_units = sum((b.units for b in brands), Decimal(0))
        total_revenue = sum((b.revenue for b in brands), Decimal(0))
        brands.sort(key=lambda b: (-b.units, -b.revenue, b.brand))
        for rank, share in enumerate(brands, start=1):
            share.rank = rank
            share.unit_share = _share(share.units, total_units)
            share.revenue_share = _share(share.revenue, total_revenue)
        out.extend(brands)
    return out
