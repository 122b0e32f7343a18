"""The catalogue, receiving step by step, splits and store settings through the ``backoffice``
command, as a person would type them: a delivery with an extra package and a missing one whose
new products get their brand and price, a price list with a bad line, a split from the tag
pool, and settings checked as the Settings dialog checks them."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from backoffice.cli.main import main
from backoffice.db.engine import Database
from backoffice.db.models import Item, ManifestLine, Package, TagPoolEntry
from backoffice.domain.enums import ManifestLineState, ManifestStatus
from tests.conftest import PINS
from tests.unit.cli_signin import new_store, signin
from tests.unit.receiving_store import SAMPLE_NUMBER, sample_tag

UNKNOWN = (1, 2, 5)  # sample lines whose items the store lacks: a Kind Harvest cart, Verde Labs gummies and pre-roll
EXTRA = "1A4060300000000000009999"  # a package on the truck but not on the manifest
MISSING = 14  # a package on the manifest that never came
Cli = Callable[[list[str]], int]


@pytest.fixture
def store(tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    db = ["--db", f"sqlite:///{tmp_path / 'cli.sqlite'}"]
    new_store(monkeypatch, db, "alex", "maria", "pat")
    assert (
        main(
            [
                *db,
                *signin(monkeypatch, "admin"),
                "import",
                "metrc-packages",
                str(samples / "metrc_packages_active.json"),
            ]
        )
        == 0
    )
    return db


@pytest.fixture
def cli(store: list[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``backoffice`` signed in as the ``--user`` the arguments name (wherever it stands), else as admin."""

    def run(argv: list[str]) -> int:
        who = argv[argv.index("--user") + 1] if "--user" in argv else "admin"
        monkeypatch.setenv("BACKOFFICE_PIN", PINS[who])
        return main([*store, *([] if "--user" in argv else ["--user", "admin"]), *argv])

    return run


def _db(store: list[str]) -> Database:
    return Database(store[1])


