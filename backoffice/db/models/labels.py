"""The print log: which label was printed for which package, with what price, by whom."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.db.models.base import Base, utcnow
from backoffice.db.types import Money, UtcDateTime


class LabelPrint(Base):
    __tablename__ = "label_prints"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(36), index=True)
    printed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    template: Mapped[str] = mapped_column(String(40))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    barcode_value: Mapped[str] = mapped_column(String(40))
    price: Mapped[Decimal] = mapped_column(Money)
    lab_override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
