"""The store's tag pool: imports from a tag order or METRC (both API versions), the list,
the low-tag warning, and splits that take each tag once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.db.engine import Database
from backoffice.db.models import AuditEvent, TagPoolEntry
from backoffice.errors import ImportFileError, PermissionDenied, RuleViolation, UserError
from backoffice.metrc.keys import MetrcKeyStore
from backoffice.metrc.simulator import DEFAULT_USER_KEY, DEFAULT_VENDOR_KEY, MetrcSimulator
from backoffice.services import audit, ledger, locations, metrc_packages_import, settings, tag_pool, transfers
from backoffice.services.actor import SYSTEM, Actor
from tests.unit.test_metrc_keys import MemoryKeyring

P = "1A406030000000000009"
ON_A_PACKAGE = "1A4060300000000000000001"  # in the sample store


@pytest.fixture
def store(db: Database, actors: dict[str, Actor], samples: Path) -> tuple[Database, dict[str, Actor]]:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    return db, actors


def _order(tmp_path: Path, text: str, name: str = "order.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _pool(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(TagPoolEntry)) or 0)


def test_import_a_tag_order_with_ranges_and_duplicates(
    store: tuple[Database, dict[str, Actor]], tmp_path: Path
) -> None:
    db, actors = store
    first = tag_pool.import_file(db, actors["maria"], _order(tmp_path, f"{P}0001-{P}0010\n"))
    assert (first.added, first.available) == (10, 10)
    text = f"Tag\n{P}0009-{P}0012\n{P}0012\n{ON_A_PACKAGE}\n{P}0013\n"  # 0009, 0010 in the pool; 0012 twice
    result = tag_pool.import_file(db, actors["maria"], _order(tmp_path, text))
    assert result.added == 3 and result.in_pool == [f"{P}0009", f"{P}0010"] and result.on_packages == [ON_A_PACKAGE]
    assert "3 tags added from order.csv" in result.describe() and "already on packages" in result.describe()
    assert [t.tag for t in tag_pool.list_tags(db, SYSTEM, available_only=True)] == [f"{P}{n:04d}" for n in range(1, 14)]
    with db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "tags.import")).all()
    assert len(events) == 2 and json.loads(events[1].after)["skipped_in_pool"] == 2  # one event per import
    assert audit.verify(db, actors["maria"]).ok


def test_a_bad_line_imports_nothing_and_names_every_bad_line(
    store: tuple[Database, dict[str, Actor]], tmp_path: Path
) -> None:
    db, actors = store
    text = f"{P}0001\n{P}0002-{P}0003\n1A4-oops\n{P}0000-1A4060300000000000{20000:06d}\n{P}0100-{P}0200\n"
    with pytest.raises(ImportFileError) as error:
        tag_pool.import_file(db, actors["maria"], _order(tmp_path, text, "bad.txt"))
    message = str(error.value)
    assert "bad.txt, line 3" in message and "bad.txt, line 4" in message and "line 1" not in message
    assert "nothing" in message.lower() or "not imported" in message
    assert _pool(db) == 0
    big = f"1A40603000000000000{0:05d}-1A40603000000000000{10_000:05d}\n"  # 10,001 tags
    with pytest.raises(ImportFileError, match="at most 10,000"):
        tag_pool.import_file(db, actors["maria"], _order(tmp_path, big))
    with pytest.raises(UserError, match="no tags"):
        tag_pool.import_file(db, actors["maria"], _order(tmp_path, "Tag\n\n# nothing yet\n"))
    with pytest.raises(UserError, match="does not exist"):
        tag_pool.import_file(db, actors["maria"], tmp_path / "missing.csv")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(UserError, match="UTF-8"):
        tag_pool.import_file(db, actors["maria"], tmp_path / "binary.csv")
    assert _pool(db) == 0


def test_only_managers_import_tags(store: tuple[Database, dict[str, Actor]], tmp_path: Path) -> None:
    db, actors = store
    with pytest.raises(PermissionDenied):
        tag_pool.import_file(db, actors["alex"], _order(tmp_path, f"{P}0001\n"))
    assert _pool(db) == 0


def test_a_split_after_an_import_reports_its_tag_and_never_offers_it_again(
    store: tuple[Database, dict[str, Actor]], tmp_path: Path
) -> None:
    db, actors = store
    locations.add_location(db, actors["admin"], "Back Room", "vault")
    tag_pool.import_file(db, actors["maria"], _order(tmp_path, f"{P}0001-{P}0003\n"))
    source = ON_A_PACKAGE
    draft = transfers.create_transfer(db, actors["alex"], "Vault", "Back Room", [])
    first = transfers.split_into(db, actors["alex"], draft.id, source, Decimal(1))
    second = transfers.split_into(db, actors["alex"], draft.id, source, Decimal(1))
    assert (first.split_tag, second.split_tag) == (f"{P}0001", f"{P}0002")
    assert [t.tag for t in tag_pool.list_tags(db, SYSTEM, available_only=True)] == [f"{P}0003"]
    assert [t.used for t in tag_pool.list_tags(db, SYSTEM)] == [True, True, False]
    assert ledger.check_balances(db, SYSTEM) == []
    third = transfers.split_into(db, actors["alex"], draft.id, source, Decimal(1))
    assert third.split_tag == f"{P}0003"
    with pytest.raises(RuleViolation, match="tag pool is empty.*tags import"):
        transfers.split_into(db, actors["alex"], draft.id, source, Decimal(1))


def test_a_pool_tag_a_package_already_carries_is_not_offered(store: tuple[Database, dict[str, Actor]]) -> None:
    db, actors = store
    with db.transaction() as session:  # loaded before the package arrived with that tag
        session.add_all([TagPoolEntry(tag=ON_A_PACKAGE), TagPoolEntry(tag=f"{P}0001")])
    assert tag_pool.supply(db, SYSTEM).available == 1
    locations.add_location(db, actors["admin"], "Back Room", "vault")
    draft = transfers.create_transfer(db, actors["alex"], "Vault", "Back Room", [])
    assert transfers.split_into(db, actors["alex"], draft.id, ON_A_PACKAGE, Decimal(1)).split_tag == f"{P}0001"


def test_the_low_tag_warning_follows_the_threshold_setting(
    store: tuple[Database, dict[str, Actor]], tmp_path: Path
) -> None:
    db, actors = store
    empty = tag_pool.supply(db, SYSTEM)
    assert (empty.available, empty.threshold, empty.low) == (0, 20, True)
    assert "No unused package tags" in (empty.warning() or "")
    tag_pool.import_file(db, actors["maria"], _order(tmp_path, f"{P}0001-{P}0019\n"))
    assert "Only 19 unused package tags" in (tag_pool.supply(db, SYSTEM).warning() or "")
    tag_pool.import_file(db, actors["maria"], _order(tmp_path, f"{P}0020\n"))
    assert tag_pool.supply(db, SYSTEM).warning() is None
    settings.set_value(db, actors["admin"], settings.LOW_TAG_THRESHOLD.key, 50)
    assert tag_pool.supply(db, SYSTEM).low


# --- from METRC, both API versions ---------------------------------------------------------------


@pytest.fixture(params=["v1", "v2"])
def metrc(
    request: pytest.FixtureRequest,
    sqlite_db: Database,
    samples: Path,
) -> Iterator[tuple[Database, dict[str, Actor], MetrcSimulator, MetrcKeyStore]]:
    from tests.conftest import make_users

    actors = make_users(sqlite_db)
    metrc_packages_import.import_file(sqlite_db, actors["admin"], samples / "metrc_packages_active.json")
    with MetrcSimulator(seed_dir=samples, api=request.param) as sim:
        for key, value in (
            (settings.METRC_BASE_URL, sim.url),
            (settings.LICENSE_NUMBER, sim.license_number),
            (settings.METRC_API_VERSION, request.param),
        ):
            settings.set_value(sqlite_db, actors["admin"], key.key, value)
        keys = MetrcKeyStore(MemoryKeyring())
        keys.set_vendor_key(DEFAULT_VENDOR_KEY)
        keys.set_user_key("maria", DEFAULT_USER_KEY)
        yield sqlite_db, actors, sim, keys


def test_import_from_metrc_takes_the_facilitys_available_tags(
    metrc: tuple[Database, dict[str, Actor], MetrcSimulator, MetrcKeyStore],
) -> None:
    db, actors, sim, keys = metrc
    ordered = [f"{P}{n:04d}" for n in range(1, 46)]  # 45: three pages on v2
    sim.state.add_package_tags([*ordered, ON_A_PACKAGE])  # METRC does not list a tag a package carries
    result = tag_pool.import_from_metrc(db, actors["maria"], keys=keys)
    assert (result.source, result.added, result.available) == ("METRC", 45, 45)
    assert [t.tag for t in tag_pool.list_tags(db, SYSTEM, available_only=True)] == ordered
    paths = [r.path for r in sim.requests if "tags/" in r.path]
    assert all(f"tags/{sim.api}/package/available" in p for p in paths)
    assert len(paths) == (3 if sim.api == "v2" else 1)
    sim.state.add_package_tags([f"{P}0046"])
    again = tag_pool.import_from_metrc(db, actors["maria"], keys=keys)
    assert (again.added, len(again.in_pool)) == (1, 45)


def test_import_from_metrc_with_nothing_available_says_so(
    metrc: tuple[Database, dict[str, Actor], MetrcSimulator, MetrcKeyStore],
) -> None:
    db, actors, _, keys = metrc
    with pytest.raises(UserError, match="no available package tags"):
        tag_pool.import_from_metrc(db, actors["maria"], keys=keys)
    with pytest.raises(PermissionDenied):
        tag_pool.import_from_metrc(db, actors["alex"], keys=keys)
