"""All ORM models; importing this module registers every table on ``Base.metadata``."""

from backoffice.db.models.audit import AuditEvent, AuditHead
from backoffice.db.models.base import Base, table_of, utcnow
from backoffice.db.models.counts import (
    Adjustment,
    CountEntry,
    CountExpected,
    CountMetrcFix,
    CountSession,
)
from backoffice.db.models.inventory import (
    Item,
    LedgerEntry,
    Location,
    Package,
    TagPoolEntry,
)
from backoffice.db.models.labels import LabelPrint
from backoffice.db.models.metrc import AdjustmentReason, OutboxEntry
from backoffice.db.models.metrc_mirror import (
    MetrcDriftRun,
    MetrcPackageMirror,
    RetailIdCode,
)
from backoffice.db.models.pending import PendingPackageChange
from backoffice.db.models.people import User
from backoffice.db.models.receiving import Manifest, ManifestLine
from backoffice.db.models.sales import (
    Finding,
    MetrcReceipt,
    MetrcReceiptLine,
    PosImport,
    PosLayoutMapping,
    PosSaleLine,
    SalesDaily,
)
from backoffice.db.models.settings import StoreSetting
from backoffice.db.models.transfers import Transfer, TransferLine

__all__ = [
    "Adjustment",
    "AdjustmentReason",
    "AuditEvent",
    "AuditHead",
    "Base",
    "CountEntry",
    "CountExpected",
    "CountMetrcFix",
    "CountSession",
    "Finding",
    "Item",
    "LabelPrint",
    "LedgerEntry",
    "Location",
    "Manifest",
    "ManifestLine",
    "PendingPackageChange",
    "MetrcDriftRun",
    "MetrcPackageMirror",
    "MetrcReceipt",
    "MetrcReceiptLine",
    "OutboxEntry",
    "Package",
    "PosImport",
    "PosLayoutMapping",
    "PosSaleLine",
    "RetailIdCode",
    "SalesDaily",
    "StoreSetting",
    "TagPoolEntry",
    "Transfer",
    "TransferLine",
    "User",
    "table_of",
    "utcnow",
]
