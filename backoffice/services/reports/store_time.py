"""The store's calendar: business days are local dates in the facility's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.services import settings


def business_date(sold_at: datetime, tz: tzinfo) -> date:
    """The store's calendar day of a sale (its local date)."""
    return sold_at.astimezone(tz).date()


def store_zone(session: Session) -> tzinfo:
    return ZoneInfo(settings.get(session, settings.TIMEZONE))


def store_today(session: Session) -> date:
    return datetime.now(store_zone(session)).date()


def today(db: Database) -> date:
    """The store's date now, for the default windows of the Reports tab."""
    with db.read() as session:
        return store_today(session)


def utc_bounds(zone: tzinfo, since: date, until: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC covering the local days ``since`` through ``until``."""
    start = datetime.combine(since, time(0), zone).astimezone(UTC)
    end = datetime.combine(until + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


def local(zone: tzinfo, moment: datetime) -> datetime:
    """A timestamp as the store's wall-clock time, without tzinfo (spreadsheets have none)."""
    return moment.astimezone(zone).replace(tzinfo=None)
