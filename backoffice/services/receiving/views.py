"""What the receiving services hand back: views of manifests and lines, results of each step,
the kinds of bad scan, and the fixed lists (rejection reasons, note limit)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from backoffice.domain.enums import LabState, ManifestLineState, ManifestStatus
from backoffice.domain.units import Unit
from backoffice.errors import RuleViolation
from backoffice.services.changes import Changes

# Why a package was refused; the list an associate picks from (a note says the rest).
REJECT_REASONS = (
    "Short-shipped",
    "Not in the delivery",
    "Damaged",
    "Failed lab testing",
    "On hold / lab results missing",
    "Wrong item or tag",
    "Not ordered",
    "Other",
)
NOTE_LIMIT = 400
DECIDED = (ManifestLineState.ACCEPTED, ManifestLineState.REJECTED)


class ScanProblem(enum.StrEnum):
    """Each bad scan, and each line that may not be accepted as it stands."""

    NOT_ON_MANIFEST = "not on this manifest"
    ON_OTHER_MANIFEST = "on another open manifest"
    ALREADY_SCANNED = "already scanned"
    MANIFEST_RECEIVED = "manifest already received"
    FAILED_LAB = "failed lab testing"
    ON_HOLD = "on hold"
    UNKNOWN_ITEM = "item unknown to the store"
    IN_INVENTORY = "tag already in inventory"


class BadScan(RuleViolation):
    """A scan that ticked nothing; ``problem`` says which kind, the message what to do."""

    def __init__(self, message: str, *, problem: ScanProblem, tag: str) -> None:
        super().__init__(message)
        self.problem, self.tag = problem, tag


@dataclass(frozen=True)
class LineView:
    id: int
    tag: str
    item_name: str
    category: str
    strain: str
    shipped_quantity: Decimal
    unit: Unit
    wholesale_price: Decimal | None
    lab_state: LabState
    production_batch: str | None
    expiration_date: date | None
    state: ManifestLineState
    received_quantity: Decimal | None
    item_id: int | None
    item_sku: str | None
    scanned_at: datetime | None
    scanned_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    reject_reason: str | None
    note: str | None
    bin: str | None
    problem: ScanProblem | None
    problem_text: str | None

    @property
    def difference(self) -> Decimal | None:
        """Received minus shipped, when a quantity was received and differs."""
        if self.received_quantity is None or self.received_quantity == self.shipped_quantity:
            return None
        return self.received_quantity - self.shipped_quantity


@dataclass(frozen=True)
class ManifestView:
    id: int
    manifest_number: str
    shipper_name: str
    shipper_license: str
    transporter_license: str | None
    driver_name: str | None
    vehicle: str | None
    estimated_arrival: datetime | None
    status: ManifestStatus
    imported_at: datetime
    imported_by: str | None
    finished_at: datetime | None
    finished_by: str | None
    receiving_location: str | None
    lines: list[LineView]
    # packages METRC lists no Retail ID unit codes for, where the state requires them (unit_codes)
    unit_codes_missing: frozenset[str] = frozenset()

    @property
    def open(self) -> bool:
        return self.status is ManifestStatus.OPEN

    def count(self, state: ManifestLineState) -> int:
        return sum(1 for line in self.lines if line.state is state)

    @property
    def undecided(self) -> int:
        return sum(1 for line in self.lines if line.state not in DECIDED)

    @property
    def needs_attention(self) -> int:
        """Lines not rejected that may not be accepted as they stand (a rejected line has no problem)."""
        return sum(1 for line in self.lines if line.problem is not None)

    @property
    def seen(self) -> int:
        """Lines whose package was scanned (decided or not)."""
        return sum(1 for line in self.lines if line.scanned_at is not None)


@dataclass(frozen=True)
class ManifestSummary:
    id: int
    manifest_number: str
    shipper_name: str
    estimated_arrival: datetime | None
    status: ManifestStatus
    imported_at: datetime
    packages: int
    scanned: int
    decided: int


@dataclass(frozen=True)
class ImportResult:
    manifest_id: int
    manifest_number: str
    packages: int
    shipper_name: str
    already_imported: bool
    status: ManifestStatus
    unknown_items: int
    changes: Changes = Changes.MANIFESTS | Changes.AUDIT


@dataclass(frozen=True)
class ScanResult:
    line: LineView
    scanned: int  # lines of the manifest scanned so far
    total: int
    message: str
    changes: Changes = Changes.MANIFESTS

    @property
    def problem(self) -> ScanProblem | None:
        return self.line.problem

    @property
    def ok(self) -> bool:
        return self.line.problem is None


@dataclass(frozen=True)
class LineChange:
    """The line after a quantity, expiration, decision or item change."""

    lines: list[LineView]
    message: str
    changes: Changes = Changes.MANIFESTS | Changes.AUDIT


@dataclass(frozen=True)
class AcceptResult:
    accepted: list[str]
    left: list[tuple[str, str]]  # (tag, why it was not accepted)
    changes: Changes = Changes.MANIFESTS | Changes.AUDIT


@dataclass(frozen=True)
class ReceivedPackage:
    tag: str
    item_name: str
    quantity: Decimal
    unit: Unit
    bin: str | None


@dataclass(frozen=True)
class FinishResult:
    manifest_id: int
    manifest_number: str
    location: str
    received: list[ReceivedPackage]
    rejected: int
    outbox_id: int
    changes: Changes = field(default=Changes.MANIFESTS | Changes.INVENTORY | Changes.OUTBOX | Changes.AUDIT)
