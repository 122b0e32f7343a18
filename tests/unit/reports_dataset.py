"""A tiny store with hand-checked sales, stock, counts and adjustments for the report tests.

Sales are written as POS sale lines AND as the daily summary (accumulated here while the
lines are made, like the demo does), so tests can check the report — which reads only the
summary — against an independent computation over the raw lines.

Velocity, through 2026-03-31 with a 4-week window (weeks: Mar 25–31, 18–24, 11–17, 4–10;
previous period Feb 4 – Mar 3; last 91 days from Dec 31):

  A  Gummies (Each, $20, lead 5 d)  units 7/28/91 d = 3/8/14, previous 4, on hand 2 + 1
  B  "=HYPERLINK(…)" (Each, $10, lead: store default 7 d), brand "+1-555"  window 14, previous 0, on hand 2
  C  Blue Dream (Grams, $12.50, lead 14 d)  window 10.5 g, previous 14 g, on hand 28 + 10.5 g
  D  Old stock (Grams)  last sale 2025-12-01, on hand 56 g, nothing sold in the window
  E  Discontinued: no stock, last sale 2025-06-01 — not in the report

Accuracy, 2026-03-01 … 2026-03-31, with the cycle count's rules (expected = ledger at the
snapshot + movements until the tag was counted; variance sizes added up):
  count 1 (Edible): A1 match (one sold during the count), B1 −1 ($10), A2 −4 ($80), a find
    of A +2 ($40), C2 out of scope (Flower) match: 5 lines, 2 matching, 7 units, $130 —
    frozen at submit; net −$50, Edible 4 lines 1 matching.
  count 2 (Flower, figures not frozen, so recomputed): C1 −0.5 g ($6.25, 3.5 g sold during
    the count), D1 50 + 6 = 56 match.
  count 3 (submitted in April) and count 4 (open) are left out.
Adjustments: Theft −4 × $20, Inventory Audit +2 × $20, Scale Variance −0.5 g × $12.50,
Damage −1 × $10, Waste −1 g × $0 at 23:30 on Mar 31 (April 1 in UTC, still in the range),
and one in April, left out: shrinkage $96.25, net −$56.25.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from backoffice.db.engine import Database
from backoffice.db.models import (
    Adjustment,
    CountEntry,
    CountExpected,
    CountSession,
    Item,
    LedgerEntry,
    Location,
    Package,
    PosSaleLine,
    SalesDaily,
)
from backoffice.domain.enums import CountStatus, LedgerKind, LocationKind, PackageStatus, QuantityType
from backoffice.domain.units import Unit
from backoffice.services.actor import Actor

STORE_TZ = ZoneInfo("America/Los_Angeles")
THROUGH = date(2026, 3, 31)
SINCE, UNTIL = date(2026, 3, 1), date(2026, 3, 31)
INJECTION_NAME = '=HYPERLINK("http://evil.example/x","click me")'
INJECTION_BRAND = "+1-555"
INJECTION_VENDOR = "@vendor"
INJECTION_NOTE = "=cmd|' /C calc'!A0"
COUNT1_AT = datetime(2026, 3, 10, 13, 0, tzinfo=STORE_TZ)  # snapshots
COUNT2_AT = datetime(2026, 3, 20, 16, 0, tzinfo=STORE_TZ)


def tag(n: int) -> str:
    return f"1A4060300{n:015X}"


def local(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), STORE_TZ)


@dataclass
class Store:
    items: dict[str, int]  # key (A–E) → item id
    packages: dict[str, int]  # name → package id
    locations: dict[str, int]
    counts: dict[int, int]  # count number (1–4) → session id


class _Sales:
    """Sale lines plus the daily summary kept beside them."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self.daily: dict[tuple[int, date], list[Any]] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])

    def sell(
        self,
        item_id: int,
        sku: str,
        day: date,
        quantity: str | Decimal,
        amount: str | Decimal,
        unit: Unit,
        *,
        hour: int = 12,
    ) -> None:
        qty, money = Decimal(quantity), Decimal(amount)
        n = len(self.lines) + 1
        self.lines.append(
            {
                "receipt_number": f"R{n:06d}",
                "line_key": f"{sku}/{n}",
                "sold_at": local(day, hour),
                "business_date": day,
                "item_id": item_id,
                "sku": sku,
                "product_name": sku,
                "quantity": qty,
                "unit": unit,
                "amount": money,
            }
        )
        totals = self.daily[(item_id, day)]
        totals[0] += qty
        totals[1] += money
        totals[2] += 1

    def write(self, session: Any) -> None:
        if self.lines:
            session.execute(insert(PosSaleLine), self.lines)
            session.execute(
                insert(SalesDaily),
                [
                    {"item_id": i, "day": d, "units": u, "revenue": r, "lines": n}
                    for (i, d), (u, r, n) in self.daily.items()
                ],
            )


