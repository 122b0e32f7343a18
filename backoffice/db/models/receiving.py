"""Incoming manifests and the associate's decision on each package line."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.db.models.base import Base, Timestamped
from backoffice.db.types import Money, Quantity, StrEnumType, UtcDateTime
from backoffice.domain.enums import LabState, ManifestLineState, ManifestStatus
from backoffice.domain.units import Unit


class Manifest(Timestamped, Base):
    __tablename__ = "manifests"

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_number: Mapped[str] = mapped_column(String(20), unique=True)
    metrc_transfer_id: Mapped[int | None]
    delivery_id: Mapped[int | None]
    shipper_name: Mapped[str] = mapped_column(String(160))
    shipper_license: Mapped[str] = mapped_column(String(40))
    transporter_license: Mapped[str | None] = mapped_column(String(40))
    driver_name: Mapped[str | None] = mapped_column(String(120))
    vehicle: Mapped[str | None] = mapped_column(String(120))
    estimated_arrival: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[ManifestStatus] = mapped_column(StrEnumType(ManifestStatus), default=ManifestStatus.OPEN)
    receiving_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # when METRC's Retail ID unit codes of the manifest's packages were last fetched: from then
    # on a package without codes is known to have none (receiving.unit_codes)
    unit_codes_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    lines: Mapped[list[ManifestLine]] = relationship(
        back_populates="manifest", order_by="ManifestLine.id", cascade="all, delete-orphan"
    )


class ManifestLine(Base):
    __tablename__ = "manifest_lines"
    __table_args__ = (UniqueConstraint("manifest_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifests.id"))
    tag: Mapped[str] = mapped_column(String(24), index=True)
    item_name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(80))
    strain: Mapped[str] = mapped_column(String(80), default="")
    shipped_quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[Unit] = mapped_column(StrEnumType(Unit))
    wholesale_price: Mapped[Decimal | None] = mapped_column(Money)
    lab_state: Mapped[LabState] = mapped_column(StrEnumType(LabState))
    production_batch: Mapped[str | None] = mapped_column(String(60))
    # read off the product label while receiving: manifests do not carry it, bins are chosen by it
    expiration_date: Mapped[date | None] = mapped_column(Date)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    state: Mapped[ManifestLineState] = mapped_column(StrEnumType(ManifestLineState), default=ManifestLineState.PENDING)
    received_quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    scanned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    scanned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reject_reason: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(String(400))
    suggested_bin: Mapped[str | None] = mapped_column(String(40))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))

    manifest: Mapped[Manifest] = relationship(back_populates="lines")
