"""Eight weeks of submitted cycle counts for the demo store, written beside its sales history.

Twice a week one category (on the large store, one category of two brands) is counted in
the vault and on the floor before opening. Each count is built the way the cycle-count
service would leave it after ``start_count``, ``record_count`` and ``submit``: a frozen
expectation per package at the snapshot (the ledger's balance then), one entry per package
counted a few minutes later (its balance at that moment, so sales during the count are not
variance), a few planted variances with reason-coded adjustments at submit, and the
accuracy figures frozen as ``submit`` computes them. Variances are planted only on packages
that are still open at the end, so every later balance stays above zero.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from backoffice.domain.enums import CountStatus, LedgerKind, PackageStatus
from backoffice.domain.numbers import to_money
from backoffice.domain.units import Unit
from backoffice.services.counts import Scope

WEEKS = 8
VARIANCE_RATE = 0.06  # about one package in sixteen is off, as stores new to cycle counting find
# (reason, signed change for count-based items, note): METRC reasons that need a note get one
EACH_VARIANCES = [
    ("Theft", Decimal(-1), "Not on the shelf or in the bin; camera review requested."),
    ("Damage", Decimal(-1), "Crushed unit found behind the bin; set aside for destruction."),
    ("Entry Error", Decimal(1), "One more unit than the ledger: a sale was keyed twice at the register."),
    ("Inventory Audit", Decimal(-1), "Short one unit at the count; no sale or transfer explains it."),
]
GRAM_VARIANCES = [
    ("Scale Variance", "Re-weighed on the certified scale."),
    ("Drying", "Flower lost weight while stored in the vault."),
]


@dataclass
class PlannedCount:
    id: int
    name: str
    scope: Scope
    snapshot_at: datetime
    submitted_at: datetime
    lines_counted: int = 0
    lines_matching: int = 0
    unit_variance: Decimal = Decimal(0)
    dollar_variance: Decimal = Decimal(0)

    def covers(self, item: dict[str, Any]) -> bool:
        brands = self.scope.brands
        return item["category"] in self.scope.categories and (not brands or item["brand"] in brands)


@dataclass
class CountRows:
    """Rows for the count tables, flushed with the packages they point at."""

    expected: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    adjustments: list[dict[str, Any]] = field(default_factory=list)


class CountHistory:
    def __init__(
        self,
        rng: random.Random,
        today: date,
        tz: ZoneInfo,
        categories: list[str],
        brands: list[str],
        *,
        brands_per_count: int,
        counter_id: int,
        manager_id: int,
        locations: dict[str, int],
    ) -> None:
        self.rng, self.counter_id, self.manager_id = rng, counter_id, manager_id
        self.floor, self.vault = locations["Sales Floor"], locations["Vault"]
        self.rows = CountRows()
        self.next_adjustment_id = 1
        self.counts: list[PlannedCount] = []
        for k in range(WEEKS * 2):  # oldest first: an earlier count's adjustments are in a later one's snapshot
            day = today - timedelta(days=WEEKS * 7 - 2 - (7 * k) // 2)
            category = categories[k % len(categories)]
            chosen = tuple(sorted(rng.sample(brands, brands_per_count))) if brands_per_count else ()
            scope = Scope(categories=(category,), brands=chosen, locations=("Sales Floor", "Vault"))
            start = datetime.combine(day, time(7, 45), tz)
            self.counts.append(
                PlannedCount(
                    k + 1,
                    f"{category}{' · ' + ', '.join(chosen) if chosen else ''}, vault and floor ({day:%b %d})",
                    scope,
                    start,
                    start + timedelta(hours=2, minutes=15),
                )
            )

    def session_rows(self) -> list[dict[str, Any]]:
        """The count sessions, written before their lines (and completed by ``figures``)."""
        return [
            {
                "id": c.id,
                "name": c.name,
                "scope": c.scope.to_json(),
                "blind": True,
                "status": CountStatus.SUBMITTED,
                "started_by_id": self.counter_id,
                "snapshot_at": c.snapshot_at,
                "submitted_at": c.submitted_at,
                "submitted_by_id": self.manager_id,
                "lines_counted": 0,
                "lines_matching": 0,
                "unit_variance": Decimal(0),
                "dollar_variance": Decimal(0),
                "created_at": c.snapshot_at,
                "updated_at": c.submitted_at,
            }
            for c in self.counts
        ]

    def figures(self) -> list[dict[str, Any]]:
        return [
            {
                "id": c.id,
                "lines_counted": c.lines_counted,
                "lines_matching": c.lines_matching,
                "unit_variance": c.unit_variance,
                "dollar_variance": c.dollar_variance,
            }
            for c in self.counts
        ]

    def count_item(
        self,
        item: dict[str, Any],
        packages: list[dict[str, Any]],
        item_ledger: list[dict[str, Any]],
        ledger: list[dict[str, Any]],
    ) -> None:
        """Count one item's packages (``item_ledger``: their ledger rows) in every count that
        covers it; ``ledger`` gains the adjustments' rows."""
        counts = [c for c in self.counts if c.covers(item)]
        if not counts:
            return
        by_package: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in item_ledger:
            by_package[row["package_id"]].append(row)
        for count in counts:
            for pkg in packages:
                if pkg["received_at"] < count.snapshot_at:
                    self._count_package(count, item, pkg, by_package[pkg["id"]], ledger)

    def _count_package(
        self,
        count: PlannedCount,
        item: dict[str, Any],
        pkg: dict[str, Any],
        rows: list[dict[str, Any]],
        ledger: list[dict[str, Any]],
    ) -> None:
        at_snapshot = _balance(rows, count.snapshot_at)
        if at_snapshot <= 0:
            return  # sold out before the count: not in its snapshot
        counted_at = count.snapshot_at + timedelta(minutes=5 + self.rng.random() * 120)
        on_hand = _balance(rows, counted_at)
        variance, reason, note = self._variance(item, pkg, on_hand)
        counted = on_hand + variance
        self.rows.expected.append(
            {
                "session_id": count.id,
                "tag": pkg["tag"],
                "package_id": pkg["id"],
                "item_id": item["id"],
                "location_id": self._location(rows, count.snapshot_at),
                "unit": pkg["unit"],
                "ledger_qty": at_snapshot,
                "pos_qty": None,
                "metrc_qty": None,
                "unit_price": item["price"],
            }
        )
        self.rows.entries.append(
            {
                "session_id": count.id,
                "tag": pkg["tag"],
                "package_id": pkg["id"],
                "quantity": counted,
                "location_id": self._location(rows, counted_at),
                "in_scope": True,
                "supersedes_previous": False,
                "counted_by_id": self.counter_id,
                "counted_at": counted_at,
                "workstation": "VAULT-1",
                "note": None,
            }
        )
        count.lines_counted += 1
        count.lines_matching += int(variance == 0)
        count.unit_variance += abs(variance)
        count.dollar_variance += abs(to_money(variance * item["price"]))
        if variance:
            self._adjust(count, item, pkg, rows, ledger, variance, reason, note)

    def _variance(self, item: dict[str, Any], pkg: dict[str, Any], on_hand: Decimal) -> tuple[Decimal, str, str]:
        if pkg["status"] is not PackageStatus.ACTIVE or self.rng.random() >= VARIANCE_RATE:
            return Decimal(0), "", ""
        if item["unit"] is Unit.GRAMS:
            reason, note = self.rng.choice(GRAM_VARIANCES)
            # within the state's 10 % cap for a scale variance, and never below what is left
            size = min(Decimal(self.rng.randint(1, 15)) / 10, (on_hand / 10).quantize(Decimal("0.1"), ROUND_DOWN))
            if size <= 0:
                return Decimal(0), "", ""
            change = -size if reason == "Drying" or self.rng.random() < 0.7 else size
        else:
            reason, change, note = self.rng.choice(EACH_VARIANCES)
        if change < 0 and (pkg["quantity"] + change <= 0 or on_hand + change < 0):
            return Decimal(0), "", ""
        return change, reason, note

    def _adjust(
        self,
        count: PlannedCount,
        item: dict[str, Any],
        pkg: dict[str, Any],
        rows: list[dict[str, Any]],
        ledger: list[dict[str, Any]],
        change: Decimal,
        reason: str,
        note: str,
    ) -> None:
        before = _balance(rows, count.submitted_at)
        adjustment_id = self.next_adjustment_id
        self.next_adjustment_id += 1
        self.rows.adjustments.append(
            {
                "id": adjustment_id,
                "package_id": pkg["id"],
                "quantity_delta": change,
                "unit": pkg["unit"],
                "before_quantity": before,
                "after_quantity": before + change,
                "reason": reason,
                "note": note,
                "adjusted_at": count.submitted_at,
                "user_id": self.manager_id,
                "approved_by_id": None,
                "count_session_id": count.id,
                "unit_value": item["price"],
                "outbox_id": None,
            }
        )
        row = {
            "package_id": pkg["id"],
            "at": count.submitted_at,
            "kind": LedgerKind.ADJUSTMENT,
            "quantity_delta": change,
            "unit": pkg["unit"],
            "from_location_id": None,
            "to_location_id": None,
            "doc_type": "adjustment",
            "doc_id": adjustment_id,
            "user_id": self.manager_id,
            "note": f"{reason}: {note}",
        }
        rows.append(row)
        ledger.append(row)
        pkg["quantity"] += change

    def _location(self, rows: list[dict[str, Any]], when: datetime) -> int:
        moved = any(r["kind"] is LedgerKind.TRANSFER and r["at"] <= when for r in rows)
        return self.floor if moved else self.vault


def _balance(rows: list[dict[str, Any]], when: datetime) -> Decimal:
    return sum((r["quantity_delta"] for r in rows if r["at"] <= when), Decimal(0))