def _item(
    sku: str, name: str, brand: str, vendor: str, category: str, unit: Unit, price: str, lead: int | None
) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": name,
        "brand": brand,
        "vendor": vendor,
        "category": category,
        "quantity_type": QuantityType.COUNT_BASED if unit is Unit.EACH else QuantityType.WEIGHT_BASED,
        "unit": unit,
        "price": Decimal(price),
        "lead_time_days": lead,
    }


def build_tiny_store(db: Database, actors: dict[str, Actor]) -> Store:
    with db.transaction() as s:
        s.execute(
            insert(Location),
            [
                {"name": "Vault", "kind": LocationKind.VAULT, "metrc_name": "Vault"},
                {"name": "Sales Floor", "kind": LocationKind.FLOOR, "metrc_name": "Sales Floor"},
                {"name": "Quarantine", "kind": LocationKind.QUARANTINE, "metrc_name": "Quarantine"},
            ],
        )
        loc = dict(s.execute(select(Location.name, Location.id)).all())
        s.execute(
            insert(Item),
            [
                _item("SKU-A", "Kind Gummies 10mg x10", "Kind", "Kind Distribution", "Edible", Unit.EACH, "20", 5),
                _item("SKU-B", INJECTION_NAME, INJECTION_BRAND, INJECTION_VENDOR, "Edible", Unit.EACH, "10", None),
                _item(
                    "SKU-C", "Kind Blue Dream Flower", "Kind", "Kind Distribution", "Flower", Unit.GRAMS, "12.50", 14
                ),
                _item("SKU-D", "Verde Old Stock Flower", "Verde", "Verde Farms", "Flower", Unit.GRAMS, "8", 7),
                _item("SKU-E", "Verde Discontinued Gummies", "Verde", "Verde Farms", "Edible", Unit.EACH, "15", 7),
            ],
        )
        ids = dict(s.execute(select(Item.sku, Item.id)).all())
        items = {key: ids[f"SKU-{key}"] for key in "ABCDE"}
        packages = _packages(s, items, loc)
        sales = _Sales()
        _velocity_sales(sales, items)
        sales.write(s)
        counts = _counts(s, items, packages, loc, actors)
        _adjustments(s, packages, counts, actors)
    return Store(items, packages, loc, counts)


def _packages(s: Any, items: dict[str, int], loc: dict[str, int]) -> dict[str, int]:
    # name: (item, quantity, unit, location, status)
    spec = {
        "A1": ("A", "2", Unit.EACH, "Vault", PackageStatus.ACTIVE),
        "A2": ("A", "1", Unit.EACH, "Sales Floor", PackageStatus.ACTIVE),
        "A-found": ("A", "2", Unit.EACH, "Quarantine", PackageStatus.ACTIVE),
        "B1": ("B", "2", Unit.EACH, "Sales Floor", PackageStatus.ACTIVE),
        "C1": ("C", "28", Unit.GRAMS, "Vault", PackageStatus.ACTIVE),
        "C2": ("C", "10.5", Unit.GRAMS, "Sales Floor", PackageStatus.ACTIVE),
        "C-quarantine": ("C", "14", Unit.GRAMS, "Quarantine", PackageStatus.ACTIVE),
        "C-hold": ("C", "5", Unit.GRAMS, "Vault", PackageStatus.ON_HOLD),
        "D1": ("D", "56", Unit.GRAMS, "Vault", PackageStatus.ACTIVE),
        "E1": ("E", "0", Unit.EACH, "Vault", PackageStatus.FINISHED),
    }
    rows = [
        {
            "tag": tag(n),
            "item_id": items[key],
            "quantity": Decimal(qty),
            "unit": unit,
            "location_id": loc[where],
            "status": status,
        }
        for n, (key, qty, unit, where, status) in enumerate(spec.values(), start=1)
    ]
    s.execute(insert(Package), rows)
    by_tag = dict(s.execute(select(Package.tag, Package.id)).all())
    return {name: by_tag[tag(n)] for n, name in enumerate(spec, start=1)}


