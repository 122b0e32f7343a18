"""Receiving through the ``backoffice`` command: import (file, again, bad file), the paper
receiving with --accept-all, the report, and the METRC check; user errors exit 1 on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.cli.main import main
from backoffice.db.engine import Database
from backoffice.db.models import LedgerEntry, Package
from backoffice.domain.enums import LedgerKind
from tests.unit.cli_signin import new_store, signin
from tests.unit.receiving_store import SAMPLE_NUMBER, sample_tag

UNKNOWN_TAGS = [sample_tag(1), sample_tag(2), sample_tag(5)]  # items the sample store does not carry


@pytest.fixture(autouse=True)
def _app(qapp: object) -> None:
    """The report paints in the application pytest-qt makes."""


@pytest.fixture
def store(tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    db = ["--db", f"sqlite:///{tmp_path / 'cli.sqlite'}"]
    new_store(monkeypatch, db, "alex", "pat")
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


def test_import_prints_number_and_count_and_knows_it_again(
    monkeypatch: pytest.MonkeyPatch, store: list[str], samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert (
        main(
            [*store, *signin(monkeypatch, "alex"), "import", "manifest", str(samples / "metrc_incoming_transfer.json")]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"manifest {SAMPLE_NUMBER}: 14 packages from Verde Labs Distribution imported" in out
    assert "3 package(s) carry an item not in the catalogue" in out
    assert (
        main(
            [*store, *signin(monkeypatch, "admin"), "import", "manifest", str(samples / "metrc_incoming_transfer.csv")]
        )
        == 0
    )
    assert f"manifest {SAMPLE_NUMBER}: 14 packages, already imported (open); nothing changed" in capsys.readouterr().out


def test_a_bad_manifest_file_exits_1_and_imports_nothing(
    monkeypatch: pytest.MonkeyPatch, store: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Manifest,Package\n0004412217,1A40\n")
    assert main([*store, *signin(monkeypatch, "admin"), "import", "manifest", str(bad)]) == 1
    assert "missing" in capsys.readouterr().err
    assert main([*store, *signin(monkeypatch, "admin"), "receive", SAMPLE_NUMBER]) == 1
    assert f"there is no manifest {SAMPLE_NUMBER}; import it first" in capsys.readouterr().err


def _reject_unknown_items(db: Database) -> int:
    """Reject the sample manifest's packages of items the sample store does not carry."""
    from backoffice.services import receiving, users

    alex = users.actor_for(db, "alex")
    manifest_id = receiving.find_manifest(db, SAMPLE_NUMBER)
    for code in UNKNOWN_TAGS:
        receiving.reject(db, alex, manifest_id, code, "Not ordered", "not on our purchase order")
    return manifest_id


