"""A deterministic, realistic demo store.

small: ≈300 SKUs, 2,000 active packages, 90 days of sales.
large: 5,000 SKUs, 50,000 active packages (≈250,000 with history), two years of sales
(≈1.5 million sale lines).

Sales are generated per item in time order and drawn from its packages first-in first-out,
so every package's ledger (receive → transfer to floor → sales) sums to its quantity and
finished packages really were sold out. Beside them: METRC's copy of every receipt with a
few planted differences on recent days (``demo_metrc``), eight weeks of submitted cycle
counts with reason-coded adjustments (``demo_counts``), and this morning's work made through
the services (``demo_today``): two manifests waiting and a transfer recorded but not moved.
Rows are bulk-inserted with Core for speed; one audit event records the build.

The whole build is one transaction: a run that fails or is killed part-way leaves the
database as empty as it found it, and the next run starts afresh.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, func, insert, select, text, update
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import (
    Adjustment,
    AdjustmentReason,
    Base,
    CountEntry,
    CountExpected,
    CountSession,
    Item,
    LedgerEntry,
    Location,
    Package,
    PosSaleLine,
    SalesDaily,
    TagPoolEntry,
    utcnow,
)
from backoffice.demo_counts import CountHistory
from backoffice.demo_metrc import Planted, mirror_pos_sales, plant_differences
from backoffice.demo_today import recorded_transfer, waiting_manifests
from backoffice.domain.enums import (
    LabState,
    LedgerKind,
    LocationKind,
    PackageStatus,
    QuantityType,
    Role,
)
from backoffice.domain.units import Unit
from backoffice.errors import UserError
from backoffice.services import audit, users
from backoffice.services.actor import SYSTEM, Actor

DEMO_USERS = [  # (user name, display name, role, PIN) — printed in the README
    ("admin", "Store Admin", Role.ADMIN, "900000"),
    ("maria", "Maria Lopez", Role.MANAGER, "222222"),
    ("alex", "Alex Kim", Role.ASSOCIATE, "1111"),
    ("pat", "Pat Nguyen", Role.PURCHASING, "3333"),
]


@dataclass(frozen=True)
class Scale:
    skus: int
    active_packages: int
    days: int
    sale_lines: int


SCALES = {
    "small": Scale(skus=300, active_packages=2_000, days=90, sale_lines=27_000),
    "large": Scale(skus=5_000, active_packages=50_000, days=730, sale_lines=1_500_000),
}

BRANDS = [
    "Kind Harvest",
    "Verde Labs",
    "North Coast Extracts",
    "Lumen",
    "High Plains",
    "Sunday Goods",
    "Coastal Cure",
    "Golden State Botanicals",
    "Emerald Bay",
    "Fog City Farms",
    "Sierra Sun",
    "Mojave Gold",
]
STRAINS = [
    "Blue Dream",
    "Sour Diesel",
    "GMO Cookies",
    "Wedding Cake",
    "Granddaddy Purple",
    "Gelato",
    "Jack Herer",
    "OG Kush",
    "Pineapple Express",
    "Zkittlez",
    "Runtz",
    "Durban Poison",
    "Northern Lights",
    "Ice Cream Cake",
    "Lemon Cherry Gelato",
    "Mimosa",
]
# (METRC category, product form, unit, quantity type, price range, dose): dosed products carry
# their potency as THC and CBD mg per unit, the others as THC and CBD % on each package's lab result
CATEGORIES: list[tuple[str, str, Unit, QuantityType, tuple[int, int], tuple[int, int] | None]] = [
    ("Buds", "Flower", Unit.GRAMS, QuantityType.WEIGHT_BASED, (8, 16), None),
    ("Pre-Roll Flower", "Pre-Roll 5pk 2.5g", Unit.EACH, QuantityType.COUNT_BASED, (18, 45), None),
    ("Edible (weight - each)", "Gummies 10mg x10", Unit.EACH, QuantityType.COUNT_BASED, (16, 30), (100, 0)),
    ("Edible (weight - each)", "Chocolate Bar 100mg", Unit.EACH, QuantityType.COUNT_BASED, (18, 28), (100, 0)),
    ("Vape Cartridge (weight - each)", "Live Resin Cart 1g", Unit.EACH, QuantityType.COUNT_BASED, (35, 60), None),
    ("Concentrate (weight - each)", "Live Rosin 1g", Unit.EACH, QuantityType.COUNT_BASED, (40, 80), None),
    ("Tincture (volume - each)", "Tincture 30ml 1:1", Unit.EACH, QuantityType.COUNT_BASED, (30, 65), (300, 300)),
    ("Topical (volume - each)", "Balm 2oz", Unit.EACH, QuantityType.COUNT_BASED, (25, 50), (250, 250)),
]
LOCATIONS = [
    ("Vault", LocationKind.VAULT),
    ("Sales Floor", LocationKind.FLOOR),
    ("Quarantine", LocationKind.QUARANTINE),
    ("Receiving Dock", LocationKind.RECEIVING),
]
ADJUSTMENT_REASONS = [
    ("Drying", False),
    ("Entry Error", True),
    ("Theft", True),
    ("Waste", True),
    ("Spoilage", True),
    ("Damage", True),
    ("Scale Variance", False),
    ("Inventory Audit", True),
    ("Mandatory State Destruction", True),
    ("Vendor Returned Goods", True),
    ("Other", True),
]
STORE_TZ = ZoneInfo("America/Los_Angeles")
BATCH = 20_000

Progress = Callable[[str, float], None]


def tag_for(n: int) -> str:
    """Real-looking METRC tags: 1A4 + facility prefix + 15 hex digits."""
    return f"1A4060300{n:015X}"


@dataclass
class DemoSummary:
    skus: int
    packages: int
    active_packages: int
    sale_lines: int
    days: int
    counts: int = 0
    planted: list[Planted] = field(default_factory=list)  # differences reconciliation should find
    manifests: list[str] = field(default_factory=list)  # waiting to be received
    transfer_id: int | None = None  # recorded, not moved


def build(
    db: Database, scale: str = "small", *, seed: int = 7, today: date | None = None, progress: Progress | None = None
) -> DemoSummary:
    """Build the demo store in one transaction: complete, or (failed, killed) not at all."""
    if scale not in SCALES:
        raise UserError(f"unknown demo scale {scale!r}; choose small or large")
    spec = SCALES[scale]
    report = progress or (lambda _msg, _frac: None)
    today = today or datetime.now(STORE_TZ).date()
    rng = random.Random(seed)
    with db.one_transaction() as store:
        with store.read() as session:
            if session.scalar(select(func.count()).select_from(Item)):
                raise UserError(f"{db.display_url} already holds items; the demo store needs an empty database.")
        people = {
            username: users.add_user(store, SYSTEM, username, display, role, pin).as_actor()
            for username, display, role, pin in DEMO_USERS
        }
        with store.transaction() as session:
            if db.is_sqlite:  # a bulk load: a big page cache keeps index inserts off the disk
                session.connection().exec_driver_sql("PRAGMA cache_size=-400000")
            builder = _Builder(session, spec, rng, today, report, people)
            summary = builder.run()
            _advance_sequences(session)
            summary.planted = plant_differences(session, rng, today)
        report("this morning's deliveries and transfer", 0.97)
        summary.manifests = waiting_manifests(store, people["alex"], rng, today, STORE_TZ, builder.spare_tags(20))
        summary.transfer_id = recorded_transfer(store, people["alex"])
        with store.transaction() as session:
            audit.record(
                session,
                SYSTEM,
                "demo.build",
                "store",
                scale,
                after={
                    "seed": seed,
                    "skus": summary.skus,
                    "packages": summary.packages,
                    "sale_lines": summary.sale_lines,
                    "counts": summary.counts,
                    "through": today.isoformat(),
                },
            )
    report("done", 1.0)
    return summary


def _advance_sequences(session: Session) -> None:
    """The bulk load gives ids itself; PostgreSQL's sequences must then start past them, or the
    first row a service adds afterwards collides with one of the demo's."""
    if session.connection().dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, Integer) or key[0].autoincrement is False:
            continue
        column = key[0].name
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"coalesce(max({column}), 0) + 1, false) FROM {table.name}"
            ),
            {"table": table.name, "column": column},
        )


