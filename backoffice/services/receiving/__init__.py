"""Receiving a delivery: a METRC manifest checked package by package.

Import a manifest → scan each package (its line is ticked; the received quantity is the
shipped one unless changed with a note) → accept or reject each line (a rejection has a
reason and a note) → finish: ONE transaction creates the accepted packages in the receiving
location with their ledger RECEIVE rows, the audit event, and the METRC outbox entry.

Receiving a licensed transfer is not a METRC API call: that outbox entry is the receive
sheet a person keys into METRC's web UI, and ``receiving_metrc.check_metrc`` closes it once
METRC's active packages agree. A package is accepted or rejected whole; a shipping error is
fixed by rejecting, never by adjusting after acceptance. Every scan and decision is its own
transaction, so a receiving survives closing the app or a crash.

Modules by concern: ``views`` (what the calls return), ``lookup`` (shared look-ups),
``checks`` (what stands in the way of accepting; the line state machine), ``reading``,
``importing``, ``lines`` (scan, quantity, expiration), ``decisions`` (accept, reject, undo),
``finishing`` (location, bins, receive sheet). Callers use the names re-exported here, as
``receiving.scan(...)``. Creating an item from a manifest line is in ``services.catalogue``.
"""

from backoffice.services.receiving.checks import RETAIL_ID_MISSING, LineAction, line_actions, retail_id_warning
from backoffice.services.receiving.decisions import accept, accept_scanned, reject, undo_decision
from backoffice.services.receiving.finishing import (
    accept_all,
    finish,
    ready_to_finish,
    receiving_location,
    suggest_bins,
)
from backoffice.services.receiving.importing import import_file, import_manifest
from backoffice.services.receiving.lines import scan, set_expiration, set_received_quantity
from backoffice.services.receiving.lookup import find_manifest
from backoffice.services.receiving.reading import get_manifest, list_manifests
from backoffice.services.receiving.unit_codes import UnitCodesMissing
from backoffice.services.receiving.views import (
    DECIDED,
    NOTE_LIMIT,
    REJECT_REASONS,
    AcceptResult,
    BadScan,
    FinishResult,
    ImportResult,
    LineChange,
    LineView,
    ManifestSummary,
    ManifestView,
    ReceivedPackage,
    ScanProblem,
    ScanResult,
)

__all__ = [
    "DECIDED",
    "NOTE_LIMIT",
    "REJECT_REASONS",
    "RETAIL_ID_MISSING",
    "UnitCodesMissing",
    "AcceptResult",
    "BadScan",
    "FinishResult",
    "ImportResult",
    "LineAction",
    "LineChange",
    "LineView",
    "ManifestSummary",
    "ManifestView",
    "ReceivedPackage",
    "ScanProblem",
    "ScanResult",
    "accept",
    "accept_all",
    "accept_scanned",
    "find_manifest",
    "finish",
    "get_manifest",
    "import_file",
    "import_manifest",
    "line_actions",
    "list_manifests",
    "ready_to_finish",
    "receiving_location",
    "reject",
    "retail_id_warning",
    "scan",
    "set_expiration",
    "set_received_quantity",
    "suggest_bins",
    "undo_decision",
]