def test_paper_receiving_with_accept_all(
    monkeypatch: pytest.MonkeyPatch, store: list[str], samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:

    assert (
        main(
            [*store, *signin(monkeypatch, "admin"), "import", "manifest", str(samples / "metrc_incoming_transfer.json")]
        )
        == 0
    )
    assert main([*store, "receive", "4412217", "--accept-all", *signin(monkeypatch, "pat")]) == 1
    assert "pat (purchasing) may not receive manifests" in capsys.readouterr().err
    assert main([*store, "receive", SAMPLE_NUMBER, "--accept-all", *signin(monkeypatch, "alex")]) == 1
    err = capsys.readouterr().err
    assert "3 package(s) of manifest 0004412217 may not be accepted as they are; nothing was received" in err
    db = Database(store[1])
    try:
        _reject_unknown_items(db)
    finally:
        db.dispose()
    assert main([*store, "receive", SAMPLE_NUMBER, "--accept-all", *signin(monkeypatch, "alex")]) == 0
    out = capsys.readouterr().out
    assert f"manifest {SAMPLE_NUMBER} received into Vault: 11 package(s) accepted, 3 rejected" in out
    assert f"{sample_tag(4)}  453.59 Grams   bin V-BUD-01" in out
    assert "receive sheet queued (outbox #1): key it into METRC's web UI" in out
    db = Database(store[1])
    try:
        with db.read() as session:
            rows = session.execute(
                select(LedgerEntry.kind, LedgerEntry.user_id).where(LedgerEntry.doc_type == "manifest")
            ).all()
            assert len(rows) == 11 and {kind for kind, _ in rows} == {LedgerKind.RECEIVE}
            assert (
                session.scalar(select(Package.received_from_manifest).where(Package.tag == sample_tag(4)))
                == SAMPLE_NUMBER
            )
    finally:
        db.dispose()
    assert main([*store, *signin(monkeypatch, "admin"), "receive", SAMPLE_NUMBER]) == 0
    assert "received, 0/14 scanned, 0 undecided" in capsys.readouterr().out

    assert (
        main(
            [
                *store,
                *signin(monkeypatch, "admin"),
                "receive-report",
                SAMPLE_NUMBER,
                "--out",
                str(tmp_path / "sheet.pdf"),
            ]
        )
        == 0
    )
    assert "receiving report, 14 packages, 1 page(s)" in capsys.readouterr().out
    assert (tmp_path / "sheet.pdf").read_bytes().startswith(b"%PDF")

    keyed = [
        {
            "Label": sample_tag(n),
            "Quantity": float(q),
            "UnitOfMeasureName": u,
            "ReceivedFromManifestNumber": SAMPLE_NUMBER,
            "Item": {"Name": "x"},
        }
        for n, q, u in _accepted(samples)
    ]
    (tmp_path / "active.json").write_text(json.dumps(keyed[1:]))
    assert (
        main(
            [
                *store,
                *signin(monkeypatch, "admin"),
                "receive-check",
                SAMPLE_NUMBER,
                "--metrc-file",
                str(tmp_path / "active.json"),
            ]
        )
        == 1
    )
    assert f"{keyed[0]['Label']} is not among METRC's active packages" in capsys.readouterr().out
    (tmp_path / "active.json").write_text(json.dumps(keyed))
    assert (
        main(
            [
                *store,
                *signin(monkeypatch, "admin"),
                "receive-check",
                SAMPLE_NUMBER,
                "--metrc-file",
                str(tmp_path / "active.json"),
            ]
        )
        == 0
    )
    assert (
        "METRC agrees with manifest 0004412217: 11 accepted, 3 rejected; receive sheet (outbox #1) closed"
        in capsys.readouterr().out
    )


def _accepted(samples: Path) -> list[tuple[int, str, str]]:
    packages = json.loads((samples / "metrc_incoming_transfer.json").read_text())["Packages"]
    return [
        (n, str(p["ShippedQuantity"]), p["ShippedUnitOfMeasureName"])
        for n, p in enumerate(packages, start=1)
        if p["PackageLabel"] not in UNKNOWN_TAGS
    ]


def test_packages_without_retail_id_unit_codes_are_shown_and_need_the_flag(
    monkeypatch: pytest.MonkeyPatch, store: list[str], samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from backoffice.metrc.simulator import MetrcSimulator
    from backoffice.services import retail_id, settings, users
    from backoffice.services.actor import SYSTEM
    from tests.unit.test_retail_id import connector

    assert (
        main(
            [*store, *signin(monkeypatch, "admin"), "import", "manifest", str(samples / "metrc_incoming_transfer.json")]
        )
        == 0
    )
    db = Database(store[1])
    try:
        manifest_id = _reject_unknown_items(db)
        settings.set_value(db, SYSTEM, "retail_id_required", True)
        with MetrcSimulator(seed_dir=samples, api="v2") as sim:
            alex = users.actor_for(db, "alex")
            flagged = retail_id.fetch_manifest_codes(db, alex, manifest_id, connect=connector(sim)).flagged
    finally:
        db.dispose()
    bare = sorted(set(flagged) - set(UNKNOWN_TAGS))
    assert bare
    assert main([*store, "receive", SAMPLE_NUMBER, *signin(monkeypatch, "alex")]) == 0
    shown = capsys.readouterr()
    assert f"{bare[0]}  " in shown.out and "[⚠ no Retail ID unit codes]" in shown.out.split(bare[0])[1].split("\n")[0]
    assert f"warning: {len(flagged)} package(s) with no Retail ID unit codes" in shown.err
    assert main([*store, "receive", SAMPLE_NUMBER, "--accept-all", *signin(monkeypatch, "alex")]) == 1
    err = capsys.readouterr().err
    assert "Accepting all was refused" in err and bare[0] in err and "--without-unit-codes" in err
    assert (
        main([*store, "receive", SAMPLE_NUMBER, "--accept-all", "--without-unit-codes", *signin(monkeypatch, "alex")])
        == 0
    )
    assert f"manifest {SAMPLE_NUMBER} received into Vault: 11 package(s) accepted" in capsys.readouterr().out