def _velocity_sales(sales: _Sales, items: dict[str, int]) -> None:
    a, b, c, d, e = (items[k] for k in "ABCDE")
    each, grams = Unit.EACH, Unit.GRAMS
    for day, qty in (
        (THROUGH, 2),
        (date(2026, 3, 25), 1),
        (date(2026, 3, 20), 3),
        (date(2026, 3, 5), 2),
        (date(2026, 2, 10), 4),
        (date(2026, 1, 5), 2),
        (date(2025, 12, 1), 5),
        (date(2026, 4, 1), 9),
    ):  # the last one is after THROUGH: never counted
        sales.sell(a, "SKU-A", day, str(qty), str(20 * qty), each)
    sales.sell(a, "SKU-A", THROUGH, "0", "0", each, hour=13)  # a zero line changes nothing
    for day in (date(2026, 3, 28), date(2026, 3, 12)):
        sales.sell(b, "SKU-B", day, "7", "70", each)
    for day, qty, amount in (
        (date(2026, 3, 30), "3.5", "43.75"),
        (date(2026, 3, 22), "7", "87.50"),
        (date(2026, 2, 20), "14", "175"),
    ):
        sales.sell(c, "SKU-C", day, qty, amount, grams)
    sales.sell(d, "SKU-D", date(2025, 12, 1), "3.5", "28", grams)
    sales.sell(e, "SKU-E", date(2025, 6, 1), "1", "15", each)


