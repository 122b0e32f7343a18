"""METRC in the GUI: "Check against METRC" fills its table, the METRC fields in Settings,
the keys dialog through the service, and a Retail ID QR scan resolved to its package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backoffice.metrc.simulator import DEFAULT_USER_KEY, DEFAULT_VENDOR_KEY, MetrcSimulator
from backoffice.services import settings, users
from backoffice.services.actor import SYSTEM
from tests.conftest import PINS
from tests.gui.conftest import scan
from ui.commands import wait_until_idle
from ui.context import AppContext
from ui.tabs.inventory import InventoryTab

pytestmark = pytest.mark.gui
EACH_TAG = "1A4060300000000000000001"


class MemoryKeys:
    stored: dict[str, str] = {}

    def vendor_key(self) -> str:
        return DEFAULT_VENDOR_KEY

    def user_key(self, username: str) -> str:
        return DEFAULT_USER_KEY

    def set_vendor_key(self, key: str) -> None:
        self.stored["vendor"] = key

    def set_user_key(self, username: str, key: str) -> None:
        self.stored[f"user:{username}"] = key


@pytest.fixture
def sim(samples: Path, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[MetrcSimulator]:
    monkeypatch.setattr("backoffice.services.metrc_connection.MetrcKeyStore", MemoryKeys)
    monkeypatch.setattr("backoffice.services.metrc_setup.MetrcKeyStore", MemoryKeys)
    MemoryKeys.stored = {}
    with MetrcSimulator(seed_dir=samples, api="v2") as simulator:
        settings.set_values(
            ctx.db, SYSTEM, {"metrc_base_url": simulator.url, "license_number": simulator.license_number}
        )
        yield simulator


def test_check_against_metrc_lists_the_differing_package(
    qtbot,
    qtmodeltester,
    ctx: AppContext,  # type: ignore[no-untyped-def]
    sim: MetrcSimulator,
) -> None:
    from ui.tabs.metrc_outbox import MetrcTab

    ctx.sign_in(users.authenticate(ctx.db, "alex", PINS["alex"]).as_actor())
    tab = MetrcTab(ctx)
    qtbot.addWidget(tab)
    sim.state.touch(EACH_TAG, IsOnHold=True)
    tab.pages.setCurrentWidget(tab.drift)
    tab.drift.check_button.click()
    qtbot.waitUntil(lambda: bool(tab.drift.model.rows), timeout=15_000)
    wait_until_idle()
    [row] = tab.drift.model.rows
    assert (row.tag, row.field, row.metrc) == (EACH_TAG, "hold", "on hold")
    assert "full check: 120 package(s) fetched" in tab.drift.summary.text()
    qtmodeltester.check(tab.drift.model)


def test_keys_dialog_stores_through_the_service(qtbot, ctx: AppContext, sim: MetrcSimulator) -> None:  # type: ignore[no-untyped-def]
    from ui.tabs.metrc_outbox import KeysDialog

    ctx.sign_in(users.authenticate(ctx.db, "alex", PINS["alex"]).as_actor())
    dialog = KeysDialog(ctx, None)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    assert not dialog.vendor.isEnabled()  # an associate sets only their own key
    dialog.user_key.setText("alex-own-key")
    dialog.save()
    qtbot.waitUntil(lambda: MemoryKeys.stored == {"user:alex": "alex-own-key"}, timeout=5_000)
    wait_until_idle()


def test_settings_dialog_has_the_metrc_fields(qtbot, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QDialog

    from ui.settings_dialog import SettingsDialog

    ctx.sign_in(users.authenticate(ctx.db, "admin", PINS["admin"]).as_actor())
    dialog = SettingsDialog(ctx)
    qtbot.addWidget(dialog)
    assert dialog.metrc_api.currentData() == "v2"
    dialog.metrc_url.setText("https://api-ny.metrc.com/")
    dialog.metrc_api.setCurrentIndex(dialog.metrc_api.findData("v1"))
    dialog.metrc_window.setValue(12)
    dialog.retail_id_required.setChecked(True)
    dialog.save()  # a command: written off the GUI thread, then the dialog closes
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=5_000)
    assert settings.read(ctx.db, settings.METRC_BASE_URL) == "https://api-ny.metrc.com/"
    assert settings.read(ctx.db, settings.METRC_API_VERSION) == "v1"
    assert settings.read(ctx.db, settings.METRC_WINDOW_HOURS) == 12
    assert settings.read(ctx.db, settings.RETAIL_ID_REQUIRED) is True


def test_a_qr_scan_shows_its_package_and_offline_says_so(qtbot, main_window, sim: MetrcSimulator) -> None:  # type: ignore[no-untyped-def]
    inventory = main_window.tab(InventoryTab)
    inventory.view.setFocus()
    url = sim.state.qr_codes(EACH_TAG)[0]
    scan(qtbot, inventory.view, url)
    qtbot.waitUntil(lambda: EACH_TAG in inventory.detail.summary.text(), timeout=10_000)
    qtbot.waitUntil(lambda: main_window.status_kind == "ok", timeout=5_000)
    wait_until_idle()
    sim.go_away()
    inventory.view.clearSelection()
    main_window.handle_scan(url)  # the scanner's signal (keystroke timing was tested above): cached, no METRC
    qtbot.waitUntil(
        lambda: main_window.status_kind == "ok" and "in Vault" in main_window.status_label.text(), timeout=5_000
    )
    assert len([r for r in sim.requests if r.path.startswith("retailid")]) == 1  # the second came from the cache
    other = sim.state.qr_codes("1A4060300000000000000002")[0]
    main_window.handle_scan(other)
    qtbot.waitUntil(lambda: "METRC cannot be reached" in main_window.status_label.text(), timeout=10_000)
    wait_until_idle()
    assert main_window.status_kind == "error"
