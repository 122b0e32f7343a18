"""The audit trail and package history models pass Qt's model tester, paged and filtered."""

from __future__ import annotations

import pytest

from backoffice.db.engine import Database
from backoffice.services import inventory, locations, transfers
from backoffice.services.actor import SYSTEM, Actor
from ui.models.audit_table import AuditTableModel
from ui.models.history_table import HistoryTableModel

pytestmark = pytest.mark.gui


def _some_history(db: Database, actors: dict[str, Actor]) -> str:
    actor = actors["maria"]
    first = inventory.search_packages(db, SYSTEM, "", limit=1)[0]
    locations.add_location(db, actors["admin"], "Back Room", "vault")
    info = transfers.create_transfer(db, actor, first.location, "Back Room", [first.tag])
    tag = first.tag
    transfers.record(db, actor, info.id)
    return tag


def test_audit_model_pages_and_filters(qtmodeltester, store: tuple[Database, dict[str, Actor]]) -> None:  # type: ignore[no-untyped-def]
    db, actors = store
    _some_history(db, actors)
    model = AuditTableModel(db, lambda: actors["maria"])
    model.PAGE = 3  # several pages from a small store: fetchMore is exercised too
    model.load_first_page()
    assert model.rowCount() == 3 and model.canFetchMore()
    qtmodeltester.check(model)  # the tester fetches more pages itself
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() > 3
    assert model.data(model.index(0, 3)) == "transfer.record"  # newest first
    model.set_filter("transfer.")
    qtmodeltester.check(model)
    assert {model.data(model.index(row, 3)) for row in range(model.rowCount())} <= {
        "transfer.create",
        "transfer.record",
    }
    model.set_filter("nothing matches this")
    qtmodeltester.check(model)
    assert model.rowCount() == 0


def test_history_model(qtmodeltester, store: tuple[Database, dict[str, Actor]]) -> None:  # type: ignore[no-untyped-def]
    db, actors = store
    tag = _some_history(db, actors)
    model = HistoryTableModel()
    qtmodeltester.check(model)
    model.set_events(inventory.package_history(db, SYSTEM, tag))
    qtmodeltester.check(model)
    whats = [model.data(model.index(row, 1)) for row in range(model.rowCount())]
    assert len(whats) >= 2 and "transfer" in whats[0], whats  # newest first: the transfer, then how it came in
    model.set_events([])
    qtmodeltester.check(model)
    assert model.rowCount() == 0
