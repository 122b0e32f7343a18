"""Retail ID in the tabs, against the METRC simulator in v2 mode: the Receiving tab fetches a
manifest's unit codes and flags the packages without them when the state requires codes
(accepting one asks first; the flags are kept in the store and outlive the window); a unit's
QR URL typed into the Labels tab's field adds its package."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from sqlalchemy import select

from backoffice.db.models import AuditEvent
from backoffice.domain.enums import ManifestLineState
from backoffice.metrc.simulator import MetrcSimulator
from backoffice.services import receiving, settings
from backoffice.services.actor import SYSTEM
from tests.gui.conftest import scan, when_modal
from tests.gui.test_metrc_v2_gui import MemoryKeys
from tests.unit.receiving_store import SAMPLE_NUMBER
from ui.commands import wait_until_idle
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.models.receiving_lines import PROBLEM_COLUMN
from ui.tabs.labels import LabelsTab
from ui.tabs.receiving import ReceivingTab

pytestmark = pytest.mark.gui
EACH_TAG = "1A4060300000000000000001"  # 30 Each, active
SHIPPED = "1A4060300000000000005001"  # 10 Each on the sample manifest: it has unit codes


@pytest.fixture
def sim(samples: Path, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[MetrcSimulator]:
    monkeypatch.setattr("backoffice.services.metrc_connection.MetrcKeyStore", MemoryKeys)
    with MetrcSimulator(seed_dir=samples, api="v2") as simulator:
        settings.set_values(
            ctx.db, SYSTEM, {"metrc_base_url": simulator.url, "license_number": simulator.license_number}
        )
        yield simulator


def _receiving(qtbot, window: MainWindow, samples: Path) -> ReceivingTab:  # type: ignore[no-untyped-def]
    tab = window.tab(ReceivingTab)
    window.tabs.setCurrentWidget(tab)
    tab.import_file(samples / "metrc_incoming_transfer.json")
    qtbot.waitUntil(lambda: tab.current is not None and tab.current.manifest_number == SAMPLE_NUMBER, timeout=10_000)
    qtbot.waitUntil(lambda: tab.retail_ids.button.isEnabled(), timeout=5_000)
    return tab


def _problem_text(tab: ReceivingTab, tag: str) -> str:
    row = tab.line_model.row_of_tag(tag)
    assert row is not None
    return str(tab.line_model.index(row, PROBLEM_COLUMN).data())


def _weighed_tag(sim: MetrcSimulator) -> str:
    """A package of weighed product on the sample manifest: METRC lists no unit codes for it."""
    return next(
        p["PackageLabel"]
        for packages in sim.state.deliveries.values()
        for p in packages
        if p["ShippedUnitOfMeasureName"] != "Each"
    )


def test_fetch_unit_codes_flags_the_packages_without_when_the_state_requires(  # type: ignore[no-untyped-def]
    qtbot, sim: MetrcSimulator, main_window: MainWindow, samples: Path
) -> None:
    settings.set_value(main_window.ctx.db, SYSTEM, "retail_id_required", True)
    tab = _receiving(qtbot, main_window, samples)
    bare = _weighed_tag(sim)
    assert "Retail ID" not in _problem_text(tab, bare)  # nothing flagged before the codes are fetched
    tab.retail_ids.button.click()
    qtbot.waitUntil(lambda: bool(tab.retail_ids.flagged()), timeout=15_000)
    wait_until_idle()
    assert bare in tab.retail_ids.flagged() and SHIPPED not in tab.retail_ids.flagged()
    assert _problem_text(tab, bare).startswith("⚠ no Retail ID unit codes: the state requires them")
    assert "Retail ID" not in _problem_text(tab, SHIPPED)
    assert "no Retail ID unit codes" in tab.steps.text() and bare in tab.steps.text()
    assert sim.state.qr_codes(SHIPPED)[0] and any(r.path.startswith("retailid") for r in sim.requests)

    # accepting the flagged package asks first; "No" leaves it scanned
    main_window.scanner._last_scan = ("", 0.0)
    tab.line_view.setFocus()
    scan(qtbot, tab.line_view, bare)
    qtbot.waitUntil(lambda: _line_state(tab, bare) is ManifestLineState.SCANNED, timeout=10_000)
    wait_until_idle()
    row = tab.line_model.row_of_tag(bare)
    assert row is not None
    tab.line_view.setCurrentIndex(tab.line_view.proxy.mapFromSource(tab.line_model.index(row, 0)))
    asked: list[str] = []

    def answer_no(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        asked.append(box.text())
        box.button(QMessageBox.StandardButton.No).click()

    when_modal(QMessageBox, answer_no)
    tab.accept_selected()
    assert asked and bare in asked[0] and "Accept them anyway?" in asked[0]
    wait_until_idle()
    assert _line_state(tab, bare) is ManifestLineState.SCANNED


def test_codes_optional_in_the_state_flag_nothing(  # type: ignore[no-untyped-def]
    qtbot, sim: MetrcSimulator, main_window: MainWindow, samples: Path
) -> None:
    tab = _receiving(qtbot, main_window, samples)
    tab.retail_ids.button.click()
    qtbot.waitUntil(lambda: "unit codes saved" in main_window.status_label.text(), timeout=15_000)
    wait_until_idle()
    assert tab.retail_ids.flagged() == frozenset()
    assert "Retail ID" not in _problem_text(tab, _weighed_tag(sim))


def _line_state(tab: ReceivingTab, tag: str) -> ManifestLineState:
    return next(ln.state for ln in tab.line_model.rows if ln.tag == tag)


def test_a_qr_url_typed_into_the_labels_field_adds_its_package(  # type: ignore[no-untyped-def]
    qtbot, sim: MetrcSimulator, main_window: MainWindow
) -> None:
    tab = main_window.tab(LabelsTab)
    main_window.tabs.setCurrentWidget(tab)
    tab.tag_entry.setFocus()
    qtbot.keyClicks(tab.tag_entry, sim.state.qr_codes(EACH_TAG)[2])
    qtbot.keyClick(tab.tag_entry, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: EACH_TAG in tab.tags, timeout=10_000)  # asked METRC off the GUI thread
    wait_until_idle()
    assert tab.tag_entry.text() == ""
    tab.clear_tags()
    sim.go_away()  # now cached: no METRC needed, the package is added at once
    qtbot.keyClicks(tab.tag_entry, sim.state.qr_codes(EACH_TAG)[2])
    qtbot.keyClick(tab.tag_entry, Qt.Key.Key_Return)
    assert tab.tags == [EACH_TAG]
    qtbot.keyClicks(tab.tag_entry, "https://1a4.com/")
    qtbot.keyClick(tab.tag_entry, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "not a METRC Retail ID code" in main_window.status_label.text(), timeout=5_000)
    assert tab.tags == [EACH_TAG]


def test_finishing_with_a_flagged_package_accepted_asks_first(  # type: ignore[no-untyped-def]
    qtbot, sim: MetrcSimulator, main_window: MainWindow, samples: Path
) -> None:
    settings.set_value(main_window.ctx.db, SYSTEM, "retail_id_required", True)
    tab = _receiving(qtbot, main_window, samples)
    tab.retail_ids.button.click()
    qtbot.waitUntil(lambda: bool(tab.retail_ids.flagged()), timeout=15_000)
    wait_until_idle()
    assert tab.current is not None
    db, actor, manifest_id = main_window.ctx.db, main_window.ctx.actor, tab.current.id
    flagged = sorted(tab.retail_ids.flagged())
    accepted = next(
        ln.tag for ln in tab.line_model.rows if ln.tag in flagged and ln.problem is None and ln.item_id is not None
    )
    receiving.scan(db, actor, manifest_id, accepted)
    with pytest.raises(receiving.UnitCodesMissing, match="To go ahead anyway, confirm it"):
        receiving.accept(db, actor, manifest_id, [accepted])  # the service asks for the person's say-so
    receiving.accept(db, actor, manifest_id, [accepted], without_unit_codes=True)  # accepted knowingly
    for line in tab.line_model.rows:
        if line.tag != accepted:
            receiving.reject(db, actor, manifest_id, line.tag, "Other", "not in this test")
    asked: list[str] = []

    def answer_no(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        asked.append(box.text())
        box.button(QMessageBox.StandardButton.No).click()

    when_modal(QMessageBox, answer_no)
    tab.finishing.finish()  # "No": no finish dialog, the manifest stays open
    assert asked and accepted in asked[0] and "no Retail ID unit codes" in asked[0]
    wait_until_idle()
    assert receiving.get_manifest(db, actor, manifest_id).open


def test_the_flags_outlive_the_window_and_yes_accepts_knowingly(  # type: ignore[no-untyped-def]
    qtbot, sim: MetrcSimulator, main_window: MainWindow, ctx: AppContext, samples: Path
) -> None:
    from backoffice.services import users
    from tests.conftest import PINS

    settings.set_value(ctx.db, SYSTEM, "retail_id_required", True)
    tab = _receiving(qtbot, main_window, samples)
    bare = _weighed_tag(sim)
    tab.retail_ids.button.click()
    qtbot.waitUntil(lambda: bare in tab.retail_ids.flagged(), timeout=15_000)
    wait_until_idle()
    main_window.close()
    sim.go_away()  # the flags are the store's now: no METRC needed to show them

    again = MainWindow(ctx)  # the application started again
    qtbot.addWidget(again)
    again.signed_in(users.authenticate(ctx.db, "alex", PINS["alex"]))
    again.show()
    tab = again.tab(ReceivingTab)
    again.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.current is not None and bare in tab.retail_ids.flagged(), timeout=10_000)
    assert _problem_text(tab, bare).startswith("⚠ no Retail ID unit codes")
    line = next(ln for ln in tab.line_model.rows if ln.tag == bare)
    assert line.problem is None and line.item_id is not None  # an item the store carries: it may be accepted
    receiving.scan(ctx.db, ctx.actor, tab.current.id, bare)  # type: ignore[union-attr]
    tab._reload_current()
    qtbot.waitUntil(lambda: _line_state(tab, bare) is ManifestLineState.SCANNED, timeout=10_000)
    row = tab.line_model.row_of_tag(bare)
    assert row is not None
    tab.line_view.setCurrentIndex(tab.line_view.proxy.mapFromSource(tab.line_model.index(row, 0)))
    when_modal(QMessageBox, lambda box: box.button(QMessageBox.StandardButton.Yes).click())  # type: ignore[attr-defined]
    tab.accept_selected()
    qtbot.waitUntil(lambda: _line_state(tab, bare) is ManifestLineState.ACCEPTED, timeout=10_000)
    with ctx.db.read() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "manifest.accept")).one()
        assert json.loads(event.after or "{}") == {"tags": [bare], "without_unit_codes": [bare]}
