"""The Audit tab reads as sentences: what happened to which record, never the stored JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from backoffice.db.engine import Database
from backoffice.services import transfers
from backoffice.services.actor import Actor
from ui.context import AppContext
from ui.tabs.audit import AuditTab

pytestmark = pytest.mark.gui


def test_audit_tab_shows_sentences(
    qtbot,
    ctx: AppContext,
    store: tuple[Database, dict[str, Actor]],  # type: ignore[no-untyped-def]
    samples: Path,
) -> None:
    db, actors = store
    tag = next(
        r["Label"]
        for r in json.loads((samples / "metrc_packages_active.json").read_text())
        if r["LocationName"] == "Vault" and r["LabTestingState"] == "TestPassed" and not r["IsOnHold"]
    )
    created = transfers.create_transfer(db, actors["alex"], "Vault", "Sales Floor", [tag])
    transfers.record(db, actors["alex"], created.id)
    transfers.confirm_arrival(db, actors["alex"], tag, "Sales Floor")
    ctx.sign_in(actors["maria"])
    tab = AuditTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitUntil(lambda: tab.model.rowCount() > 0)
    headers = [tab.model.headerData(c, Qt.Orientation.Horizontal) for c in range(tab.model.columnCount())]
    assert headers[-1] == "What happened" and "After" not in headers
    texts = [tab.model.data(tab.model.index(row, len(headers) - 1)) for row in range(tab.model.rowCount())]
    assert all("{" not in text and '":' not in text for text in texts)
    assert f"Package {tag} arrived in Sales Floor (transfer #{created.id}, now moved)." in texts