def _counts(
    s: Any, items: dict[str, int], packages: dict[str, int], loc: dict[str, int], actors: dict[str, Actor]
) -> dict[int, int]:
    alex, maria = actors["alex"].user_id, actors["maria"].user_id
    edibles = {"categories": ["Edible"], "locations": ["Vault", "Sales Floor"]}
    sessions = [  # (name, scope, snapshot, submitted, status, frozen figures: lines, matching, |units|, |$|)
        (
            "Edibles, week 10",
            edibles,
            COUNT1_AT,
            local(date(2026, 3, 10), 15),
            CountStatus.SUBMITTED,
            (5, 2, Decimal(7), Decimal("130.00")),
        ),
        (
            "Flower",
            {"categories": ["Flower"]},
            COUNT2_AT,
            local(date(2026, 3, 20), 18),
            CountStatus.SUBMITTED,
            (None, None, None, None),
        ),
        (
            "April edibles",
            edibles,
            local(date(2026, 4, 2), 8),
            local(date(2026, 4, 2), 9),
            CountStatus.SUBMITTED,
            (1, 1, Decimal(0), Decimal(0)),
        ),
        ("Still open", edibles, local(date(2026, 3, 30), 8), None, CountStatus.OPEN, (None, None, None, None)),
    ]
    ids = {}
    for number, (name, scope, snapshot, submitted, status, frozen) in enumerate(sessions, start=1):
        lines, matching, units, dollars = frozen
        ids[number] = s.execute(
            insert(CountSession)
            .values(
                name=name,
                scope=json.dumps(scope),
                blind=number != 2,
                status=status,
                started_by_id=alex,
                snapshot_at=snapshot,
                submitted_at=submitted,
                submitted_by_id=maria if submitted else None,
                lines_counted=lines,
                lines_matching=matching,
                unit_variance=units,
                dollar_variance=dollars,
            )
            .returning(CountSession.id)
        ).scalar_one()

    def tag_of(package: str) -> str:
        return tag(list(packages).index(package) + 1)

    def expected(
        count: int, package: str, item: str, ledger: str, price: str, unit: Unit = Unit.EACH
    ) -> dict[str, Any]:
        return {
            "session_id": ids[count],
            "tag": tag_of(package),
            "package_id": packages[package],
            "item_id": items[item],
            "location_id": loc["Vault"],
            "unit": unit,
            "ledger_qty": Decimal(ledger),
            "pos_qty": None,
            "metrc_qty": None,
            "unit_price": Decimal(price),
        }

    def entry(
        count: int, package: str, qty: str, at: datetime, *, recount: bool = False, in_scope: bool = True
    ) -> dict[str, Any]:
        return {
            "session_id": ids[count],
            "tag": tag_of(package),
            "package_id": packages[package],
            "quantity": Decimal(qty),
            "location_id": loc["Vault"],
            "in_scope": in_scope,
            "supersedes_previous": recount,
            "counted_by_id": alex,
            "counted_at": at,
        }

    counted1, counted2 = COUNT1_AT + timedelta(hours=1), COUNT2_AT + timedelta(hours=1)
    s.execute(
        insert(CountExpected),
        [
            expected(1, "A1", "A", "10", "20"),
            expected(1, "B1", "B", "5", "10"),
            expected(1, "A2", "A", "4", "20"),
            expected(2, "C1", "C", "28", "12.50", Unit.GRAMS),
            expected(2, "D1", "D", "56", "8", Unit.GRAMS),
            expected(3, "A1", "A", "1", "20"),
            expected(4, "A1", "A", "3", "20"),
        ],
    )
    s.execute(
        insert(CountEntry),
        [
            entry(1, "A1", "9", counted1),  # 10 at the snapshot, one sold before it was counted: a match
            entry(1, "B1", "3", counted1),
            entry(1, "B1", "4", counted1, recount=True),  # the recount replaces the 3
            entry(1, "A2", "0", counted1, recount=True),  # not found, recorded as 0 at submit
            entry(1, "A-found", "2", counted1, in_scope=False),  # found, not expected: ledger had 0
            entry(1, "C2", "10.5", counted1, in_scope=False),  # out of scope, matches its ledger: a Flower line
            entry(2, "C1", "24", counted2),  # 28 at the snapshot, 3.5 g sold since: half a gram short
            entry(2, "D1", "50", counted2),
            entry(2, "D1", "6", counted2),  # two counters, 56 together
            entry(3, "A1", "1", local(date(2026, 4, 2), 8, 30)),
            entry(4, "A1", "2", local(date(2026, 3, 30), 9)),
        ],
    )
    return ids


