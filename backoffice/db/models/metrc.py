"""What METRC must hear about (the outbox) and the state's adjustment reasons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.db.models.base import Base, Timestamped
from backoffice.db.types import StrEnumType, UtcDateTime
from backoffice.domain.enums import OutboxKind, OutboxStatus


class OutboxEntry(Timestamped, Base):
    """A METRC call journaled in the same transaction as the change that needs it.

    Sent strictly in id order; ``idempotency_key`` keeps a retried enqueue from doubling.
    """

    __tablename__ = "metrc_outbox"
    __table_args__ = (Index("ix_metrc_outbox_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(StrEnumType(OutboxKind))
    endpoint: Mapped[str] = mapped_column(String(80))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON body of the call
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(StrEnumType(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    # elements of the payload METRC has taken (v2 takes at most 10 per call, so a longer
    # payload goes as several calls; a retry resumes after the last one METRC took)
    sent_elements: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    doc_type: Mapped[str] = mapped_column(String(24))
    doc_id: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(String(400))


class AdjustmentReason(Base):
    __tablename__ = "adjustment_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    requires_note: Mapped[bool] = mapped_column(default=False)
    # some states cap a reason (Michigan: Scale Variance not above 10 %)
    max_percent: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    source: Mapped[str] = mapped_column(String(20), default="settings")  # "metrc" or "settings"
