"""In the GUI, the database's own troubles are plain messages, not crash dialogs."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget
from sqlalchemy.exc import OperationalError

from backoffice.services.changes import Changes
from ui import commands, messages
from ui.commands import run_command
from ui.context import AppContext

pytestmark = pytest.mark.gui


@pytest.mark.parametrize(
    ("driver_message", "words"),
    [
        ("database is locked", "is busy: another program is writing to it"),
        ("database or disk is full", "is full. Nothing was saved"),
        ("attempt to write a readonly database", "can only be read, not written"),
        ("database disk image is malformed", "is damaged and cannot be read"),
    ],
)
def test_database_trouble_is_a_message_not_a_crash(
    qtbot,
    ctx: AppContext,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
    driver_message: str,
    words: str,
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    boxes: list[str] = []
    crashes: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda _p, _t, text: boxes.append(text)))
    monkeypatch.setattr(messages, "show_crash_dialog", lambda _p, summary: crashes.append(summary))

    def op(job: commands.Job) -> Changes:
        raise OperationalError("INSERT …", {}, sqlite3.OperationalError(driver_message))

    run_command(parent, ctx, op)
    qtbot.waitUntil(lambda: bool(boxes))
    assert words in boxes[0] and "OperationalError" not in boxes[0] and crashes == []
    messages.exception(OperationalError("SELECT …", {}, sqlite3.OperationalError(driver_message)), parent=parent)
    qtbot.waitUntil(lambda: len(boxes) == 2)
    assert words in boxes[1] and crashes == []