def _adjustments(s: Any, packages: dict[str, int], counts: dict[int, int], actors: dict[str, Actor]) -> None:
    alex, maria = actors["alex"].user_id, actors["maria"].user_id

    def adj(
        package: str,
        delta: str,
        unit: Unit,
        before: str,
        reason: str,
        note: str,
        at: datetime,
        by: int | None,
        approver: int | None,
        value: str,
        count: int | None,
    ) -> dict[str, Any]:
        return {
            "package_id": packages[package],
            "quantity_delta": Decimal(delta),
            "unit": unit,
            "before_quantity": Decimal(before),
            "after_quantity": Decimal(before) + Decimal(delta),
            "reason": reason,
            "note": note,
            "adjusted_at": at,
            "user_id": by,
            "approved_by_id": approver,
            "unit_value": Decimal(value),
            "count_session_id": counts[count] if count else None,
        }

    each, grams = Unit.EACH, Unit.GRAMS
    rows = [
        adj("A2", "-4", each, "5", "Theft", INJECTION_NOTE, local(date(2026, 3, 10), 16), alex, maria, "20", 1),
        adj(
            "A-found",
            "2",
            each,
            "0",
            "Inventory Audit",
            "found behind the shelf",
            local(date(2026, 3, 10), 16, 5),
            alex,
            None,
            "20",
            1,
        ),
        adj(
            "C1",
            "-0.5",
            grams,
            "28",
            "Scale Variance",
            "-0.5 g scale drift",
            local(date(2026, 3, 21), 10),
            alex,
            None,
            "12.50",
            2,
        ),
        adj("B1", "-1", each, "3", "Damage", "@dropped jar", local(date(2026, 3, 25), 11), maria, None, "10", None),
        adj(
            "B1",
            "-1",
            each,
            "2",
            "Damage",
            "April: not in the range",
            local(date(2026, 4, 2), 11),
            maria,
            None,
            "10",
            None,
        ),
        # the last minutes of Mar 31 in the store are April 1 in UTC: still in the range
        adj("D1", "-1", grams, "57", "Waste", "late night", local(date(2026, 3, 31), 23, 30), alex, None, "0", None),
    ]
    ids = s.execute(
        insert(Adjustment).returning(
            Adjustment.id, Adjustment.package_id, Adjustment.quantity_delta, Adjustment.unit, Adjustment.adjusted_at
        ),
        rows,
    ).all()
    ledger = [
        {
            "package_id": pid,
            "at": at,
            "kind": LedgerKind.ADJUSTMENT,
            "quantity_delta": delta,
            "unit": unit,
            "doc_type": "adjustment",
            "doc_id": adj_id,
        }
        for adj_id, pid, delta, unit, at in ids
    ]
    sale = {"kind": LedgerKind.SALE, "doc_type": "pos_sale_line", "doc_id": None}
    ledger += [
        {
            **sale,
            "package_id": packages["A1"],
            "at": COUNT1_AT + timedelta(minutes=30),
            "quantity_delta": Decimal(-1),
            "unit": each,
        },
        {
            **sale,
            "package_id": packages["A1"],
            "at": COUNT1_AT + timedelta(hours=2),
            "quantity_delta": Decimal(-2),
            "unit": each,
        },  # after it was counted: not part of the count
        {
            **sale,
            "package_id": packages["C1"],
            "at": COUNT2_AT + timedelta(minutes=30),
            "quantity_delta": Decimal("-3.5"),
            "unit": grams,
        },
    ]
    s.execute(insert(LedgerEntry), ledger)


def random_sales(db: Database, *, seed: int, items: int = 12, days: int = 220) -> None:
    """Random sales over ``days`` before THROUGH (and a few after it) for a few extra items,
    with their stock; for checks against pandas over the raw lines."""
    rng = random.Random(seed)
    with db.transaction() as s:
        loc = dict(s.execute(select(Location.name, Location.id)).all())
        categories = ["Edible", "Flower", "Vape"]
        rows = []
        for n in range(items):
            unit = Unit.GRAMS if n % 3 == 1 else Unit.EACH
            rows.append(
                _item(
                    f"RND-{n:02d}",
                    f"Random item {n}",
                    rng.choice(["Kind", "Verde", "Lumen"]),
                    rng.choice(["North", "South"]),
                    categories[n % 3],
                    unit,
                    str(rng.randint(5, 60)),
                    rng.choice([None, 3, 10]),
                )
            )
        s.execute(insert(Item), rows)
        ids = dict(s.execute(select(Item.sku, Item.id)).all())
        sales = _Sales()
        packages = []
        for n, row in enumerate(rows):
            item_id = ids[row["sku"]]
            for _ in range(rng.randint(0, 90)):
                day = THROUGH - timedelta(days=rng.randint(-5, days))
                grams = row["unit"] is Unit.GRAMS
                qty = Decimal(rng.choice(["1", "3.5", "7"])) if grams else Decimal(rng.randint(1, 3))
                sales.sell(item_id, row["sku"], day, qty, (qty * row["price"]).quantize(Decimal("0.01")), row["unit"])
            for k in range(rng.randint(0, 3)):
                packages.append(
                    {
                        "tag": tag(1000 + n * 10 + k),
                        "item_id": item_id,
                        "quantity": Decimal(rng.randint(1, 40)),
                        "unit": row["unit"],
                        "location_id": loc[rng.choice(["Vault", "Sales Floor", "Quarantine"])],
                        "status": PackageStatus.ACTIVE,
                    }
                )
        if packages:
            s.execute(insert(Package), packages)
        sales.write(s)
