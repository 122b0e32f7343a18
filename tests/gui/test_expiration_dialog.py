"""The expiration dialog proposes a year from the store's today, and on 29 February that is 28 February."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from backoffice.domain.store_calendar import StoreCalendar
from backoffice.services import receiving, settings, users
from ui.context import AppContext
from ui.tabs.receiving_dialogs import ExpirationDialog, a_year_after

pytestmark = pytest.mark.gui


def _leap_day(_db: object) -> StoreCalendar:  # 29 February in the store, 1 March in UTC
    return StoreCalendar.named("America/Los_Angeles", clock=lambda: datetime(2028, 3, 1, 5, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2028, 2, 29), date(2029, 2, 28)),
        (date(2027, 2, 28), date(2028, 2, 28)),
        (date(2026, 12, 31), date(2027, 12, 31)),
        (date(2028, 3, 1), date(2029, 3, 1)),
    ],
)
def test_a_year_after(day: date, expected: date) -> None:
    assert a_year_after(day) == expected


def test_the_dialog_opens_on_29_february(
    qtbot,
    ctx: AppContext,
    samples: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    actor = users.actor_for(ctx.db, "admin")
    imported = receiving.import_file(ctx.db, actor, samples / "metrc_incoming_transfer.json")
    view = receiving.get_manifest(ctx.db, actor, imported.manifest_id)
    line = dataclasses.replace(view.lines[0], expiration_date=None)
    ctx.sign_in(actor)
    monkeypatch.setattr(settings, "store_calendar", _leap_day)
    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = ExpirationDialog(ctx, view.id, line, parent)
    assert dialog.date.date().toPython() == date(2029, 2, 28)
