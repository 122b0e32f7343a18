"""The states and kinds the core model is built from, stored by value."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ASSOCIATE = "associate"
    MANAGER = "manager"
    PURCHASING = "purchasing"
    ADMIN = "admin"


class LocationKind(enum.StrEnum):
    VAULT = "vault"
    FLOOR = "floor"
    QUARANTINE = "quarantine"
    RECEIVING = "receiving"
    OTHER = "other"


class PackageStatus(enum.StrEnum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    FINISHED = "finished"


class QuantityType(enum.StrEnum):
    COUNT_BASED = "CountBased"
    WEIGHT_BASED = "WeightBased"
    VOLUME_BASED = "VolumeBased"


class LabState(enum.StrEnum):
    NOT_SUBMITTED = "NotSubmitted"
    SUBMITTED_FOR_TESTING = "SubmittedForTesting"
    TEST_PASSED = "TestPassed"
    TEST_FAILED = "TestFailed"
    RETEST_PASSED = "RetestPassed"
    RETEST_FAILED = "RetestFailed"
    REMEDIATED = "Remediated"
    NOT_REQUIRED = "NotRequired"
    UNKNOWN = "Unknown"

    @property
    def sellable(self) -> bool:
        """Only these may reach the sales floor (METRC lab testing states)."""
        return self in _SELLABLE

    @classmethod
    def parse(cls, text: str | None) -> LabState:
        if not text:
            return cls.UNKNOWN
        try:
            return cls(text.strip())
        except ValueError:
            return cls.UNKNOWN


_SELLABLE = {LabState.TEST_PASSED, LabState.RETEST_PASSED, LabState.NOT_REQUIRED, LabState.REMEDIATED}


class LedgerKind(enum.StrEnum):
    """Why a package's quantity or location changed."""

    OPENING = "opening"  # balance brought in from METRC's active-packages list
    RECEIVE = "receive"
    TRANSFER = "transfer"
    SALE = "sale"
    ADJUSTMENT = "adjustment"
    SPLIT_OUT = "split_out"
    SPLIT_IN = "split_in"
    SYNC = "sync"  # quantity brought in line with a METRC re-import


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXPORTED = "exported"  # written to a METRC upload CSV in manual mode
    RESOLVED = "resolved"  # a manager closed it by hand with a note


class OutboxKind(enum.StrEnum):
    CHANGE_LOCATION = "change_location"
    ADJUST = "adjust"
    SALES_RECEIPT = "sales_receipt"
    RECEIVE_CONFIRM = "receive_confirm"  # manifest decisions to key into METRC's web UI


class ManifestStatus(enum.StrEnum):
    OPEN = "open"
    RECEIVED = "received"


class ManifestLineState(enum.StrEnum):
    PENDING = "pending"
    SCANNED = "scanned"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class TransferStatus(enum.StrEnum):
    DRAFT = "draft"
    RECORDED = "recorded"
    MOVED = "moved"
    CANCELLED = "cancelled"


class CountStatus(enum.StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"


class MetrcFixKind(enum.StrEnum):
    """How a count corrected METRC where the store's ledger was right."""

    RECEIPT = "receipt"  # a POS receipt that never reached METRC, queued for it
    ADJUSTMENT = "adjustment"  # a METRC-only adjustment: the store's ledger is not changed


class FindingKind(enum.StrEnum):
    MISSING_IN_METRC = "missing_in_metrc"
    RETURN_NOT_IN_METRC = "return_not_in_metrc"
    MISSING_IN_POS = "missing_in_pos"
    QUANTITY_MISMATCH = "quantity_mismatch"
    AMOUNT_MISMATCH = "amount_mismatch"
    NOT_ON_FLOOR = "not_on_floor"
    UNKNOWN_TAG = "unknown_tag"


class FindingStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
