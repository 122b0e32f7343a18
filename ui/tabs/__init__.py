"""The main window's tabs, in order: each one's title, the permission it needs, and where its
class lives. Titles and permissions are stated here only, so the window can list every tab and
enable it for the signed-in role without importing it: a tab's module (its widgets, services
and the libraries only it uses) is imported when the tab is first shown (ui/main_window.py)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from backoffice.services.actor import Permission

if TYPE_CHECKING:
    from ui.tabs.base import Tab


@dataclass(frozen=True)
class TabSpec:
    """``works_unseen``: the tab has work of its own to do whether or not anyone opens it, so
    the window builds it soon after start-up instead of on first view."""

    title: str
    permission: Permission | None
    module: str
    class_name: str
    works_unseen: bool = False

    def load(self) -> type[Tab]:
        tab_class: type[Tab] = getattr(import_module(self.module), self.class_name)
        return tab_class


TABS: tuple[TabSpec, ...] = (
    TabSpec("Inventory", Permission.VIEW_INVENTORY, "ui.tabs.inventory", "InventoryTab"),
    TabSpec("Receiving", Permission.RECEIVE, "ui.tabs.receiving", "ReceivingTab"),
    TabSpec("Catalogue", Permission.VIEW_INVENTORY, "ui.tabs.catalogue", "CatalogueTab"),
    TabSpec("Transfers", Permission.TRANSFER, "ui.tabs.transfers", "TransfersTab"),
    TabSpec("Cycle Count", Permission.COUNT, "ui.tabs.cycle_count", "CycleCountTab"),
    TabSpec("Reconciliation", Permission.RECONCILE, "ui.tabs.reconciliation", "ReconciliationTab"),
    TabSpec("Reports", Permission.REPORTS, "ui.tabs.reports", "ReportsTab"),
    TabSpec("Labels", Permission.PRINT_LABELS, "ui.tabs.labels", "LabelsTab"),
    TabSpec(
        "METRC", Permission.VIEW_INVENTORY, "ui.tabs.metrc_outbox", "MetrcTab", works_unseen=True
    ),  # sends the outbox
    TabSpec("Audit", Permission.VIEW_AUDIT, "ui.tabs.audit", "AuditTab"),
)


def spec_of(tab_class: type[Tab]) -> TabSpec:
    """The entry of a tab class (or of the registered tab it derives from)."""
    for cls in tab_class.__mro__:
        for spec in TABS:
            if spec.module == cls.__module__ and spec.class_name == cls.__name__:
                return spec
    raise LookupError(f"{tab_class.__name__} is not one of the main window's tabs")
