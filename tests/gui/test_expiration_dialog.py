"""The expiration dialog proposes a year from today, and on 29 February that is 28 February."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from backoffice.services import receiving, users
from ui.context import AppContext
from ui.tabs import receiving_dialogs
from ui.tabs.receiving_dialogs import ExpirationDialog, a_year_after

pytestmark = pytest.mark.gui


class _LeapDay(date):
    @classmethod
    def today(cls) -> date:
        return date(2028, 2, 29)


@pytest.mark.parametrize(("day", "expected"), [
    (date(2028, 2, 29), date(2029, 2, 28)),
    (date(2027, 2, 28), date(2028, 2, 28)),
    (date(2026, 12, 31), date(2027, 12, 31)),
    (date(2028, 3, 1), date(2029, 3, 1)),
])
def test_a_year_after(day: date, expected: date) -> None:
    assert a_year_after(day) == expected


def test_the_dialog_opens_on_29_february(qtbot, ctx: AppContext, samples: Path,  # type: ignore[no-untyped-def]
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    actor = users.actor_for(ctx.db, "admin")
    imported = receiving.import_file(ctx.db, actor, samples / "metrc_incoming_transfer.json")
    view = receiving.get_manifest(ctx.db, actor, imported.manifest_id)
    line = dataclasses.replace(view.lines[0], expiration_date=None)
    ctx.sign_in(actor)
    monkeypatch.setattr(receiving_dialogs, "date", _LeapDay)
    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = ExpirationDialog(ctx, view.id, line, parent)
    assert dialog.date.date().toPython() == date(2029, 2, 28)
