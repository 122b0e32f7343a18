"""The store's calendar: its time zone, what "now" and "today" are there, and business days.

A business day is the facility's local date (METRC sales times, adjustment dates and POS
end-of-day files are all local), so "today" is never the workstation's date: a workstation
set to UTC, or a report run after midnight UTC, must still see the store's day. Every
"today" in the services, the CLI and the GUI comes from one ``StoreCalendar``; the services
build it from the ``timezone`` setting (``backoffice.services.settings.calendar``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backoffice.errors import ValidationError


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StoreCalendar:
    zone: ZoneInfo
    clock: Callable[[], datetime] = field(default=_utc_now, compare=False, repr=False)  # tests pin the time

    @classmethod
    def named(cls, name: str, clock: Callable[[], datetime] = _utc_now) -> StoreCalendar:
        """The calendar of the IANA time zone ``name``, e.g. ``America/Los_Angeles``."""
        try:
            return cls(ZoneInfo(name), clock)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"{name!r} is not a time zone; use a name like America/Los_Angeles") from None

    @property
    def name(self) -> str:
        return self.zone.key

    def now(self) -> datetime:
        """The store's wall-clock time now, timezone-aware."""
        return self.clock().astimezone(self.zone)

    def today(self) -> date:
        return self.now().date()

    def business_day(self, moment: datetime) -> date:
        """The store's date at an aware instant (a sale, a count, a scan)."""
        return moment.astimezone(self.zone).date()

    def utc_bounds(self, since: date, until: date) -> tuple[datetime, datetime]:
        """[start, end) in UTC covering the business days ``since`` through ``until``."""
        start = datetime.combine(since, time(0), self.zone).astimezone(UTC)
        end = datetime.combine(until + timedelta(days=1), time(0), self.zone).astimezone(UTC)
        return start, end

    def local(self, moment: datetime) -> datetime:
        """An instant as the store's wall-clock time without tzinfo (spreadsheets and METRC's
        ``SalesDateTime`` have none)."""
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def stamp(self, moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """An instant written in the store's time, for reports and sheets."""
        return f"{moment.astimezone(self.zone):{fmt}}"
