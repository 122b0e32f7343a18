"""METRC tab: pending and failed entries with METRC's words; managers retry and resolve."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QInputDialog

from backoffice.domain.enums import OutboxKind, OutboxStatus
from backoffice.services import metrc_sync, outbox, users
from backoffice.services.actor import SYSTEM
from backoffice.services.ledger import Doc
from tests.conftest import PINS
from ui.context import AppContext
from ui.tabs.metrc_outbox import MetrcTab

pytestmark = pytest.mark.gui


def test_failed_entry_shows_metrc_text_and_manager_resolves_it(qtbot, ctx: AppContext, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.transaction() as session:
        outbox.enqueue(
            session, SYSTEM, OutboxKind.ADJUST, [{"Label": "1A4060300000000000000001"}], Doc("test", 1), "t1"
        )
    from backoffice.metrc.errors import MetrcRejected, RowProblem

    def refuse(kind, payload):  # type: ignore[no-untyped-def]
        raise MetrcRejected("the adjustment", [RowProblem(0, "Reason 'Oops' is not allowed", payload[0])], 1)

    metrc_sync.sync(ctx.db, refuse)
    ctx.sign_in(users.authenticate(ctx.db, "alex", PINS["alex"]).as_actor())
    tab = MetrcTab(ctx)
    qtbot.addWidget(tab)
    assert not tab.resolve_button.isEnabled() and "associate" in tab.resolve_button.toolTip()
    assert "1</b> failed" in tab.summary.text() and "manual mode" in tab.summary.text()
    tab.view.selectRow(0)
    assert "Reason 'Oops' is not allowed" in tab.error.toPlainText()
    ctx.sign_in(users.authenticate(ctx.db, "maria", PINS["maria"]).as_actor())
    assert tab.resolve_button.isEnabled()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("entered in METRC by hand", True))
    ctx.changed.connect(tab.refresh)
    tab.resolve()
    qtbot.waitUntil(lambda: tab.model.rows == [])  # resolved entries leave the default view
    tab.show_all.setChecked(True)
    assert tab.model.rows[0].status is OutboxStatus.RESOLVED


def test_model_passes_the_model_tester(qtmodeltester, qtbot, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    ctx.sign_in(SYSTEM)
    tab = MetrcTab(ctx)
    qtbot.addWidget(tab)
    qtmodeltester.check(tab.model)


def test_background_sync_sends_to_the_simulator(qtbot, ctx: AppContext, samples, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from backoffice.metrc.simulator import DEFAULT_USER_KEY, DEFAULT_VENDOR_KEY, MetrcSimulator
    from backoffice.services import settings

    class MemoryKeys:
        def vendor_key(self) -> str:
            return DEFAULT_VENDOR_KEY

        def user_key(self, username: str) -> str:
            return DEFAULT_USER_KEY

    monkeypatch.setattr("backoffice.services.metrc_connection.MetrcKeyStore", MemoryKeys)
    with MetrcSimulator(seed_dir=samples, api="v2") as sim:  # the store's default API version
        settings.set_value(ctx.db, SYSTEM, "metrc_base_url", sim.url)
        settings.set_value(ctx.db, SYSTEM, "license_number", sim.license_number)
        with ctx.db.transaction() as session:
            outbox.enqueue(
                session,
                SYSTEM,
                OutboxKind.CHANGE_LOCATION,
                [{"Label": "1A4060300000000000000001", "Location": "Sales Floor", "MoveDate": "2026-11-20"}],
                Doc("test", 1),
                "bg1",
            )
        ctx.sign_in(users.authenticate(ctx.db, "alex", PINS["alex"]).as_actor())
        tab = MetrcTab(ctx)
        qtbot.addWidget(tab)
        ctx.changed.connect(tab.refresh)
        tab.sync_in_background()
        qtbot.waitUntil(lambda: tab._background is None, timeout=10_000)
        assert metrc_sync.list_entries(ctx.db, SYSTEM)[0].status is OutboxStatus.SENT
        assert [b[0]["Label"] for b in sim.applied("packages/v2/location")] == ["1A4060300000000000000001"]
