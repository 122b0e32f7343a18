"""Cycle counts: scope, frozen three-way snapshot, counted entries, and adjustments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.db.models.base import Base, Timestamped, utcnow
from backoffice.db.types import Money, Quantity, StrEnumType, UtcDateTime
from backoffice.domain.enums import CountStatus, MetrcFixKind
from backoffice.domain.units import Unit


class CountSession(Timestamped, Base):
    __tablename__ = "count_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    scope: Mapped[str] = mapped_column(Text)  # JSON: categories, brands, item ids, location ids
    blind: Mapped[bool] = mapped_column(default=True)
    status: Mapped[CountStatus] = mapped_column(StrEnumType(CountStatus), default=CountStatus.OPEN)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    snapshot_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    pos_source: Mapped[str | None] = mapped_column(String(200))
    metrc_source: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # accuracy figures frozen at submit, read by the accuracy workbook
    lines_counted: Mapped[int | None]
    lines_matching: Mapped[int | None]
    unit_variance: Mapped[Decimal | None] = mapped_column(Quantity)
    dollar_variance: Mapped[Decimal | None] = mapped_column(Money)
    # METRC agreement frozen at submit (counts with a METRC snapshot): counted lines, and those METRC agreed with
    metrc_lines_compared: Mapped[int | None]
    metrc_lines_agreeing: Mapped[int | None]


class CountExpected(Base):
    """The frozen expectation per package at count start, from each of the three systems."""

    __tablename__ = "count_expected"
    __table_args__ = (UniqueConstraint("session_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("count_sessions.id"))
    tag: Mapped[str] = mapped_column(String(24))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    unit: Mapped[Unit] = mapped_column(StrEnumType(Unit))
    ledger_qty: Mapped[Decimal | None] = mapped_column(Quantity)
    pos_qty: Mapped[Decimal | None] = mapped_column(Quantity)
    metrc_qty: Mapped[Decimal | None] = mapped_column(Quantity)
    unit_price: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


class CountEntry(Base):
    """One counted quantity for a tag; append-only so concurrent counters never overwrite.

    A recount supersedes the earlier entries of its tag (``supersedes_previous``)."""

    __tablename__ = "count_entries"
    __table_args__ = (Index("ix_count_entries_session_tag", "session_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("count_sessions.id"))
    tag: Mapped[str] = mapped_column(String(24))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    in_scope: Mapped[bool] = mapped_column(default=True)
    supersedes_previous: Mapped[bool] = mapped_column(default=False)
    counted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    counted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    workstation: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(String(400))


class Adjustment(Base):
    """A signed change to a package's quantity with a METRC reason; never edited."""

    __tablename__ = "adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    quantity_delta: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[Unit] = mapped_column(StrEnumType(Unit))
    before_quantity: Mapped[Decimal] = mapped_column(Quantity)
    after_quantity: Mapped[Decimal] = mapped_column(Quantity)
    reason: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(String(200))  # METRC caps notes at 200 characters
    adjusted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    count_session_id: Mapped[int | None] = mapped_column(ForeignKey("count_sessions.id"))
    unit_value: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("metrc_outbox.id"))


class CountMetrcFix(Base):
    """A correction sent to METRC from a count line where METRC differed and the store's
    ledger was right: the missing receipt queued, or a METRC-only adjustment. The store's
    ledger is not changed; the outbox entry carries the call."""

    __tablename__ = "count_metrc_fixes"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("count_sessions.id"), index=True)
    tag: Mapped[str] = mapped_column(String(24))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))
    kind: Mapped[MetrcFixKind] = mapped_column(StrEnumType(MetrcFixKind))
    quantity_delta: Mapped[Decimal] = mapped_column(Quantity)  # the change to METRC's quantity, signed
    unit: Mapped[Unit] = mapped_column(StrEnumType(Unit))
    reason: Mapped[str | None] = mapped_column(String(80))
    receipt_number: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(String(400))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("metrc_outbox.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