def test_a_delivery_with_an_extra_and_a_missing_package(
    store: list[str], cli: Cli, samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli(
            [
                "--user",
                "maria",
                "items",
                "add",
                "Kind Harvest Sour Diesel Flower",
                "--brand",
                "Kind Harvest",
                "--category",
                "Buds",
                "--unit",
                "Grams",
            ]
        )
        == 0
    )
    assert (
        cli(
            [
                "--user",
                "pat",
                "items",
                "add",
                "Verde Labs Sour Diesel Flower",
                "--brand",
                "Verde Labs",
                "--category",
                "Buds",
                "--unit",
                "Grams",
                "--price",
                "30",
            ]
        )
        == 0
    )
    assert (
        cli(
            [
                "--user",
                "pat",
                "items",
                "add",
                "Verde Tonic",
                "--brand",
                "Verde",
                "--category",
                "Drinks",
                "--unit",
                "Each",
            ]
        )
        == 0
    )  # a shorter brand that also fits: the longest wins
    assert cli(["import", "manifest", str(samples / "metrc_incoming_transfer.json")]) == 0
    capsys.readouterr()

    assert cli(["receive", "--list", "--user", "alex"]) == 0
    assert f"{SAMPLE_NUMBER}   open         0/14   scanned" in capsys.readouterr().out

    came = [sample_tag(n) for n in range(1, 14)]
    assert (
        cli(["receive", SAMPLE_NUMBER, "--scan", *came[:3], EXTRA, *came[3:], "--accept-scanned", "--user", "alex"])
        == 1
    )
    out, err = capsys.readouterr()
    assert (
        f"error: Tag {EXTRA} is not on manifest {SAMPLE_NUMBER}. Do not accept it: set the package aside and "
        "call the shipper, Verde Labs Distribution" in err
    )  # the tab's words
    assert "error: 1 scan(s) ticked nothing; nothing else was done" in err
    assert "warning: Item “Kind Harvest GMO Cookies Live Resin Cart 1g”" in err and "accepted" not in out
    assert f"{sample_tag(3)} ticked:" in out

    assert (
        cli(
            [
                "receive",
                SAMPLE_NUMBER,
                "--create-items",
                "--price",
                f"{sample_tag(1)}=39.99",
                "--price",
                f"{sample_tag(2)}=$18",
                "--user",
                "alex",
            ]
        )
        == 1
    )
    assert "may not change item prices" in capsys.readouterr().err  # an associate prices nothing
    assert (
        cli(
            [
                "receive",
                SAMPLE_NUMBER,
                "--create-items",
                "--price",
                f"{sample_tag(1)}=39.99",
                "--price",
                f"{sample_tag(2)}=$18",
                "--user",
                "maria",
            ]
        )
        == 1
    )
    assert f"no shelf price for {sample_tag(5)}: give one, or confirm" in capsys.readouterr().err
    assert (
        cli(
            [
                "receive",
                SAMPLE_NUMBER,
                "--create-items",
                "--price",
                f"{sample_tag(1)}=39.99",
                "--price",
                f"{sample_tag(2)}=$18",
                "--no-price",
                "--user",
                "maria",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "3 item(s) created (1 with no price yet); 3 manifest line(s) now use them." in out
    assert "Kind Harvest" in out and "$39.99" in out and "no price yet" in out

    assert cli(["receive", SAMPLE_NUMBER, "--finish", "--user", "alex"]) == 1
    assert "are neither accepted nor rejected" in capsys.readouterr().err
    assert (
        cli(
            [
                "receive",
                SAMPLE_NUMBER,
                "--reject",
                sample_tag(MISSING),
                "--reason",
                "Not in the delivery",
                "--note",
                "not on the truck; told the driver",
                "--received",
                f"{sample_tag(4)}=452.8",
                "--note",
                "scale shows 452.8 g",
                "--accept-scanned",
                "--finish",
                "--user",
                "alex",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"{sample_tag(MISSING)} rejected (Not in the delivery)." in out
    assert f"manifest {SAMPLE_NUMBER} received into Vault: 13 package(s) accepted, 1 rejected" in out

    db = _db(store)
    try:
        with db.read() as session:
            items = {i.name: i for i in session.scalars(select(Item).where(Item.sku.like("R-%")))}
            lines = {ln.tag: ln for ln in session.scalars(select(ManifestLine))}
            flower = session.scalar(select(Package).where(Package.tag == sample_tag(4)))
        assert {(i.brand, i.price) for i in items.values()} == {
            ("Kind Harvest", Decimal("39.99")),
            ("Verde Labs", Decimal("18.00")),
            ("Verde Labs", Decimal(0)),
        }
        assert lines[sample_tag(MISSING)].state is ManifestLineState.REJECTED
        assert flower is not None and flower.quantity == Decimal("452.8")
    finally:
        db.dispose()
    assert cli(["receive", "--list"]) == 0
    assert f"{SAMPLE_NUMBER}   {ManifestStatus.RECEIVED.value}" in capsys.readouterr().out


def test_accept_all_combines_with_create_items(
    store: list[str], cli: Cli, samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["import", "manifest", str(samples / "metrc_incoming_transfer.json")]) == 0
    assert cli(["receive", SAMPLE_NUMBER, "--accept-all", "--create-items", "--no-price"]) == 0
    out = capsys.readouterr().out
    assert "3 item(s) created (3 with no price yet)" in out
    assert f"manifest {SAMPLE_NUMBER} received into Vault: 14 package(s) accepted, 0 rejected" in out
    assert cli(["items", "list", "--no-price", "--search", "R-"]) == 0  # the SKUs made up for them
    listed = capsys.readouterr().out
    assert listed.count("no price yet") == 3 and "3 item(s)" in listed


def test_bad_receive_options_say_what_to_type(
    store: list[str], cli: Cli, samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["import", "manifest", str(samples / "metrc_incoming_transfer.json")]) == 0
    capsys.readouterr()
    for argv, said in (
        (["--reject", sample_tag(3)], "--reject needs --reason"),
        (["--received", "1A40"], "is not TAG=AMOUNT"),
        (["--price", f"{sample_tag(1)}=3"], "--price and --no-price go with --create-items"),
        (["--location", "Vault"], "--location goes with --finish"),
        ([], None),
    ):
        code = cli(
            ["receive", *(argv if said else []), SAMPLE_NUMBER]
            if not said
            else [*store, "receive", SAMPLE_NUMBER, *argv]
        )
        if said:
            assert code == 1 and said in capsys.readouterr().err
        else:
            assert code == 0 and "0/14 scanned, 14 undecided" in capsys.readouterr().out
    assert cli(["receive"]) == 1
    assert "say which manifest" in capsys.readouterr().err


def test_items_from_the_command_line(
    store: list[str], cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli(
            [
                "--user",
                "alex",
                "items",
                "add",
                "Verde Labs Kush Cake Flower",
                "--category",
                "Buds",
                "--unit",
                "g",
                "--sku",
                "VL-KC-35",
            ]
        )
        == 1
    )
    assert "alex (associate) may not edit the catalogue" in capsys.readouterr().err
    assert (
        cli(
            [
                "items",
                "add",
                "Verde Labs Kush Cake Flower",
                "--category",
                "Buds",
                "--unit",
                "g",
                "--sku",
                "VL-KC-35",
                "--brand",
                "Verde Labs",
                "--vendor",
                "Verde Labs Distribution",
            ]
        )
        == 0
    )
    assert "Item VL-KC-35 added: Verde Labs Kush Cake Flower (no price yet)." in capsys.readouterr().out
    assert cli(["--user", "pat", "items", "set", "VL-KC-35", "--price", "42.5", "--floor-par", "6"]) == 0
    assert "Item VL-KC-35: floor_par, price changed." in capsys.readouterr().out
    assert cli(["items", "set", "VL-KC-35"]) == 1
    assert "say what to change" in capsys.readouterr().err
    assert cli(["items", "list", "--brand", "Verde Labs"]) == 0
    out = capsys.readouterr().out
    assert "VL-KC-35" in out and "42.50" in out and "1 item(s)" in out

    prices = tmp_path / "prices.csv"
    prices.write_text("SKU,Price\nVL-KC-35,40\nNOPE,3\nVL-KC-35,39\n")
    assert cli(["--user", "maria", "items", "import-prices", str(prices)]) == 1
    err = capsys.readouterr().err
    assert "prices.csv: 2 problem(s) in 2 line(s); nothing was imported" in err
    assert "line 3, field 'SKU': there is no item with SKU NOPE" in err and "listed twice" in err
    prices.write_text("SKU,Price\nVL-KC-35,40\n")
    assert cli(["--user", "maria", "items", "import-prices", str(prices)]) == 0
    assert "VL-KC-35         $42.50 → $40.00" in capsys.readouterr().out

    assert cli(["items", "archive", "VL-KC-35"]) == 0
    assert "Item VL-KC-35 archived." in capsys.readouterr().out
    assert cli(["items", "list", "--brand", "Verde Labs"]) == 0
    assert "0 item(s)" in capsys.readouterr().out
    assert cli(["items", "archive", "VL-KC-35", "--undo"]) == 0
    assert "back in the catalogue" in capsys.readouterr().out


def test_split_from_the_command_line_takes_a_pool_tag(
    store: list[str], cli: Cli, samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = json.loads((samples / "metrc_packages_active.json").read_text())
    whole, part = [
        r["Label"]
        for r in records
        if r["LocationName"] == "Vault" and r["LabTestingState"] == "TestPassed" and not r["IsOnHold"]
    ][:2]
    capsys.readouterr()
    assert cli(["transfer", "create", "--split", f"{part}=1", whole]) == 1
    assert "the store's tag pool is empty" in capsys.readouterr().err
    db = _db(store)
    try:
        with db.transaction() as session:
            session.execute(insert(TagPoolEntry), [{"tag": "1A4060300000000000090001"}])
        with db.read() as session:
            before = session.scalar(select(Package.quantity).where(Package.tag == part))
    finally:
        db.dispose()
    assert cli(["transfer", "create", "--split", f"{part}=1", "--split", "bad", whole]) == 1
    assert "--split 'bad' is not TAG=QTY" in capsys.readouterr().err
    assert cli(["--user", "alex", "transfer", "create", "--split", f"{part}=1", whole]) == 0
    out = capsys.readouterr().out
    assert f"1A4060300000000000090001 is a new package split from {part}" in out and whole in out
    db = _db(store)
    try:
        with db.read() as session:
            after = session.scalar(select(Package.quantity).where(Package.tag == part))
            new = session.scalar(select(Package).where(Package.tag == "1A4060300000000000090001"))
        assert before is not None and after == before - 1 and new is not None and new.quantity == 1
    finally:
        db.dispose()


def test_settings_from_the_command_line(store: list[str], cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert cli(["settings", "list"]) == 0
    out = capsys.readouterr().out
    assert "strict_tags" in out and "lockout_attempts" in out and "Wrong PINs in a row" in out
    assert cli(["settings", "get", "timezone"]) == 0
    assert capsys.readouterr().out.strip() == "America/Los_Angeles"
    assert cli(["--user", "maria", "settings", "set", "strict_tags", "yes"]) == 1
    assert "maria (manager) may not change store settings" in capsys.readouterr().err
    for name, value, said in (
        ("strict_tags", "maybe", "is a yes/no switch"),
        ("timezone", "Mars/Olympus", "is not a time zone"),
        ("lockout_attempts", "0", "is not between 1 and 100"),
        ("lockout_attempts", "2.5", "needs a whole number"),
        ("store_name", "  ", "may not be empty"),
        ("metrc_base_url", "ftp://x", "is not a web address"),
        ("colour", "red", "unknown setting 'colour'"),
    ):
        assert cli(["settings", "set", name, value]) == 1
        assert said in capsys.readouterr().err
    assert cli(["settings", "set", "strict_tags", "yes"]) == 0
    assert capsys.readouterr().out.strip() == "strict_tags: no → yes"
    assert cli(["settings", "set", "strict_tags", "on"]) == 0
    assert "already yes; nothing changed" in capsys.readouterr().out
    assert cli(["settings", "set", "approval_threshold_dollars", "$250"]) == 0
    assert capsys.readouterr().out.strip() == "approval_threshold_dollars: 100 → 250"
