"""Cycle counts without a GUI, on SQLite and PostgreSQL: the frozen three-way snapshot, blind
counts, sales during the count, out-of-scope and unknown finds, recounts, and the freeze."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.db.engine import Database
from backoffice.db.models import CountEntry, CountExpected, CountSession, Package
from backoffice.domain.enums import CountStatus, LedgerKind
from backoffice.errors import (
    ImportFileError,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from backoffice.services import (
    adjustments,
    counts,
    ledger,
    metrc_packages_import,
    prices,
)
from backoffice.services.actor import SYSTEM, Actor
from backoffice.services.counts import LineStatus, Scope
from backoffice.services.transfers import NotRecorded

EDIBLES = "Edible (weight - each)"
GUMMY = "1A4060300000000000000002"  # Edible, Vault, 12 Each
GUMMY_2 = "1A4060300000000000000010"  # Edible, Vault, 24 Each
TINCTURE = "1A4060300000000000000001"  # Tincture, Vault, 30 Each
FLOOR_EDIBLE = "1A4060300000000000000021"  # Edible, Sales Floor, 20 Each
STRANGER = "1A40603000000000000009ZZ"  # in no system


@pytest.fixture
def store(db: Database, actors: dict[str, Actor], samples: Path) -> Database:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    with db.read() as session:
        sku = session.scalar(select(Package).where(Package.tag == GUMMY)).item.sku
    prices.set_price(db, actors["maria"], sku, "25.00")
    return db


def _edibles(samples: Path) -> list[dict]:
    return [
        r
        for r in json.loads((samples / "metrc_packages_active.json").read_text())
        if r["Item"]["ProductCategoryName"] == EDIBLES
    ]


def _line(lines: list[counts.VarianceLine], tag: str) -> counts.VarianceLine:
    return next(ln for ln in lines if ln.tag == tag)


def _sell(db: Database, actor: Actor, tag: str, quantity: int) -> None:
    with db.transaction() as session:
        pkg = session.scalar(select(Package).where(Package.tag == tag))
        ledger.post(session, actor, pkg, LedgerKind.SALE, Decimal(-quantity), ledger.Doc("pos_sale_line", None))


def test_start_freezes_the_ledger_for_the_scope_and_is_blind_by_default(
    store: Database, actors: dict[str, Actor], samples: Path
) -> None:
    info = counts.start_count(store, actors["alex"], "Gummies", Scope(categories=(EDIBLES,), locations=("Vault",)))
    expected_tags = {r["Label"] for r in _edibles(samples) if r["LocationName"] == "Vault"}
    assert info.blind and info.is_open and info.expected_lines == len(expected_tags)
    with store.read() as session:
        rows = {e.tag: e for e in session.scalars(select(CountExpected).where(CountExpected.session_id == info.id))}
    assert set(rows) == expected_tags
    assert rows[GUMMY].ledger_qty == Decimal(12) and rows[GUMMY].unit_price == Decimal("25.00")
    assert rows[GUMMY].pos_qty is None and rows[GUMMY].metrc_qty is None

    counts.record_count(store, actors["alex"], info.id, GUMMY, 11)
    hidden = _line(counts.variance_lines(store, actors["alex"], info.id), GUMMY)
    assert hidden.hidden and hidden.status is LineStatus.COUNTED and hidden.counted == 11
    assert hidden.ledger is None and hidden.expected is None and hidden.variance is None and hidden.value is None
    shown = _line(counts.variance_lines(store, actors["maria"], info.id), GUMMY)  # a manager sees them
    assert not shown.hidden and shown.status is LineStatus.SHORT
    assert (shown.ledger, shown.variance, shown.value) == (12, -1, Decimal("-25.00"))


def test_not_blind_counts_show_expected_to_counters(store: Database, actors: dict[str, Actor]) -> None:
    info = counts.start_count(store, actors["alex"], "Open", Scope(categories=(EDIBLES,)), blind=False)
    counts.record_count(store, actors["alex"], info.id, GUMMY, 12)
    line = _line(counts.variance_lines(store, actors["alex"], info.id), GUMMY)
    assert not line.hidden and line.status is LineStatus.MATCH and line.variance == 0


def test_scope_by_brand_item_and_unknown_values(store: Database, actors: dict[str, Actor]) -> None:
    with store.read() as session:
        sku = session.scalar(select(Package).where(Package.tag == GUMMY)).item.sku
    info = counts.start_count(store, actors["alex"], "One item", Scope(skus=(sku,)))
    lines = counts.variance_lines(store, actors["maria"], info.id)
    assert GUMMY in {ln.tag for ln in lines} and all(ln.sku == sku for ln in lines)
    with pytest.raises(ValidationError, match="no category named 'Gumdrops'"):
        counts.start_count(store, actors["alex"], "Bad", Scope(categories=("Gumdrops",)))
    with pytest.raises(ValidationError, match="no location named 'Attic'"):
        counts.start_count(store, actors["alex"], "Bad", Scope(locations=("Attic",)))
    with pytest.raises(ValidationError, match="name"):
        counts.start_count(store, actors["alex"], "  ", Scope())
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(CountSession)) == 1


def test_sales_between_snapshot_and_count_are_conflicts_not_variance(store: Database, actors: dict[str, Actor]) -> None:
    info = counts.start_count(store, actors["alex"], "Open store", Scope(categories=(EDIBLES,)), blind=False)
    _sell(store, actors["alex"], GUMMY, 3)  # the store is open: a budtender sells 3 before the counter gets there
    counts.record_count(store, actors["alex"], info.id, GUMMY, 9)
    line = _line(counts.variance_lines(store, actors["alex"], info.id), GUMMY)
    assert line.ledger == 12  # the snapshot stays frozen
    assert (line.sold_since, line.sales_since, line.expected) == (3, 1, 9)
    assert line.variance == 0 and line.status is LineStatus.MATCH

    _sell(store, actors["alex"], GUMMY, 2)  # sold after it was counted: not part of this count
    line = _line(counts.variance_lines(store, actors["alex"], info.id), GUMMY)
    assert line.sold_since == 3 and line.status is LineStatus.MATCH
    with store.read() as session:
        assert session.scalar(select(CountExpected.ledger_qty).where(CountExpected.tag == GUMMY)) == 12


def test_three_way_snapshot_from_pos_export_and_metrc_file(
    store: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    pos = tmp_path / "pos_inventory.csv"
    pos.write_text(f'\ufeffPackage ID,SKU,Qty On Hand\r\n{GUMMY},,"11"\r\n{GUMMY_2},,24\r\n', encoding="utf-8")
    metrc = json.loads((samples / "metrc_packages_active.json").read_text())
    for record in metrc:
        if record["Label"] == GUMMY:
            record["Quantity"] = 10.0
    metrc.append({**metrc[1], "Id": 999, "Label": "1A4060300000000000000999", "Quantity": 4.0})  # METRC only
    metrc_file = tmp_path / "metrc.json"
    metrc_file.write_text(json.dumps(metrc))
    info = counts.start_count(
        store, actors["alex"], "Three-way", Scope(categories=(EDIBLES,)), pos_file=pos, metrc_file=metrc_file
    )
    assert (info.pos_source, info.metrc_source) == ("pos_inventory.csv", "metrc.json")
    counts.record_count(store, actors["alex"], info.id, GUMMY, 12)
    lines = counts.variance_lines(store, actors["maria"], info.id)
    gummy = _line(lines, GUMMY)
    assert (gummy.counted, gummy.ledger, gummy.pos, gummy.metrc) == (12, 12, 11, 10)
    assert (gummy.variance, gummy.variance_pos, gummy.variance_metrc) == (0, 1, 2)
    metrc_only = _line(lines, "1A4060300000000000000999")
    assert metrc_only.status is LineStatus.SYSTEM_ONLY and metrc_only.metrc == 4 and metrc_only.ledger is None
    assert _line(lines, GUMMY_2).pos == 24 and _line(lines, GUMMY_2).status is LineStatus.NOT_COUNTED


def test_metrc_snapshot_from_the_connector(store: Database, actors: dict[str, Actor], samples: Path) -> None:
    from backoffice.metrc.payloads import from_json

    data = from_json((samples / "metrc_packages_active.json").read_text())  # as the client returns it
    info = counts.start_count(
        store, actors["alex"], "Connector", Scope(categories=(EDIBLES,)), metrc_packages_data=data
    )
    assert info.metrc_source == "METRC active packages (fetched)"
    line = _line(counts.variance_lines(store, actors["maria"], info.id), GUMMY)
    assert line.metrc == 12


def test_bad_snapshot_files_start_nothing(store: Database, actors: dict[str, Actor], tmp_path: Path) -> None:
    pos = tmp_path / "pos.csv"
    pos.write_text(f"Package ID,On Hand\n{GUMMY},twelve\nshort-tag,3\n")
    with pytest.raises(ImportFileError) as error:
        counts.start_count(store, actors["alex"], "Bad POS", Scope(), pos_file=pos)
    assert "pos.csv, line 2, field 'On Hand'" in str(error.value)
    assert "pos.csv, line 3, field 'Package ID'" in str(error.value)
    metrc = tmp_path / "metrc.json"
    metrc.write_text('[{"Label": "1A4060300000000000000002", "Quantity": "x"}]')
    with pytest.raises(ImportFileError, match="metrc.json, line 1"):
        counts.start_count(store, actors["alex"], "Bad METRC", Scope(), metrc_file=metrc)
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(CountSession)) == 0


def test_out_of_scope_and_unknown_packages_are_listed_never_dropped(store: Database, actors: dict[str, Actor]) -> None:
    info = counts.start_count(store, actors["alex"], "Gummies", Scope(categories=(EDIBLES,)))
    found = counts.record_count(store, actors["alex"], info.id, TINCTURE, 30)
    assert found.known and not found.in_scope and "outside this count's scope" in found.describe()
    stranger = counts.record_count(store, actors["alex"], info.id, STRANGER, 2)
    assert not stranger.known and "not in this store's inventory" in stranger.describe()
    lines = counts.variance_lines(store, actors["maria"], info.id)
    tincture, unknown = _line(lines, TINCTURE), _line(lines, STRANGER)
    assert tincture.status is LineStatus.FOUND and tincture.ledger == 30 and tincture.variance == 0
    assert unknown.status is LineStatus.UNKNOWN and unknown.counted == 2 and unknown.variance == 2
    with store.read() as session:
        entries = session.scalars(select(CountEntry).where(CountEntry.session_id == info.id)).all()
    assert {(e.tag, e.in_scope) for e in entries} == {(TINCTURE, False), (STRANGER, False)}


def test_entries_add_up_and_a_recount_supersedes(store: Database, actors: dict[str, Actor]) -> None:
    info = counts.start_count(store, actors["alex"], "Gummies", Scope(categories=(EDIBLES,)), blind=False)
    counts.record_count(store, actors["alex"], info.id, GUMMY, 5, location="Vault")
    second = counts.record_count(store, actors["maria"], info.id, GUMMY, 6, location="Vault")
    assert second.counted == 11 and second.entries == 2 and second.counted_by == "alex, maria"
    recount = counts.record_count(store, actors["alex"], info.id, GUMMY, 12, recount=True, note="second look")
    assert recount.counted == 12 and recount.entries == 1
    assert counts.tag_status(store, actors["alex"], info.id, GUMMY).counted == 12
    assert _line(counts.variance_lines(store, actors["alex"], info.id), GUMMY).status is LineStatus.MATCH
    with store.read() as session:  # nothing was overwritten
        assert session.scalar(select(func.count()).select_from(CountEntry).where(CountEntry.tag == GUMMY)) == 3


@pytest.mark.parametrize(
    "quantity, message",
    [
        ("-1", "cannot be negative"),
        ("abc", "not a number"),
        ("1.00001", "more than 4 decimal places"),
        ("2000000", "not believable"),
    ],
)
def test_bad_counted_quantities_are_refused(
    store: Database, actors: dict[str, Actor], quantity: str, message: str
) -> None:
    info = counts.start_count(store, actors["alex"], "Gummies", Scope(categories=(EDIBLES,)))
    with pytest.raises(ValidationError, match=message):
        counts.record_count(store, actors["alex"], info.id, GUMMY, quantity)


def test_counting_on_the_floor_before_the_transfer_is_recorded_is_refused(
    store: Database, actors: dict[str, Actor]
) -> None:
    info = counts.start_count(store, actors["alex"], "Floor", Scope(categories=(EDIBLES,)))
    with pytest.raises(NotRecorded) as refused:
        counts.record_count(store, actors["alex"], info.id, GUMMY, 12, location="Sales Floor")
    assert refused.value.from_location == "Vault" and "Record its transfer" in str(refused.value)
    counts.record_count(store, actors["alex"], info.id, FLOOR_EDIBLE, 20, location="Sales Floor")
    with pytest.raises(NotFound, match="no location 'Attic'"):
        counts.record_count(store, actors["alex"], info.id, GUMMY, 12, location="Attic")


def test_submit_refuses_uncounted_then_records_them_as_zero_and_stores_accuracy(
    store: Database, actors: dict[str, Actor]
) -> None:
    info = counts.start_count(store, actors["alex"], "Two", Scope(categories=(EDIBLES,), locations=("Vault",)))
    expected = counts.variance_lines(store, actors["maria"], info.id)
    for line in expected:
        if line.tag != GUMMY_2:
            counts.record_count(store, actors["alex"], info.id, line.tag, line.ledger)  # type: ignore[arg-type]
    counts.record_count(store, actors["alex"], info.id, GUMMY, 10, recount=True)  # 2 short, $50
    with pytest.raises(RuleViolation, match=f"1 package.*{GUMMY_2}"):
        counts.submit(store, actors["alex"], info.id)
    done = counts.submit(store, actors["alex"], info.id, uncounted_as_zero=True)
    assert done.status is CountStatus.SUBMITTED and done.submitted_by == "alex"
    assert done.lines_counted == len(expected) and done.lines_matching == len(expected) - 2
    assert done.unit_variance == 2 + 24 and done.dollar_variance == Decimal("50.00")
    assert done.accuracy == (Decimal(len(expected) - 2) * 100 / len(expected)).quantize(Decimal("0.1"))
    zero = _line(counts.variance_lines(store, actors["alex"], info.id), GUMMY_2)
    assert zero.counted == 0 and zero.variance == -24 and not zero.hidden  # results shown once submitted


def test_a_submitted_count_is_frozen(store: Database, actors: dict[str, Actor], tmp_path: Path) -> None:
    info = counts.start_count(store, actors["alex"], "Gummies", Scope(categories=(EDIBLES,)))
    counts.record_count(store, actors["alex"], info.id, GUMMY, 10)
    counts.submit(store, actors["alex"], info.id, uncounted_as_zero=True)
    with store.read() as session:
        entries_before = session.scalar(select(func.count()).select_from(CountEntry))
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(f"tag,quantity\n{GUMMY},12\n")
    for attempt in (
        lambda: counts.record_count(store, actors["alex"], info.id, GUMMY, 12, recount=True),
        lambda: counts.import_sheet(store, actors["alex"], info.id, sheet),
        lambda: counts.submit(store, actors["alex"], info.id),
    ):
        with pytest.raises(RuleViolation, match="frozen; correct inventory with an adjustment"):
            attempt()
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(CountEntry)) == entries_before
    # corrections are new adjustments, linked to the count
    result = adjustments.adjust(
        store, actors["alex"], GUMMY, -2, "Inventory Audit", "count short by 2", count_session_id=info.id
    )
    line = _line(counts.variance_lines(store, actors["alex"], info.id), GUMMY)
    assert line.adjusted == -2 and line.status is LineStatus.RESOLVED and line.remaining == 0
    assert counts.get_count(store, SYSTEM, info.id).lines_matching == 0  # the frozen figures do not move
    assert result.count_session_id == info.id


def test_adjusting_during_the_count_resolves_without_hiding_the_variance(
    store: Database, actors: dict[str, Actor]
) -> None:
    info = counts.start_count(store, actors["maria"], "Gummies", Scope(categories=(EDIBLES,)))
    counts.record_count(store, actors["alex"], info.id, GUMMY, 9)
    adjustments.adjust(store, actors["alex"], GUMMY, -3, "Theft", "3 missing from the vault", count_session_id=info.id)
    line = _line(counts.variance_lines(store, actors["maria"], info.id), GUMMY)
    assert (line.variance, line.adjusted, line.remaining, line.status) == (-3, -3, 0, LineStatus.RESOLVED)
    counts.record_count(store, actors["alex"], info.id, GUMMY, 9, recount=True)  # a recount after the adjustment
    line = _line(counts.variance_lines(store, actors["maria"], info.id), GUMMY)
    assert (line.variance, line.status) == (-3, LineStatus.RESOLVED)


def test_keyed_in_sheet_supersedes_so_importing_twice_changes_nothing(
    store: Database, actors: dict[str, Actor], tmp_path: Path
) -> None:
    info = counts.start_count(store, actors["alex"], "Gummies", Scope(categories=(EDIBLES,)))
    sheet = tmp_path / "keyed.csv"
    sheet.write_text(f"{GUMMY},11\n{GUMMY_2},\n{STRANGER},1\n")  # no header; one box left empty
    result = counts.import_sheet(store, actors["alex"], info.id, sheet, location="Vault")
    assert (result.recorded, result.blank) == (2, 1)
    counts.import_sheet(store, actors["alex"], info.id, sheet, location="Vault")
    lines = counts.variance_lines(store, actors["maria"], info.id)
    assert _line(lines, GUMMY).counted == 11 and _line(lines, STRANGER).status is LineStatus.UNKNOWN
    assert _line(lines, GUMMY_2).status is LineStatus.NOT_COUNTED


def test_bad_keyed_in_sheet_records_nothing(store: Database, actors: dict[str, Actor], tmp_path: Path) -> None:
    info = counts.start_count(store, actors["alex"], "Gummies", Scope(categories=(EDIBLES,)))
    sheet = tmp_path / "keyed.csv"
    sheet.write_text(f"Tag,Count\n{GUMMY},11\n{GUMMY},12\n{GUMMY_2},-1\nnot-a-tag,3\n")
    with pytest.raises(ImportFileError) as error:
        counts.import_sheet(store, actors["alex"], info.id, sheet)
    text = str(error.value)
    assert "keyed.csv, line 3, field 'tag': tag 1A4060300000000000000002 is also on line 2" in text
    assert "line 4, field 'quantity'" in text and "line 5, field 'tag'" in text
    (tmp_path / "wrong.csv").write_text("Item,Qty\nfoo,1\n")
    with pytest.raises(ImportFileError, match="lacks the column"):
        counts.import_sheet(store, actors["alex"], info.id, tmp_path / "wrong.csv")
    assert counts.get_count(store, SYSTEM, info.id).entries == 0


def test_roles_are_enforced(store: Database, actors: dict[str, Actor]) -> None:
    with pytest.raises(PermissionDenied, match="count inventory"):
        counts.start_count(store, actors["pat"], "Purchasing", Scope())
    info = counts.start_count(store, actors["alex"], "Gummies", Scope(categories=(EDIBLES,)))
    with pytest.raises(PermissionDenied):
        counts.variance_lines(store, actors["pat"], info.id)


def test_list_and_choices(store: Database, actors: dict[str, Actor]) -> None:
    first = counts.start_count(store, actors["alex"], "First", Scope(categories=(EDIBLES,)))
    second = counts.start_count(store, actors["alex"], "Second", Scope(locations=("Vault",)))
    assert [c.id for c in counts.list_counts(store, SYSTEM)] == [second.id, first.id]
    choices = counts.scope_choices(store, SYSTEM)
    assert EDIBLES in choices.categories and "Sales Floor" in choices.locations
    assert second.scope.describe() == "everything in Vault"


def test_a_unit_code_counts_one_unit_and_only_of_a_package_counted_by_the_each(
    store: Database, actors: dict[str, Actor]
) -> None:
    info = counts.start_count(store, actors["alex"], "Everything", Scope(), blind=False)
    counts.record_unit(store, actors["alex"], info.id, GUMMY, location="Vault")
    second = counts.record_unit(store, actors["alex"], info.id, GUMMY, location="Vault")
    assert second.counted == 2 and second.entries == 2
    with pytest.raises(ValidationError, match="counted in Grams, not by the each"):
        counts.record_unit(store, actors["alex"], info.id, "1A4060300000000000000008", location="Vault")
    with pytest.raises(PermissionDenied):
        counts.record_unit(store, actors["pat"], info.id, GUMMY, location="Vault")
    assert counts.tag_status(store, actors["alex"], info.id, "1A4060300000000000000008").counted is None
