"""The store calendar: "today" is the store's date, not the workstation's or UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from backoffice.db.engine import Database
from backoffice.domain.store_calendar import StoreCalendar
from backoffice.errors import ValidationError
from backoffice.services import settings
from backoffice.services.actor import Actor


def _at(*parts: int) -> StoreCalendar:
    moment = datetime(*parts, tzinfo=UTC)  # type: ignore[misc]
    return StoreCalendar.named("America/Los_Angeles", clock=lambda: moment)


def test_today_is_the_store_date_when_utc_has_moved_on() -> None:
    evening = _at(2026, 3, 11, 5, 30)  # 22:30 on 10 March in Los Angeles
    assert evening.today() == date(2026, 3, 10)
    assert evening.now().utcoffset() is not None
    assert StoreCalendar.named("Asia/Tokyo", clock=lambda: datetime(2026, 3, 10, 20, 0, tzinfo=UTC)).today() == date(
        2026, 3, 11
    )


def test_business_day_and_bounds_follow_daylight_saving() -> None:
    calendar = StoreCalendar.named("America/Los_Angeles")
    assert calendar.business_day(datetime(2026, 3, 8, 7, 59, tzinfo=UTC)) == date(2026, 3, 7)
    assert calendar.business_day(datetime(2026, 3, 8, 8, 0, tzinfo=UTC)) == date(2026, 3, 8)
    start, end = calendar.utc_bounds(date(2026, 3, 8), date(2026, 3, 8))  # the 23-hour day
    assert (start, end) == (datetime(2026, 3, 8, 8, tzinfo=UTC), datetime(2026, 3, 9, 7, tzinfo=UTC))
    assert calendar.local(datetime(2026, 7, 1, 19, 5, tzinfo=UTC)) == datetime(2026, 7, 1, 12, 5)
    assert calendar.stamp(datetime(2026, 7, 1, 19, 5, tzinfo=UTC)) == "2026-07-01 12:05"


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "PST8PDT/../../x"])
def test_unknown_zone_is_refused_with_an_example(name: str) -> None:
    with pytest.raises(ValidationError, match="America/Los_Angeles"):
        StoreCalendar.named(name)


def test_the_services_calendar_follows_the_timezone_setting(db: Database, actors: dict[str, Actor]) -> None:
    assert settings.store_calendar(db).name == "America/Los_Angeles"
    settings.set_value(db, actors["admin"], "timezone", "America/New_York")
    assert settings.store_calendar(db).name == "America/New_York"
    with pytest.raises(ValidationError, match="not a time zone"):
        settings.set_value(db, actors["admin"], "timezone", "Eastern")
    assert settings.store_calendar(db).name == "America/New_York"
