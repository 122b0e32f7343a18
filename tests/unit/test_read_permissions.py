"""Reads check their permission too: an actor whose role lacks it is refused before anything is read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from backoffice.db.engine import Database
from backoffice.domain.enums import Role
from backoffice.errors import NotFound, PermissionDenied
from backoffice.services import actor as actor_module
from backoffice.services import (
    adjustments,
    counts,
    inventory,
    labels,
    locations,
    metrc_sync,
    reconciliation,
    replenishment,
    tag_pool,
    transfers,
)
from backoffice.services.actor import Actor, Permission
from backoffice.services.inventory import ActiveSearch
from backoffice.services.reports import scope as report_scope

TAG = "1A4060300000000000000001"
DAY = date(2026, 1, 5)
Read = Callable[[Database, Actor], Any]

READS: dict[str, tuple[Read, Permission]] = {
    "inventory.search_packages": (lambda db, a: inventory.search_packages(db, a, "gummy"), Permission.VIEW_INVENTORY),
    "inventory.find_by_tag": (lambda db, a: inventory.find_by_tag(db, a, TAG), Permission.VIEW_INVENTORY),
    "inventory.package_history": (lambda db, a: inventory.package_history(db, a, TAG), Permission.VIEW_INVENTORY),
    "inventory.ActiveSearch.load": (ActiveSearch.load, Permission.VIEW_INVENTORY),
    "locations.list_locations": (locations.list_locations, Permission.VIEW_INVENTORY),
    "transfers.list_transfers": (transfers.list_transfers, Permission.VIEW_INVENTORY),
    "transfers.get_transfer": (lambda db, a: transfers.get_transfer(db, a, 1), Permission.VIEW_INVENTORY),
    "counts.list_counts": (counts.list_counts, Permission.VIEW_INVENTORY),
    "counts.get_count": (lambda db, a: counts.get_count(db, a, 1), Permission.VIEW_INVENTORY),
    "counts.scope_choices": (counts.scope_choices, Permission.VIEW_INVENTORY),
    "metrc_sync.list_entries": (metrc_sync.list_entries, Permission.VIEW_INVENTORY),
    "adjustments.list_reasons": (adjustments.list_reasons, Permission.VIEW_INVENTORY),
    "adjustments.list_adjustments": (adjustments.list_adjustments, Permission.VIEW_INVENTORY),
    "reconciliation.day_view": (lambda db, a: reconciliation.day_view(db, a, DAY), Permission.RECONCILE),
    "reconciliation.actions_for": (lambda db, a: reconciliation.actions_for(db, a, 1), Permission.RECONCILE),
    "replenishment.suggest": (lambda db, a: replenishment.suggest(db, a, today=DAY), Permission.VIEW_INVENTORY),
    "replenishment.sell_soon": (lambda db, a: replenishment.sell_soon(db, a, today=DAY), Permission.VIEW_INVENTORY),
    "replenishment.new_on_floor": (
        lambda db, a: replenishment.new_on_floor(db, a, today=DAY),
        Permission.VIEW_INVENTORY,
    ),
    "labels.list_categories": (labels.list_categories, Permission.VIEW_INVENTORY),
    "labels.recent_manifests": (labels.recent_manifests, Permission.VIEW_INVENTORY),
    "tag_pool.supply": (tag_pool.supply, Permission.VIEW_INVENTORY),
    "tag_pool.list_tags": (tag_pool.list_tags, Permission.VIEW_INVENTORY),
    "reports.scope_choices": (report_scope.scope_choices, Permission.REPORTS),
}


@pytest.mark.parametrize("name", READS)
def test_a_read_is_refused_to_a_role_without_its_permission(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    read, needed = READS[name]
    # the one role that has every permission, less the one this read needs
    monkeypatch.setitem(actor_module.ROLE_PERMISSIONS, Role.ADMIN, frozenset(Permission) - {needed})
    with pytest.raises(PermissionDenied, match=f"lacking \\(admin\\) may not {needed.value}"):
        read(sqlite_db, Actor(None, "lacking", Role.ADMIN))


@pytest.mark.parametrize("name", READS)
def test_a_read_is_allowed_to_every_role_with_its_permission(sqlite_db: Database, name: str) -> None:
    read, needed = READS[name]
    for role in Role:
        reader = Actor(None, role.value, role)
        if not reader.can(needed):
            with pytest.raises(PermissionDenied):
                read(sqlite_db, reader)
            continue
        try:
            read(sqlite_db, reader)
        except NotFound:  # allowed: the lookup ran and found no record #1 in an empty store
            pass


def test_every_role_that_signs_in_can_view_inventory() -> None:
    assert all(Actor(None, role.value, role).can(Permission.VIEW_INVENTORY) for role in Role)


def test_purchasing_may_not_read_a_reconciled_day_and_an_associate_no_report_choices(sqlite_db: Database) -> None:
    with pytest.raises(PermissionDenied, match=r"pat \(purchasing\) may not reconcile sales"):
        reconciliation.day_view(sqlite_db, Actor(None, "pat", Role.PURCHASING), DAY)
    with pytest.raises(PermissionDenied, match=r"alex \(associate\) may not pull reports"):
        report_scope.scope_choices(sqlite_db, Actor(None, "alex", Role.ASSOCIATE))
