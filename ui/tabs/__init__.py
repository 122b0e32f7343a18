"""The main window's tabs, in order. Each workflow module registers its Tab class here."""

from __future__ import annotations

from ui.tabs.audit import AuditTab
from ui.tabs.base import Tab
from ui.tabs.catalogue import CatalogueTab
from ui.tabs.cycle_count import CycleCountTab
from ui.tabs.inventory import InventoryTab
from ui.tabs.labels import LabelsTab
from ui.tabs.metrc_outbox import MetrcTab
from ui.tabs.receiving import ReceivingTab
from ui.tabs.reconciliation import ReconciliationTab
from ui.tabs.reports import ReportsTab
from ui.tabs.transfers import TransfersTab

TAB_CLASSES: list[type[Tab]] = [
    InventoryTab,
    ReceivingTab,
    CatalogueTab,
    TransfersTab,
    CycleCountTab,
    ReconciliationTab,
    ReportsTab,
    LabelsTab,
    MetrcTab,
    AuditTab,
]
