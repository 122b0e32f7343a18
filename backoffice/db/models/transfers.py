"""Room-to-room transfers: DRAFT → RECORDED (digital) → MOVED (physical), or CANCELLED."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.db.models.base import Base, Timestamped
from backoffice.db.types import Quantity, StrEnumType, UtcDateTime
from backoffice.domain.enums import TransferStatus


class Transfer(Timestamped, Base):
    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    to_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    status: Mapped[TransferStatus] = mapped_column(
        StrEnumType(TransferStatus), default=TransferStatus.DRAFT, index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    moved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(400))
    version: Mapped[int] = mapped_column(default=1)

    lines: Mapped[list[TransferLine]] = relationship(
        back_populates="transfer", order_by="TransferLine.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class TransferLine(Base):
    __tablename__ = "transfer_lines"
    __table_args__ = (UniqueConstraint("transfer_id", "package_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"))
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    # set when the line is a split: the package it was cut from
    split_from_package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))
    moved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    transfer: Mapped[Transfer] = relationship(back_populates="lines")
