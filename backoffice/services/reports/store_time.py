"""Shortcuts to the store calendar (``backoffice/domain/store_calendar.py``, read through
``settings.calendar``) for the services that need only the zone or a sale's business day."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from sqlalchemy.orm import Session

from backoffice.services import settings


def business_date(sold_at: datetime, tz: tzinfo) -> date:
    """The store's calendar day of a sale (its local date)."""
    return sold_at.astimezone(tz).date()


def store_zone(session: Session) -> tzinfo:
    return settings.calendar(session).zone
