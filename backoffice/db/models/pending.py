"""Changes an imported file asked for that a person must accept first (a hold or a failed lab
state lifted by a METRC packages file)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.db.models.base import Base, utcnow
from backoffice.db.types import UtcDateTime


class PendingPackageChange(Base):
    __tablename__ = "pending_package_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    source: Mapped[str] = mapped_column(String(200))  # the file (or "METRC") that asked for it
    changes: Mapped[str] = mapped_column(Text)  # canonical JSON: {field: {"before": …, "after": …}}
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending/accepted/rejected
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(400))