class _Builder:
    def __init__(
        self, session: Session, spec: Scale, rng: random.Random, today: date, report: Progress, people: dict[str, Actor]
    ) -> None:
        self.s, self.spec, self.rng, self.today, self.report = session, spec, rng, today, report
        self.people = people
        self.start = today - timedelta(days=spec.days)
        self.next_package_id = 1
        self.next_line_id = 1
        self.packages: list[dict[str, Any]] = []
        self.ledger: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []
        self.daily: dict[tuple[int, date], list[Any]] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
        self.receipts: dict[date, int] = defaultdict(int)
        self.counts = {"packages": 0, "active": 0, "lines": 0}

    def spare_tags(self, n: int) -> list[str]:
        """Tags no package and no pool entry uses, for this morning's deliveries."""
        first = self.next_package_id + 500_000
        return [tag_for(first + k) for k in range(n)]

    def run(self) -> DemoSummary:
        self.s.execute(insert(Location), [{"name": n, "kind": k, "metrc_name": n} for n, k in LOCATIONS])
        self.s.execute(
            insert(AdjustmentReason),
            [
                {
                    "name": n,
                    "requires_note": r,
                    "source": "settings",
                    "active": True,
                    "max_percent": 10 if n == "Scale Variance" else None,
                }
                for n, r in ADJUSTMENT_REASONS
            ],
        )
        self.loc = {n: i for n, i in self.s.execute(select(Location.name, Location.id))}
        items = self._items()
        self.report("items", 0.05)
        counter_id, manager_id = self.people["alex"].user_id, self.people["maria"].user_id
        assert counter_id is not None and manager_id is not None  # users just added, not SYSTEM
        self.history = CountHistory(
            self.rng,
            self.today,
            STORE_TZ,
            sorted({i["category"] for i in items}),
            sorted({i["brand"] for i in items}),
            brands_per_count=2 if self.spec.skus > 1000 else 0,
            counter_id=counter_id,
            manager_id=manager_id,
            locations=self.loc,
        )
        self.s.execute(insert(CountSession), self.history.session_rows())
        weights = [self.rng.lognormvariate(0, 1.0) for _ in items]
        per_weight = self.spec.sale_lines / sum(weights)
        active_per_item = self.spec.active_packages / len(items)
        for index, (item, weight) in enumerate(zip(items, weights, strict=True)):
            first_package, first_row = len(self.packages), len(self.ledger)
            self._item_history(item, weight * per_weight, active_per_item)
            self.history.count_item(item, self.packages[first_package:], self.ledger[first_row:], self.ledger)
            if len(self.lines) >= BATCH or len(self.ledger) >= BATCH:
                self._flush()
            if index % 100 == 0:
                self.report("sales history", 0.05 + 0.9 * index / len(items))
        self._flush()
        self._write_daily()
        self._tag_pool()
        self.s.execute(update(CountSession), self.history.figures())
        self.report("METRC's copy of the sales", 0.95)
        mirror_pos_sales(self.s, utcnow())
        return DemoSummary(
            len(items),
            self.counts["packages"],
            self.counts["active"],
            self.counts["lines"],
            self.spec.days,
            len(self.history.counts),
        )

    # --- items ---------------------------------------------------------------------------

    def _items(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        n = 0
        while len(rows) < self.spec.skus:
            brand = self.rng.choice(BRANDS)
            strain = self.rng.choice(STRAINS)
            category, form, unit, qtype, (lo, hi), dose = self.rng.choice(CATEGORIES)
            n += 1
            name = f"{brand} {strain} {form}"
            if name in seen:
                name = f"{name} #{n}"
            seen.add(name)
            price = Decimal(self.rng.randint(lo * 4, hi * 4)) / 4
            rows.append(
                {
                    "sku": f"SKU-{1000 + len(rows)}",
                    "name": name,
                    "brand": brand,
                    "vendor": f"{brand} Distribution",
                    "category": category,
                    "strain": strain,
                    "quantity_type": qtype,
                    "unit": unit,
                    "price": price,
                    "unit_cost": (price * Decimal("0.45")).quantize(Decimal("0.01")),
                    "floor_par": Decimal(self.rng.choice([28, 56, 112]))
                    if unit is Unit.GRAMS
                    else Decimal(self.rng.choice([6, 10, 12, 20])),
                    "unit_thc_mg": Decimal(dose[0]) if dose else None,
                    "unit_cbd_mg": Decimal(dose[1]) if dose else None,
                    "lead_time_days": self.rng.choice([3, 5, 7, 10, 14]),
                    "created_at": datetime.combine(self.start, time(8), STORE_TZ),
                }
            )
        self.s.execute(insert(Item), rows)
        ids = dict(self.s.execute(select(Item.sku, Item.id)).all())
        for row in rows:
            row["id"] = ids[row["sku"]]
        return rows

    # --- one item's two years -------------------------------------------------------------

    def _item_history(self, item: dict[str, Any], expected_lines: float, active_per_item: float) -> None:
        rng = self.rng
        n_lines = max(0, int(rng.gauss(expected_lines, math.sqrt(expected_lines) + 0.5)))
        grams = item["unit"] is Unit.GRAMS
        size_choices = [Decimal(n) for n in ((28, 56, 112, 224) if grams else (4, 6, 10, 12, 20))]
        sale_times = sorted(self._sale_time() for _ in range(n_lines))
        current: dict[str, Any] | None = None
        for sold_at in sale_times:
            qty = Decimal(rng.choice(["1", "3.5", "3.5", "7", "14"])) if grams else Decimal(rng.choice([1, 1, 1, 2, 3]))
            if current is None or current["quantity"] <= 0:
                current = self._receive(
                    item,
                    rng.choice(size_choices),
                    sold_at - timedelta(days=rng.randint(2, 20)),
                    to_floor_at=sold_at - timedelta(hours=rng.randint(1, 30)),
                )
            qty = min(qty, current["quantity"])
            self._sell(item, current, qty, sold_at)
        # unsold stock on hand: the open floor package plus fresh vault packages
        active_now = 1 if current is not None and current["quantity"] > 0 else 0
        target = max(1, round(rng.gauss(active_per_item, 1.5)))
        for _ in range(max(0, target - active_now)):
            received = datetime.combine(self.today - timedelta(days=rng.randint(1, 45)), time(10), STORE_TZ)
            on_floor = rng.random() < 0.25
            self._receive(
                item,
                rng.choice(size_choices),
                received,
                to_floor_at=received + timedelta(hours=2) if on_floor else None,
            )
        self.counts["active"] += max(target, active_now)

    def _sale_time(self) -> datetime:
        day = self.start + timedelta(days=self.rng.randrange(self.spec.days))
        minute = self.rng.randint(9 * 60, 21 * 60 - 1)
        return datetime.combine(day, time(minute // 60, minute % 60), STORE_TZ)

    def _receive(
        self, item: dict[str, Any], size: Decimal, received: datetime, *, to_floor_at: datetime | None
    ) -> dict[str, Any]:
        rng, pid = self.rng, self.next_package_id
        self.next_package_id += 1
        packaged = received.date() - timedelta(days=rng.randint(5, 40))
        shelf_life = 180 if item["category"].startswith(("Buds", "Pre-Roll")) else 365
        lab = LabState.TEST_PASSED if rng.random() > 0.01 else rng.choice([LabState.RETEST_PASSED, LabState.REMEDIATED])
        thc: Decimal | None = None
        if item["unit_thc_mg"] is None:  # dosed products are labelled in mg per unit instead
            thc = Decimal(rng.randint(1800, 3200) if item["unit"] is Unit.GRAMS else rng.randint(6000, 9000)) / 100
        pkg = {
            "id": pid,
            "tag": tag_for(pid),
            "item_id": item["id"],
            "quantity": size,
            "unit": item["unit"],
            "location_id": self.loc["Sales Floor"] if to_floor_at else self.loc["Vault"],
            "bin": None if to_floor_at else f"V-{item['category'][:3].upper()}-{rng.randint(1, 40):02d}",
            "status": PackageStatus.ACTIVE,
            "packaged_date": packaged,
            "expiration_date": packaged + timedelta(days=shelf_life),
            "lab_state": lab,
            "thc_percent": thc,
            "cbd_percent": Decimal(rng.randint(0, 150)) / 100 if thc is not None else None,
            "total_thc_percent": (thc * Decimal("0.877") + Decimal("0.4")).quantize(Decimal("0.01"))
            if thc is not None
            else Decimal(rng.randint(20, 40)) / 100,
            "received_at": received,
            "received_from_manifest": f"{rng.randint(10**9, 10**10 - 1):010d}",
            "finished_at": None,
            "version": 1,
            "created_at": received,
        }
        self.packages.append(pkg)
        self.counts["packages"] += 1
        self._ledger(
            pid, received, LedgerKind.RECEIVE, size, item["unit"], to=self.loc["Vault"], doc=("manifest", None)
        )
        if to_floor_at:
            self._ledger(
                pid,
                max(to_floor_at, received),
                LedgerKind.TRANSFER,
                Decimal(0),
                item["unit"],
                frm=self.loc["Vault"],
                to=self.loc["Sales Floor"],
                doc=("transfer", None),
            )
        return pkg

    def _sell(self, item: dict[str, Any], pkg: dict[str, Any], qty: Decimal, sold_at: datetime) -> None:
        pkg["quantity"] -= qty
        if pkg["quantity"] == 0:
            pkg["status"], pkg["finished_at"] = PackageStatus.FINISHED, sold_at
        amount = (qty * item["price"]).quantize(Decimal("0.01"))
        day = sold_at.date()
        self.receipts[day] += 1
        line_id = self.next_line_id
        self.next_line_id += 1
        self.lines.append(
            {
                "id": line_id,
                "receipt_number": f"R{day:%y%m%d}-{self.receipts[day]:05d}",
                "line_key": f"{pkg['tag']}/1",
                "sold_at": sold_at,
                "business_date": day,
                "tag": pkg["tag"],
                "package_id": pkg["id"],
                "item_id": item["id"],
                "sku": item["sku"],
                "product_name": item["name"],
                "quantity": qty,
                "unit": item["unit"],
                "amount": amount,
                "budtender": self.rng.choice(["KT", "JR", "MS", "DL"]),
            }
        )
        self.counts["lines"] += 1
        totals = self.daily[(item["id"], day)]
        totals[0] += qty
        totals[1] += amount
        totals[2] += 1
        self._ledger(pkg["id"], sold_at, LedgerKind.SALE, -qty, item["unit"], doc=("pos_sale_line", line_id))

    def _ledger(
        self,
        pid: int,
        at: datetime,
        kind: LedgerKind,
        delta: Decimal,
        unit: Unit,
        *,
        frm: int | None = None,
        to: int | None = None,
        doc: tuple[str, int | None],
    ) -> None:
        self.ledger.append(
            {
                "package_id": pid,
                "at": at,
                "kind": kind,
                "quantity_delta": delta,
                "unit": unit,
                "from_location_id": frm,
                "to_location_id": to,
                "doc_type": doc[0],
                "doc_id": doc[1],
                "user_id": None,
                "note": None,
            }
        )

    # --- writing ---------------------------------------------------------------------------

    def _flush(self) -> None:
        # called between items, when every buffered package is final; packages go first
        # because ledger rows and sale lines point at them
        counted = self.history.rows
        for table, rows in (
            (Package, self.packages),
            (PosSaleLine, self.lines),
            (LedgerEntry, self.ledger),
            (CountExpected, counted.expected),
            (CountEntry, counted.entries),
            (Adjustment, counted.adjustments),
        ):
            if rows:
                self._bulk(table, rows)
            rows.clear()

    def _bulk(self, model: type, rows: list[dict[str, Any]]) -> None:
        """Insert millions of rows fast. The ORM's bulk path splits rows into many statements
        by which columns are None; Core still converts every value through its column type.
        On SQLite the values are converted once here and handed to the driver's executemany."""
        table = model.__table__  # type: ignore[attr-defined]
        conn = self.s.connection()
        if conn.dialect.name != "sqlite":
            for chunk in _chunks(rows, BATCH):
                conn.execute(table.insert(), chunk)
            return
        columns = [c for c in table.columns if any(c.name in r for r in rows[:1])]
        processors = [c.type.bind_processor(conn.dialect) for c in columns]
        sql = (
            f"INSERT INTO {table.name} ({', '.join(c.name for c in columns)}) VALUES ({', '.join('?' * len(columns))})"
        )
        pairs = [(c.name, proc) for c, proc in zip(columns, processors, strict=True)]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for chunk in _chunks(rows, BATCH):
            cursor.executemany(
                sql, [tuple(proc(row[name]) if proc else row[name] for name, proc in pairs) for row in chunk]
            )
        cursor.close()

    def _write_daily(self) -> None:
        rows = [
            {"item_id": item_id, "day": day, "units": u, "revenue": r, "lines": n}
            for (item_id, day), (u, r, n) in self.daily.items()
        ]
        self._bulk(SalesDaily, rows)

    def _tag_pool(self) -> None:
        first = self.next_package_id + 1_000_000
        self.s.execute(insert(TagPoolEntry), [{"tag": tag_for(first + n)} for n in range(200)])


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
