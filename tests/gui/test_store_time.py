"""Times on screen are the store's clock, whatever the workstation's zone, and follow the setting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backoffice.services import settings, users
from backoffice.services.changes import Changes
from ui import store_time
from ui.context import AppContext
from ui.models.simple_table import Col, RowTableModel

pytestmark = pytest.mark.gui


def test_tables_show_the_store_time_and_follow_the_zone_setting(ctx: AppContext) -> None:
    moment = datetime(2026, 7, 1, 19, 5, tzinfo=UTC)
    model: RowTableModel[datetime] = RowTableModel([Col("When", lambda m: m)])
    model.set_rows([moment])
    assert model.data(model.index(0, 0)) == "2026-07-01 12:05"  # Los Angeles, the store's zone
    settings.set_value(ctx.db, users.actor_for(ctx.db, "admin"), settings.TIMEZONE.key, "America/New_York")
    ctx.notify(Changes.SETTINGS)
    assert model.data(model.index(0, 0)) == "2026-07-01 15:05"
    assert store_time.stamp(moment, "%H:%M:%S") == "15:05:00"
