"""Items, locations, packages, the stock ledger and the store's pool of unused tags."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.db.models.base import Base, Timestamped, utcnow
from backoffice.db.types import Money, Quantity, StrEnumType, UtcDateTime
from backoffice.domain.enums import LabState, LedgerKind, LocationKind, PackageStatus, QuantityType
from backoffice.domain.units import Unit


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[LocationKind] = mapped_column(StrEnumType(LocationKind))
    # METRC's own name for the room, used in location-change calls
    metrc_name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)


class Item(Timestamped, Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    brand: Mapped[str] = mapped_column(String(80), default="", index=True)
    vendor: Mapped[str] = mapped_column(String(120), default="")
    category: Mapped[str] = mapped_column(String(80), index=True)
    strain: Mapped[str] = mapped_column(String(80), default="")
    quantity_type: Mapped[QuantityType] = mapped_column(StrEnumType(QuantityType))
    unit: Mapped[Unit] = mapped_column(StrEnumType(Unit))
    price: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    price_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    unit_cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    floor_par: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    unit_thc_mg: Mapped[Decimal | None] = mapped_column(Quantity)
    unit_cbd_mg: Mapped[Decimal | None] = mapped_column(Quantity)
    metrc_item_id: Mapped[int | None] = mapped_column(unique=True)
    lead_time_days: Mapped[int | None]
    # no longer carried: left out of the catalogue's list and of matching manifest lines
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Package(Timestamped, Base):
    __tablename__ = "packages"
    __table_args__ = (
        Index("ix_packages_location_status", "location_id", "status"),
        Index("ix_packages_item_status", "item_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(24), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[Unit] = mapped_column(StrEnumType(Unit))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    bin: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[PackageStatus] = mapped_column(StrEnumType(PackageStatus), default=PackageStatus.ACTIVE)
    packaged_date: Mapped[date | None] = mapped_column(Date)
    expiration_date: Mapped[date | None] = mapped_column(Date, index=True)
    lab_state: Mapped[LabState] = mapped_column(StrEnumType(LabState), default=LabState.UNKNOWN)
    thc_percent: Mapped[Decimal | None] = mapped_column(Quantity)
    cbd_percent: Mapped[Decimal | None] = mapped_column(Quantity)
    total_thc_percent: Mapped[Decimal | None] = mapped_column(Quantity)
    terpenes: Mapped[str | None] = mapped_column(Text)
    coa_reference: Mapped[str | None] = mapped_column(String(120))
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    received_from_manifest: Mapped[str | None] = mapped_column(String(20), index=True)
    source_package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))
    metrc_package_id: Mapped[int | None] = mapped_column(unique=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # optimistic locking: two workstations changing one package cannot lose an update
    version: Mapped[int] = mapped_column(default=1)

    item: Mapped[Item] = relationship(lazy="joined", innerjoin=True)
    location: Mapped[Location] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}


class LedgerEntry(Base):
    """Append-only: every quantity or location change of a package, and what caused it."""

    __tablename__ = "stock_ledger"
    __table_args__ = (
        Index("ix_stock_ledger_package_at", "package_id", "at"),
        Index("ix_stock_ledger_document", "doc_type", "doc_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    kind: Mapped[LedgerKind] = mapped_column(StrEnumType(LedgerKind))
    quantity_delta: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[Unit] = mapped_column(StrEnumType(Unit))
    from_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    to_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    # the document that caused the change: manifest, transfer, pos_sale_line, adjustment, …
    doc_type: Mapped[str] = mapped_column(String(24))
    doc_id: Mapped[int | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(400))
    # The audit event whose hash covers this row (set when the event is written in the same
    # transaction); 0 for rows written before the chain covered the ledger.
    audit_event_id: Mapped[int | None] = mapped_column(index=True)


class TagPoolEntry(Base):
    """Unused METRC tags the store has ordered, consumed when a package is split."""

    __tablename__ = "tag_pool"

    id: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(24), unique=True)
    used_by_package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
