"""POS sales as imported, METRC receipts, the daily per-SKU summary and reconciliation."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.db.models.base import Base, Timestamped
from backoffice.db.types import Money, Quantity, StrEnumType, UtcDateTime
from backoffice.domain.enums import FindingKind, FindingStatus
from backoffice.domain.units import Unit


class PosImport(Timestamped, Base):
    __tablename__ = "pos_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(260))
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    layout: Mapped[str] = mapped_column(String(60))
    line_count: Mapped[int]
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PosSaleLine(Base):
    __tablename__ = "pos_sale_lines"
    __table_args__ = (
        UniqueConstraint("receipt_number", "line_key"),
        Index("ix_pos_sale_lines_business_date", "business_date"),
        Index("ix_pos_sale_lines_item_date", "item_id", "business_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("pos_imports.id"))
    receipt_number: Mapped[str] = mapped_column(String(40))
    # tag + ordinal within the receipt: re-importing the same sale in another layout is a no-op
    line_key: Mapped[str] = mapped_column(String(40))
    sold_at: Mapped[datetime] = mapped_column(UtcDateTime)
    business_date: Mapped[date] = mapped_column(Date)
    tag: Mapped[str | None] = mapped_column(String(24), index=True)
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    sku: Mapped[str | None] = mapped_column(String(40))
    product_name: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[Unit] = mapped_column(StrEnumType(Unit))
    amount: Mapped[Decimal] = mapped_column(Money)
    budtender: Mapped[str | None] = mapped_column(String(40))


class MetrcReceipt(Base):
    __tablename__ = "metrc_receipts"
    __table_args__ = (Index("ix_metrc_receipts_business_date", "business_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    metrc_id: Mapped[int | None] = mapped_column(unique=True)
    receipt_number: Mapped[str | None] = mapped_column(String(40), index=True)
    external_receipt_number: Mapped[str | None] = mapped_column(String(40), index=True)
    sold_at: Mapped[datetime] = mapped_column(UtcDateTime)
    business_date: Mapped[date] = mapped_column(Date)
    customer_type: Mapped[str | None] = mapped_column(String(40))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MetrcReceiptLine(Base):
    __tablename__ = "metrc_receipt_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("metrc_receipts.id"), index=True)
    tag: Mapped[str] = mapped_column(String(24), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[Unit] = mapped_column(StrEnumType(Unit))
    amount: Mapped[Decimal] = mapped_column(Money)


class SalesDaily(Base):
    """Units and revenue per item per business day, kept beside the sale lines in the
    same transaction so velocity reports never scan 1.5 million lines."""

    __tablename__ = "sales_daily"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    units: Mapped[Decimal] = mapped_column(Quantity)
    revenue: Mapped[Decimal] = mapped_column(Money)
    lines: Mapped[int]


class Finding(Base):
    __tablename__ = "reconciliation_findings"
    __table_args__ = (UniqueConstraint("business_date", "kind", "receipt_number", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[FindingKind] = mapped_column(StrEnumType(FindingKind))
    receipt_number: Mapped[str] = mapped_column(String(40), default="")
    tag: Mapped[str] = mapped_column(String(24), default="")
    pos_quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    metrc_quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    pos_amount: Mapped[Decimal | None] = mapped_column(Money)
    metrc_amount: Mapped[Decimal | None] = mapped_column(Money)
    detail: Mapped[str] = mapped_column(String(400))
    found_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[FindingStatus] = mapped_column(StrEnumType(FindingStatus), default=FindingStatus.OPEN, index=True)
    resolution_action: Mapped[str | None] = mapped_column(String(40))
    resolution_note: Mapped[str | None] = mapped_column(String(400))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("metrc_outbox.id"))


class PosLayoutMapping(Timestamped, Base):
    """A user's column mapping for a POS export layout, found again by its header signature."""

    __tablename__ = "pos_layout_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    signature: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    mapping: Mapped[str] = mapped_column(Text)  # JSON: canonical field → header, date format, tz
