"""What the store last learned from METRC: its view of each package (for the drift check,
refreshed by lastModified), the drift runs, and Retail ID unit codes (filled at receiving)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.db.models.base import Base
from backoffice.db.types import Quantity, UtcDateTime


class MetrcPackageMirror(Base):
    """METRC's package as last fetched (one row per tag METRC listed as active)."""

    __tablename__ = "metrc_package_mirror"

    tag: Mapped[str] = mapped_column(String(24), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(String(120), default="")
    sublocation: Mapped[str | None] = mapped_column(String(120))
    on_hold: Mapped[bool] = mapped_column(default=False)
    on_recall: Mapped[bool] = mapped_column(default=False)
    lab_state: Mapped[str] = mapped_column(String(40), default="")
    finished: Mapped[bool] = mapped_column(default=False)
    last_modified: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MetrcDriftRun(Base):
    """One drift check: full (every package fetched) or incremental (changed since the last)."""

    __tablename__ = "metrc_drift_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)
    full: Mapped[bool]
    fetched: Mapped[int]
    compared: Mapped[int]
    differences: Mapped[int]
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RetailIdCode(Base):
    """A unit's Retail ID QR code (the short code is the URL's first path segment)."""

    __tablename__ = "retail_id_codes"

    short_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(300))
    tag: Mapped[str] = mapped_column(String(24), index=True)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)
