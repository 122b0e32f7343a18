"""Times on screen are the store's wall clock (its time zone setting), not the workstation's:
a workstation set to UTC or another zone still shows what the associates' clock said.

One store per process: the context sets the calendar when it opens the database and again
when the settings change; models and tabs call ``stamp``."""

from __future__ import annotations

from datetime import datetime

from backoffice.domain.store_calendar import StoreCalendar

_calendar: StoreCalendar | None = None


def use(calendar: StoreCalendar) -> None:
    global _calendar
    _calendar = calendar


def stamp(moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if _calendar is None:  # before a database is open (nothing to show yet)
        return f"{moment.astimezone():{fmt}}"
    return _calendar.stamp(moment, fmt)
